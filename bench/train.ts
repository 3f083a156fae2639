// Training/generation throughput of the embedded model (src/nn).
// Usage: node dist/bench/train.js [--steps 10] [--warmup 3] [--seed 1] [--threads N]
//        [--batch 16 --seq 256 --visual 32 --d-model 128 --layers 3 --heads 4 --dff 512 --vocab 1024]  (second shape)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { AdamW } from '../src/nn/adam.js';
import { TransformerModel, type GrpoBatch, type PromptItem, type SftBatch } from '../src/nn/model.js';
import { Rng } from '../src/nn/rng.js';
import { countParams, noDecayParams, parseTransformerConfig, type TransformerConfig } from '../src/nn/transformer.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string' },
    batch: { type: 'string', default: '16' },
    seq: { type: 'string', default: '256' },
    visual: { type: 'string', default: '32' },
    'd-model': { type: 'string', default: '128' },
    layers: { type: 'string', default: '3' },
    heads: { type: 'string', default: '4' },
    dff: { type: 'string', default: '512' },
    vocab: { type: 'string', default: '1024' },
    'gen-prompt': { type: 'string', default: '64' },
    'gen-tokens': { type: 'string', default: '64' },
  },
});
const int = (k: keyof typeof args): number => Number(args[k]);
const seed = int('seed');
const threads = args.threads ? Number(args.threads) : os.availableParallelism();

interface Shape {
  label: string;
  config: TransformerConfig;
  batch: number;
  seq: number;
  visual: number;
}

const reference: Shape = {
  label: 'reference',
  config: parseTransformerConfig({ vocabSize: 1024, dModel: 128, nLayers: 3, nHeads: 4, dFF: 512, maxSeq: 512, patchDim: 2352, timeFeatures: 16 }),
  batch: 8,
  seq: 512,
  visual: 0,
};
const second: Shape = {
  label: 'flags',
  config: parseTransformerConfig({
    vocabSize: int('vocab'),
    dModel: int('d-model'),
    nLayers: int('layers'),
    nHeads: int('heads'),
    dFF: int('dff'),
    maxSeq: Math.max(512, int('seq')),
    patchDim: 2352,
    timeFeatures: 16,
  }),
  batch: int('batch'),
  seq: int('seq'),
  visual: int('visual'),
};

/** Random batch; the first `visual` positions of each row are visual tokens (masked from the loss). */
function makeBatch(s: Shape, rng: Rng): SftBatch {
  const { batch: B, seq: T, visual: V } = s;
  const P = s.config.patchDim;
  const n = B * T;
  const tokens = Int32Array.from({ length: n }, () => rng.int(s.config.vocabSize));
  const targets = Int32Array.from({ length: n }, () => rng.int(s.config.vocabSize));
  const lossMask = new Float32Array(n).fill(1);
  const patchSlot = new Int32Array(n);
  const patches = Float32Array.from({ length: B * V * P }, () => rng.uniform());
  const patchTimes = Float32Array.from({ length: B * V }, (_, i) => (i % V) * 0.5);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < V; t++) {
      patchSlot[b * T + t] = b * V + t + 1;
      lossMask[b * T + t] = 0;
    }
  }
  return { batch: B, seq: T, tokens, targets, lossMask, patchSlot, patches, patchTimes };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (x: number, d = 1): string => x.toFixed(d);

/** GRPO inputs around the batch's own log-probs (ratios near 1, some clipped). */
function toGrpo(b: SftBatch, rng: Rng): GrpoBatch {
  const n = b.batch * b.seq;
  return {
    ...b,
    oldLogprobs: Float32Array.from({ length: n }, () => -7 + 0.2 * rng.normal()),
    refLogprobs: Float32Array.from({ length: n }, () => -7 + 0.2 * rng.normal()),
    advantages: Float32Array.from({ length: n }, () => rng.normal()),
  };
}

async function benchTrain(s: Shape, lossType: 'sft' | 'grpo' = 'sft'): Promise<string[]> {
  const rng = new Rng(seed);
  const model = TransformerModel.init(s.config, seed, { threads });
  const opt = new AdamW({ lr: 1e-3, clipNorm: 1, noDecay: noDecayParams(s.config) });
  const sft = makeBatch(s, rng);
  const batch = lossType === 'grpo' ? toGrpo(sft, rng) : sft;
  const t0 = performance.now();
  await model.lossAndGrads(batch); // builds the graph and session
  const firstMs = performance.now() - t0;
  // onnxruntime's arena and memory pattern settle over the first couple of runs.
  for (let i = 1; i < int('warmup'); i++) await model.lossAndGrads(batch);
  const step: number[] = [];
  const run: number[] = [];
  const feed: number[] = [];
  const adam: number[] = [];
  const cpu: number[] = [];
  let loss = 0;
  for (let i = 0; i < int('steps'); i++) {
    const u0 = process.cpuUsage();
    const a = performance.now();
    const r = await model.lossAndGrads(batch);
    const b = performance.now();
    opt.update(model.params, r.grads);
    const c = performance.now();
    step.push(c - a);
    const u = process.cpuUsage(u0);
    cpu.push((u.user + u.system) / 1000);
    if (process.env["BENCH_VERBOSE"]) console.log(`  step ${i}: ${fmt(c - a)} ms (run ${fmt(r.timing.runMs)}, adam ${fmt(c - b)})`);
    run.push(r.timing.runMs);
    feed.push(r.timing.feedMs);
    adam.push(c - b);
    loss = r.loss;
  }
  await model.release();
  const s_ = median(step) / 1000;
  return [
    `${s.label} ${lossType}`,
    `${s.batch}x${s.seq} (${s.visual} vis)`,
    `d${s.config.dModel} L${s.config.nLayers} H${s.config.nHeads} ff${s.config.dFF} V${s.config.vocabSize}`,
    (countParams(s.config) / 1e6).toFixed(3) + 'M',
    `${fmt(s_, 3)} (mean ${fmt(mean(step) / 1000, 3)}, min ${fmt(Math.min(...step) / 1000, 3)})`,
    fmt(median(cpu) / 1000 / threads, 3),
    fmt((s.batch * s.seq) / s_, 0),
    fmt(median(run)),
    fmt(median(adam)),
    fmt(mean(feed), 2),
    fmt(mean(step) - mean(run) - mean(adam) - mean(feed), 1),
    fmt(firstMs, 0),
    fmt(loss, 3),
  ];
}

async function benchGenerate(s: Shape): Promise<string[][]> {
  const model = TransformerModel.init(s.config, seed, { threads });
  const prng = new Rng(seed + 1);
  const nPrompt = int('gen-prompt');
  const prompt: PromptItem[] = Array.from({ length: nPrompt }, (_, i) =>
    i < nPrompt / 2 ? { patch: Float32Array.from({ length: s.config.patchDim }, () => prng.uniform()), time: i * 0.5 } : { token: prng.int(s.config.vocabSize) },
  );
  const rows: string[][] = [];
  for (const useCache of [true, false]) {
    const opts = { maxNewTokens: int('gen-tokens'), temperature: 1, topP: 0.95, useCache };
    await model.generate(prompt, { ...opts, maxNewTokens: 2, rng: new Rng(seed) }); // warm-up / session build
    const t = performance.now();
    const r = await model.generate(prompt, { ...opts, rng: new Rng(seed) });
    const ms = performance.now() - t;
    rows.push([useCache ? 'KV cache' : 'no cache', String(nPrompt), String(r.tokens.length), fmt(ms, 0), fmt((r.tokens.length * 1000) / ms, 1)]);
  }
  await model.release();
  return rows;
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => '| ' + r.map((c, i) => c.padEnd(w[i]!)).join(' | ') + ' |';
  return [line(head), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const load = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`# bench:train  seed=${seed} threads=${threads} steps=${args.steps} warmup=${args.warmup} node=${process.version} cpus=${os.cpus().length} loadavg=${load()}`);
  for (const s of [reference, second]) console.log(`config ${s.label}: ${JSON.stringify(s.config)} batch=${s.batch} seq=${s.seq} visual=${s.visual}`);
  const rows = [await benchTrain(reference), await benchTrain(reference, 'grpo'), await benchTrain(second)];
  console.log('\n## training step (forward + loss + all gradients + AdamW)');
  console.log(
    table(['shape', 'batch', 'model', 'params', 's/step (median)', 'cpu s/step / threads', 'tokens/s', 'onnx run ms', 'adam ms', 'feeds ms', 'other ms', 'first step ms', 'loss'], rows),
  );
  console.log(`\n## generation (batch 1, prompt half visual, temperature 1, top-p 0.95), model = ${second.label}`);
  console.log(table(['mode', 'prompt', 'new tokens', 'ms', 'tokens/s'], await benchGenerate(second)));
  console.log(`\nloadavg at end: ${load()} (other processes on the machine inflate wall time; cpu s/step / threads is the contention-free estimate)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
