/**
 * `train-framemind grpo`: DRFS-GRPO from an SFT checkpoint (DESIGN.md §6), with a run folder:
 *
 *   config.json       the resolved config (+ versions, seed, the DRFS starts)
 *   metrics.jsonl     one line per step (step = updates done, 1-based) (reward parts, accuracy, KL, clip fraction, entropy,
 *                     advantage stats, filtered groups, turns, tokens, calls, timing under `time`)
 *   eval.jsonl        validation (greedy) at step 0 and every `eval.every` steps
 *   samples.jsonl     a few graded trajectories per step
 *   checkpoints/      step-NNNNNN/ (weights + vocab + AdamW moments + trainer state)
 *   best/             the checkpoint with the best validation accuracy (a servable model folder)
 *
 * Folder creation, checkpoint pruning and best/ promotion are src/train/run.ts's (TrainRun);
 * metrics rows are nested JSON (reward parts, calls per tool, timing) with their own 4-panel plot.
 *   plot.svg          reward, accuracy, KL, tokens per step; rewritten after every step
 *
 * Resume: the step is the only trainer state besides weights and optimizer moments (the data
 * order and every rollout's stream derive from (seed, step)), so `--resume` reloads the latest
 * checkpoint, cuts the logs back to it and continues; a run killed at any moment reproduces the
 * uninterrupted run's metrics step by step, timing excepted. SIGINT/SIGTERM (via `signal`) stop
 * the rollouts, and the last completed step is checkpointed before returning.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { readDataset, videoPath } from "../../datasets/io.js";
import { FramemindError } from "../errors.js";
import { writeFileAtomic, type AdamWState } from "../nn/index.js";
import { loadTiny, saveTiny, type LoadedTiny } from "../policy/tiny/checkpoint.js";
import { packageVersion } from "../../prompts/index.js";
import { binaries, binaryVersion, enableFrameStore, setFrameCacheDir, uniformTimes } from "../video/index.js";
import { getFramesTool, probeVideoTool } from "../../tools/index.js";
import { parseGrpoConfig, type GrpoConfig } from "./grpo/config.js";
import { renderPlot, type PlotPoint } from "./grpo/plot.js";
import { pool } from "./grpo/rollout.js";
import { tinyTrainable } from "./grpo/tiny.js";
import { TrainRun } from "./run.js";
import { evaluate, grpoStep, makeOptimizer, starts, startLabel, type DataItem, type EvalSummary, type StepMetrics } from "./grpo/trainer.js";

export { parseGrpoConfig, type GrpoConfig } from "./grpo/config.js";

export interface GrpoRunOptions {
  config: GrpoConfig;
  /** Continue this run folder from its latest checkpoint (its config.json wins, except run.stopAfter). */
  resume?: string;
  signal?: AbortSignal;
  /** Called after every step (progress display). */
  onStep?: (m: StepMetrics, done: number, total: number) => void;
  onEval?: (step: number, e: EvalSummary) => void;
  log?: (line: string) => void;
}

export interface GrpoRunResult {
  runDir: string;
  /** Steps completed in total (all processes). */
  steps: number;
  interrupted: boolean;
  best: { step: number; accuracy: number; path: string } | null;
  lastCheckpoint: string | null;
}

interface TrainerState {
  step: number;
  best: { step: number; accuracy: number } | null;
}


export async function loadSplit(file: string, max = 0): Promise<DataItem[]> {
  if (!file) return [];
  const d = await readDataset(file, { checkVideos: false });
  if (d.errors.length) throw new FramemindError("FM_ERR_TRAIN_DATA", { path: file, reason: `${d.errors.length} invalid line(s); first: line ${d.errors[0]!.line}: ${d.errors[0]!.message}` });
  const items = d.items.map(({ item }) => ({ item, video: videoPath(file, item) }));
  if (items.length === 0) throw new FramemindError("FM_ERR_TRAIN_DATA", { path: file, reason: "no items" });
  return max > 0 ? items.slice(0, max) : items;
}

/** Keeps the lines of a JSONL log whose `step` passes `keep` (cuts a resumed run's logs back). */
function truncateLog(file: string, keep: (step: number) => boolean): void {
  if (!existsSync(file)) return;
  const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "");
  const kept = lines.filter((l) => {
    try {
      return keep((JSON.parse(l) as { step: number }).step);
    } catch {
      return false; // a line cut by a kill
    }
  });
  writeFileAtomic(file, kept.map((l) => l + "\n").join(""));
}

function versions(): Record<string, string> {
  let ffmpeg = "unknown";
  try {
    ffmpeg = binaryVersion(binaries().ffmpeg).version;
  } catch {
    // recorded as unknown; `framemind doctor` explains
  }
  let onnxruntime = "unknown";
  try {
    onnxruntime = (createRequire(import.meta.url)("onnxruntime-node/package.json") as { version: string }).version;
  } catch {
    // recorded as unknown
  }
  return { framemind: packageVersion(), node: process.version, ffmpeg, onnxruntime };
}

/**
 * Decodes each training video's DRFS starts once (tolerant uniform overviews at each start's
 * rung) into the frame cache, so every rollout's first observation is a lookup.
 */
async function prewarm(c: GrpoConfig, data: readonly DataItem[], signal?: AbortSignal): Promise<{ seconds: number; decodes: number }> {
  const t0 = performance.now();
  const st = starts(c);
  let decodes = 0;
  await pool(data, 2, async (d) => {
    const ctx = (maxFrames: number) => ({ ladder: c.rollout.ladder, paths: {}, maxFrames, ...(signal ? { signal } : {}) });
    const info = await probeVideoTool.run(d.video, {}, ctx(1));
    for (const s of st) {
      // The same tool call, times and mode as the loop's first observation, so the cache key matches.
      const r = await getFramesTool.run(d.video, { timestamps: uniformTimes(info.duration, s.frames), rung: s.rung, mode: "tolerant" }, ctx(Math.max(s.frames, c.rollout.maxFramesPerCall)));
      if (!r.cached) decodes++;
    }
  });
  return { seconds: (performance.now() - t0) / 1000, decodes };
}

export async function runGrpo(o: GrpoRunOptions): Promise<GrpoRunResult> {
  const log = o.log ?? (() => undefined);
  let config = o.config;
  const runDir = resolve(o.resume ?? config.run.out);
  if (o.resume) {
    if (!existsSync(join(runDir, "config.json"))) throw new FramemindError("FM_ERR_TRAIN_CONFIG", { reason: `cannot resume ${runDir}: no config.json` });
    const saved = JSON.parse(readFileSync(join(runDir, "config.json"), "utf8")) as { grpo: { eval?: { guided?: boolean } } };
    // Runs started before eval.guided existed validated unguided: a resume keeps their curve comparable.
    if (saved.grpo.eval && saved.grpo.eval.guided === undefined) saved.grpo.eval.guided = false;
    config = parseGrpoConfig(saved.grpo);
    config.run.stopAfter = o.config.run.stopAfter;
    config.run.maxSeconds = o.config.run.maxSeconds;
  }
  const c = config;
  const run = TrainRun.open({ dir: runDir, config: { grpo: c, versions: versions(), starts: starts(c) }, resume: !!o.resume, keep: 2 });
  if (c.rollout.frameCacheDir) setFrameCacheDir(resolve(c.rollout.frameCacheDir));
  if (c.rollout.frameStore) enableFrameStore();

  const train = await loadSplit(c.data.train, c.data.maxTrainItems);
  const val = c.data.val ? await loadSplit(c.data.val, c.data.maxValItems) : [];

  // The live model starts from the init (SFT) weights or the latest checkpoint; the reference stays at init.
  const latest = o.resume ? run.latestCheckpoint() : undefined;
  const init = loadTiny(c.init);
  if (!latest) writeFileAtomic(join(runDir, "init.json"), JSON.stringify({ path: resolve(c.init), version: init.version }) + "\n");
  let live: LoadedTiny = init;
  let state: TrainerState = { step: 0, best: null };
  let optimizerState: AdamWState | undefined;
  if (latest) {
    live = loadTiny(latest);
    optimizerState = live.optimizer;
    state = live.meta["trainer"] as TrainerState;
    log(`resuming ${runDir} at step ${state.step}`);
  }
  // With fresh init weights the live model IS init, so the reference needs its own copy. It is
  // kept with beta = 0 too: the reported KL then measures the drift the ablation lets happen.
  const ref = latest ? init.model : loadTiny(c.init).model;
  const optimizer = makeOptimizer(c);
  if (optimizerState) optimizer.setState(optimizerState);
  const trainable = tinyTrainable(live, { guided: c.rollout.guided });
  const evalPolicy = c.eval.guided === c.rollout.guided ? trainable : tinyTrainable(live, { guided: c.eval.guided });
  const parts = { config: c, model: live.model, ref, optimizer, trainable, train };

  const metricsFile = join(runDir, "metrics.jsonl");
  const evalFile = join(runDir, "eval.jsonl");
  const samplesFile = join(runDir, "samples.jsonl");
  // Rows after the checkpoint are redone identically. Validation at the checkpoint's step is part
  // of its state (best); without a checkpoint everything is redone.
  truncateLog(metricsFile, (s) => s <= state.step);
  truncateLog(samplesFile, (s) => s <= state.step);
  truncateLog(evalFile, (s) => (latest ? s <= state.step : false));

  const plotPoints: PlotPoint[] = [];
  const valPoints: Array<{ step: number; accuracy: number }> = [];
  const toPoint = (m: StepMetrics): PlotPoint => ({ step: m.step, reward: m.reward.mean, accuracy: m.accuracy, kl: m.update.kl, tokens: m.visualTokens });
  for (const l of readLines(metricsFile)) plotPoints.push(toPoint(JSON.parse(l) as StepMetrics));
  for (const l of readLines(evalFile)) valPoints.push(JSON.parse(l) as { step: number; accuracy: number });
  const writePlot = () =>
    writeFileAtomic(join(runDir, "plot.svg"), renderPlot(`DRFS-GRPO ${runDir.split("/").pop()} · seed ${c.seed} · G=${c.rollout.groupSize} · starts ${starts(c).map(startLabel).join(", ")} · beta ${c.update.beta}`, plotPoints, valPoints));

  const save = (dir: string, meta: Record<string, unknown>, withOptimizer: boolean) =>
    saveTiny(dir, live.model, live.tokenizer, { ...(withOptimizer ? { optimizer: optimizer.getState() } : {}), meta: { trainer: state, seed: c.seed, ...meta } });
  let lastCheckpoint: string | null = latest ?? null;
  let savedAt = latest ? state.step : -1;
  const checkpoint = () => {
    lastCheckpoint = run.checkpoint(state.step, (dir) => save(dir, {}, true));
    savedAt = state.step;
  };

  const validate = async () => {
    if (val.length === 0) return;
    const e = await evaluate(evalPolicy, val, c, o.signal);
    if (o.signal?.aborted) return;
    appendFileSync(evalFile, JSON.stringify({ step: state.step, split: "val", accuracy: e.accuracy, items: e.items, stats: e.stats }) + "\n");
    valPoints.push({ step: state.step, accuracy: e.accuracy });
    o.onEval?.(state.step, e);
    if (!state.best || e.accuracy > state.best.accuracy) {
      state = { ...state, best: { step: state.step, accuracy: e.accuracy } };
      save(join(runDir, "best"), { valAccuracy: e.accuracy, source: `grpo step ${state.step} of ${relative(process.cwd(), runDir) || "."}` }, false);
    }
  };

  if (c.rollout.prewarm && state.step === 0) {
    const w = await prewarm(c, train, o.signal);
    log(`prewarm: ${w.decodes} overview decodes in ${w.seconds.toFixed(1)} s`);
  }
  if (state.step === 0 && c.eval.atStart) await validate();

  let interrupted = false;
  let ranHere = 0;
  const t0 = performance.now();
  const outOfTime = () => c.run.maxSeconds > 0 && (performance.now() - t0) / 1000 >= c.run.maxSeconds;
  while (state.step < c.run.steps && !(ranHere > 0 && outOfTime())) {
    if (o.signal?.aborted) {
      interrupted = true;
      break;
    }
    if (c.run.stopAfter > 0 && ranHere >= c.run.stopAfter) break;
    let out;
    try {
      out = await grpoStep(parts, state.step, o.signal);
    } catch (e) {
      if (o.signal?.aborted) {
        interrupted = true;
        break;
      }
      throw e;
    }
    state = { ...state, step: state.step + 1 };
    ranHere++;
    const m: StepMetrics = { ...out.metrics, step: state.step };
    appendFileSync(metricsFile, JSON.stringify(m) + "\n");
    const G = c.rollout.groupSize;
    const samples = out.trajectories.filter((_, k) => k % G === 0).slice(0, c.run.samplesPerStep);
    for (const t of samples) appendFileSync(samplesFile, JSON.stringify({ step: state.step, trajectory: t }) + "\n");
    plotPoints.push(toPoint(m));
    o.onStep?.(m, state.step, c.run.steps);
    const last = state.step === c.run.steps || outOfTime();
    if ((c.eval.every > 0 && state.step % c.eval.every === 0) || last) await validate();
    if (run.due(state.step, c.run.checkpointEvery) || last) checkpoint();
    writePlot();
  }
  // Exit checkpoint (SIGINT/SIGTERM, stopAfter): the last completed step, unless already saved.
  if (state.step > 0 && savedAt !== state.step) checkpoint();
  writePlot();
  await Promise.all([init.model.release(), ...(live !== init ? [live.model.release()] : []), ...(ref !== init.model ? [ref.release()] : [])]);
  return { runDir, steps: state.step, interrupted, best: state.best ? { ...state.best, path: join(runDir, "best") } : null, lastCheckpoint };
}

function readLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l.trim() !== "") : [];
}
