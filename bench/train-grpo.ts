// DRFS-GRPO throughput on this machine: rollouts/s through the real agent loop, seconds per
// update step, and the share of rollout time in video work (ffmpeg decode / cache lookups).
// Usage: node dist/bench/train-grpo.js --init MODEL_DIR --data TRAIN.jsonl [--steps 3] [--group 8] [--questions 2] [--guided off|on|both] [--prewarm on|off]
//        (both: a warm-up pass, then unguided and guided rollouts, same seed, side by side, with the guided/unguided rollouts/s ratio)
//        node dist/bench/train-grpo.js --run RUN_DIR      (summarize an existing run's metrics.jsonl)
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseGrpoConfig, runGrpo } from '../src/train/grpo.js';
import type { StepMetrics } from '../src/train/grpo/trainer.js';

const { values: a } = parseArgs({
  options: {
    init: { type: 'string', default: 'models/framemind-tiny' },
    data: { type: 'string', default: 'runs/data/synth/train-a.jsonl' },
    run: { type: 'string' },
    steps: { type: 'string', default: '3' },
    group: { type: 'string', default: '8' },
    questions: { type: 'string', default: '2' },
    guided: { type: 'string', default: 'off' },
    /** off: skip decoding every training video's starts first (minutes on a 1200-item split); first calls then decode. */
    prewarm: { type: 'string', default: 'on' },
  },
});

const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

function summarize(file: string): Record<string, number> {
  const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as StepMetrics);
  return {
    steps: rows.length,
    rolloutsPerStep: rows[0]?.rollouts ?? 0,
    rolloutsPerS: median(rows.map((m) => m.time.rolloutsPerS)),
    rolloutSPerStep: median(rows.map((m) => m.time.rolloutS)),
    updateSPerStep: median(rows.map((m) => m.time.updateS)),
    optimizerStepsPerStep: median(rows.map((m) => m.update.optimizerSteps)),
    trainTokensPerStep: median(rows.map((m) => m.update.tokens)),
    videoShareOfRollout: median(rows.map((m) => m.time.videoShare)),
    ffmpegShareOfRollout: median(rows.map((m) => m.time.ffmpegShare)),
    frameCacheHitRate: median(rows.map((m) => m.time.cacheHitRate)),
  };
}

const machine = { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, node: process.version };

/** A fresh short run; returns its summarized metrics. */
async function measure(guided: boolean): Promise<Record<string, number>> {
  const tmp = mkdtempSync(join(os.tmpdir(), 'fm-bench-grpo-'));
  try {
    const config = parseGrpoConfig({
      init: a.init,
      data: { train: a.data, val: '' },
      rollout: { questionsPerStep: Number(a.questions), groupSize: Number(a.group), guided, prewarm: a.prewarm !== 'off' },
      eval: { every: 0, atStart: false },
      run: { out: join(tmp, 'run'), steps: Number(a.steps), checkpointEvery: 1000 },
    });
    await runGrpo({ config });
    return summarize(join(tmp, 'run', 'metrics.jsonl'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (a.run) {
  const file = join(a.run, 'metrics.jsonl');
  if (!existsSync(file)) throw new Error(`no metrics at ${file}`);
  console.log(JSON.stringify({ machine, source: a.run, ...summarize(file) }, null, 2));
} else {
  if (!['off', 'on', 'both'].includes(a.guided)) throw new Error(`--guided must be off, on or both (got ${a.guided})`);
  const source = `${a.init} on ${a.data}`;
  if (a.guided !== 'both') console.log(JSON.stringify({ machine, source, guided: a.guided === 'on', ...(await measure(a.guided === 'on')) }, null, 2));
  else {
    // A discarded first pass decodes the steps' videos into the frame caches, so neither side pays for it.
    await measure(false);
    const unguided = await measure(false);
    const guided = await measure(true);
    console.log(JSON.stringify({ machine, source, unguided, guided, guidedOverUnguidedRolloutsPerS: guided.rolloutsPerS! / unguided.rolloutsPerS! }, null, 2));
  }
}
