/**
 * Supervised fine-tuning of the embedded model on teacher trajectories (DESIGN.md §5-6, stage 1).
 *
 *   trainSft(config, { resume }) -> { dir, best, final, steps }
 *
 * Every turn of every trajectory record is one example: the turn's input as the policy saw it
 * (question, compact history, latest evidence frames: src/policy/tiny/sequence.ts) and the
 * turn's text as the target. Frames are fetched again with the same tool calls the record
 * made (src/policy/tiny/evidence.ts), through the persistent frame and evidence caches, so
 * ffmpeg decodes each request once across runs.
 * Batches follow a seeded per-epoch shuffle that depends only on (seed, step), so a resumed run
 * continues bit-for-bit. Validation: teacher-forced loss on held-out trajectories and accuracy
 * of the live model answering validation questions through the real agent loop; best/ keeps
 * the best of them. Timing of every step is split into data, onnxruntime and optimizer.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AdamW, addMotion, addStem, addVocabRows, growLayers, lrAt, paramSpecs, Rng, TransformerModel, type ParamStore, type TransformerConfig } from "../nn/index.js";
import { FramemindError } from "../errors.js";
import { setFrameCacheDir } from "../video/index.js";
import { parseTrajectory, type Trajectory } from "../agent/trajectory.js";
import { answer } from "../agent/loop.js";
import { loadDataset, videoPath } from "../../datasets/io.js";
import type { DatasetItem } from "../../datasets/schema.js";
import { Progress } from "../cli/common.js";
import { scoreAnswer } from "../eval/score.js";
import { evidenceRecall } from "../eval/evidence.js";
import { evidenceByTurn, setEvidenceCacheDir } from "../policy/tiny/evidence.js";
import { loadTiny, saveTiny, type LoadedTiny } from "../policy/tiny/checkpoint.js";
import { createTinyPolicy } from "../policy/tiny/policy.js";
import { createUniformPolicy } from "../policy/uniform.js";
import { Tokenizer } from "../policy/tiny/tokenizer.js";
import { exampleLength, turnExample, makeBatch, observationOf, PATCH_DIM, type Example, type ExampleOptions } from "../policy/tiny/sequence.js";
import { framesRung, ModelShape, type SftConfig } from "./config.js";
import { TrainRun } from "./run.js";
import { drillExamples } from "./drills.js";
import { flawRates, hasFlaws } from "./grpo/flawed-teacher.js";

// ---------------------------------------------------------------------------------------------
// Data

export function readTrajectories(file: string): Trajectory[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new FramemindError("FM_ERR_TRAIN_DATA", { path: file, reason: (e as Error).message });
  }
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return parseTrajectory(JSON.parse(l));
      } catch (e) {
        throw new FramemindError("FM_ERR_TRAIN_DATA", { path: file, reason: `line ${i + 1}: ${(e as Error).message.slice(0, 300)}` });
      }
    });
}

/** Each record with its dataset item (items read from the dataset file each record names). */
async function withItems(recs: readonly Trajectory[], rule: string): Promise<Array<{ rec: Trajectory; item: DatasetItem }>> {
  const files = new Map<string, Map<string, DatasetItem>>();
  const out: Array<{ rec: Trajectory; item: DatasetItem }> = [];
  for (const r of recs) {
    if (!r.item?.file) throw new FramemindError("FM_ERR_TRAIN_DATA", { path: r.id, reason: `data.${rule} needs records that name their dataset item (item.file)` });
    let byId = files.get(r.item.file);
    if (!byId) files.set(r.item.file, (byId = new Map((await loadDataset(r.item.file)).map((it) => [it.id, it]))));
    const item = byId.get(r.item.id);
    if (!item) throw new FramemindError("FM_ERR_TRAIN_DATA", { path: r.item.file, reason: `no item '${r.item.id}'` });
    out.push({ rec: r, item });
  }
  return out;
}

/** The records whose frames cover every evidence interval of their item (records of items without intervals are kept). */
export async function withEvidenceSeen(recs: readonly Trajectory[]): Promise<Trajectory[]> {
  return (await withItems(recs, "requireEvidence")).filter(({ rec, item }) => evidenceRecall(rec.framesSeen, item.evidence) !== false).map(({ rec }) => rec);
}

/**
 * The records whose answer the scorer grades right, at most `maxPerItem` distinct ones per item
 * (distinct by their turns' texts; 0 = all): rejection sampling of a model's own runs, e.g. the
 * sampled runs `framemind eval --votes N` keeps in vote-trajectories.jsonl.
 */
export async function withCorrectAnswers(recs: readonly Trajectory[], maxPerItem = 0): Promise<Trajectory[]> {
  const seen = new Map<string, Set<string>>();
  const out: Trajectory[] = [];
  for (const { rec, item } of await withItems(recs, "requireCorrect")) {
    if (!scoreAnswer(item, rec.answer).correct) continue;
    const texts = seen.get(item.id) ?? new Set<string>();
    seen.set(item.id, texts);
    const key = JSON.stringify(rec.turns.map((t) => t.text));
    if (texts.has(key) || (maxPerItem > 0 && texts.size >= maxPerItem)) continue;
    texts.add(key);
    out.push(rec);
  }
  return out;
}

/** "kept.<family>": "kept/total" (records without a family count as "-"). */
function keptByFamily(all: readonly Trajectory[], kept: readonly Trajectory[]): Record<string, string> {
  const fam = (r: Trajectory) => String(r.meta?.family ?? "-");
  const keptSet = new Set(kept);
  const out: Record<string, [number, number]> = {};
  for (const r of all) {
    const c = (out[fam(r)] ??= [0, 0]);
    c[1]++;
    if (keptSet.has(r)) c[0]++;
  }
  return Object.fromEntries(Object.entries(out).sort().map(([f, [k, n]]) => [`kept.${f}`, `${k}/${n}`]));
}

/** Texts the vocabulary is built from: questions, options, turn texts and history words. */
export function vocabularyTexts(recs: readonly Trajectory[]): string[] {
  const out = new Set<string>(["frames low 1", "frames high 1", "error"]);
  for (const r of recs) {
    out.add(r.question);
    for (const o of r.options ?? []) out.add(o);
    for (const t of r.turns) out.add(t.text);
  }
  return [...out];
}

/** One example per turn of each record (turn text + <eos> as the target). */
export async function recordExamples(rec: Trajectory, tok: Tokenizer, opts: ExampleOptions = {}): Promise<Example[]> {
  const evidence = await evidenceByTurn(rec);
  return rec.turns.map((t, i) => {
    const history = rec.turns.slice(0, i).map((h) => ({
      text: h.text,
      observation: observationOf(h.result ? { kind: "frames", result: h.result } : { kind: h.error ? "error" : "none" }),
    }));
    return turnExample({ question: rec.question, ...(rec.options ? { options: rec.options } : {}), history, mustAnswer: t.mustAnswer, frames: evidence[i]! }, t.text, tok, opts);
  });
}

export async function loadExamples(recs: readonly Trajectory[], tok: Tokenizer, maxLen: number, label: string, opts: ExampleOptions = {}): Promise<{ examples: Example[]; dropped: number; ms: number }> {
  const t0 = performance.now();
  const progress = new Progress(`frames (${label})`, recs.length);
  const examples: Example[] = [];
  let dropped = 0;
  for (let i = 0; i < recs.length; i++) {
    for (const e of await recordExamples(recs[i]!, tok, opts)) {
      if (exampleLength(e) > maxLen) dropped++;
      else examples.push(e);
    }
    progress.tick(i + 1);
  }
  return { examples, dropped, ms: performance.now() - t0 };
}

/** Seeded order of epoch `epoch` (independent of everything else, so resume needs only the step). */
function epochOrder(seed: number, epoch: number, n: number): number[] {
  const rng = new Rng(seed).fork(1000 + epoch);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx;
}

/** The examples of (0-based) step `step`. */
export function batchAt(seed: number, step: number, batchSize: number, n: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < batchSize; k++) {
    const g = step * batchSize + k;
    const epoch = Math.floor(g / n);
    out.push(epochOrder(seed, epoch, n)[g % n]!);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation

/** Mean teacher-forced loss per target token. */
export async function validationLoss(model: TransformerModel, examples: readonly Example[], batchSize: number): Promise<number> {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < examples.length; i += batchSize) {
    const b = makeBatch(examples.slice(i, i + batchSize), model.config.maxSeq);
    const lp = await model.logprobs(b);
    for (let j = 0; j < lp.length; j++) {
      if (b.lossMask[j]) {
        sum -= lp[j]!;
        n++;
      }
    }
  }
  return n ? sum / n : NaN;
}

/** Accuracy of the live model answering through the real agent loop (greedy). */
export async function validationAccuracy(loaded: LoadedTiny, datasetFile: string, items: readonly DatasetItem[], valPolicy = "agent"): Promise<{ accuracy: number; turns: number; visualTokens: number; invalid: number }> {
  const tiny = createTinyPolicy({ loaded });
  const uniform = framesRung(valPolicy);
  const policy = uniform ? createUniformPolicy({ ...uniform, answerer: tiny }) : tiny;
  let correct = 0, turns = 0, tokens = 0, invalid = 0;
  for (const item of items) {
    const r = await answer({ video: videoPath(datasetFile, item), question: item.question, ...(item.options ? { options: item.options } : {}), policy, settings: { ladder: "tiny" } });
    if (scoreAnswer(item, r.answer).correct) correct++;
    turns += r.record.turns.length;
    tokens += r.record.tokens.visual;
    invalid += r.record.invalidCalls;
  }
  const n = Math.max(1, items.length);
  return { accuracy: correct / n, turns: turns / n, visualTokens: tokens / n, invalid: invalid / n };
}

// ---------------------------------------------------------------------------------------------
// Training

export interface SftOptions {
  resume?: boolean;
  /** Quiet progress (tests). */
  quiet?: boolean;
}

export interface SftResult {
  dir: string;
  steps: number;
  best?: string;
  final: string;
  /** Mean milliseconds per step: data (batch building), run (onnxruntime), optimizer. */
  timing: { dataMs: number; runMs: number; optMs: number; stepMs: number };
}

interface TrainerState {
  step: number;
  best: number | null;
  bestStep: number | null;
}

/** Learning-rate multiplier per parameter from `optim.lrScale` (the longest matching name prefix wins); a prefix naming no parameter is an error. */
export function lrScales(names: readonly string[], byPrefix: Readonly<Record<string, number>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const prefix of Object.keys(byPrefix)) {
    if (!names.some((n) => n.startsWith(prefix))) throw new FramemindError("FM_ERR_TRAIN_CONFIG", { reason: `optim.lrScale: no parameter starts with '${prefix}'` });
  }
  for (const n of names) {
    const best = Object.keys(byPrefix).filter((p) => n.startsWith(p)).sort((a, b) => b.length - a.length)[0];
    if (best !== undefined) out.set(n, byPrefix[best]!);
  }
  return out;
}

/** The config shape of a model (what `model` in an SFT config would have to say to build it). */
function shapeOf(m: TransformerConfig, frameRefs: number): SftConfig["model"] {
  return { dModel: m.dModel, nLayers: m.nLayers, nHeads: m.nHeads, dFF: m.dFF, maxSeq: m.maxSeq, timeFeatures: m.timeFeatures, frameRefs, stemChannels: m.stemChannels, stemCell: m.stemCell, stemStride: m.stemStride, stemPool: m.stemPool, stemBeside: m.stemBeside, patchCells: m.patchCells, patchMotion: m.patchMotion };
}

/** The init model as fine-tuning starts from it: `growLayers` blocks and, with `addMotion` / `addStem`, motion features / a conv stem, all at the identity. */
function grownInit(cfg: SftConfig): { init: LoadedTiny; grown: { config: TransformerConfig; params: ParamStore }; added: string[] } {
  const loaded = loadTiny(cfg.init);
  // Base pieces the init vocabulary lacks (a tool argument added since, like "region") get fresh rows.
  const { tokenizer, added } = loaded.tokenizer.withBasePieces();
  const init = { ...loaded, tokenizer };
  const wider = addVocabRows(loaded.model.config, loaded.model.params, added.length, new Rng(cfg.seed + 2));
  const deeper = growLayers(wider.config, wider.params, cfg.growLayers, new Rng(cfg.seed));
  const moving = cfg.addMotion ? addMotion(deeper.config, deeper.params) : deeper;
  return { init, grown: cfg.addStem ? addStem(moving.config, moving.params, cfg.addStem, new Rng(cfg.seed + 1)) : moving, added };
}

/** The model shape a run folder was started with, if it has a config.json. */
function savedShape(dir: string): SftConfig["model"] | undefined {
  const file = join(dir, "config.json");
  return existsSync(file) ? ModelShape.parse((JSON.parse(readFileSync(file, "utf8")) as { model?: unknown }).model) : undefined;
}

export async function trainSft(cfg: SftConfig, opts: SftOptions = {}): Promise<SftResult> {
  if (cfg.data.frameCache) {
    setFrameCacheDir(join(cfg.data.frameCache, "frames"));
    setEvidenceCacheDir(join(cfg.data.frameCache, "evidence"));
  }
  // An init model brings its own shape: record that one (a bad path fails here, before any work).
  // A resumed init run reads it from its own config.json: the init folder may be gone by then.
  const saved = opts.resume && cfg.init ? savedShape(cfg.run.out) : undefined;
  let fromInit = cfg.init && !saved ? grownInit(cfg) : undefined;
  if (saved) cfg = { ...cfg, model: saved };
  else if (fromInit) cfg = { ...cfg, model: shapeOf(fromInit.grown.config, fromInit.init.tokenizer.frameRefs) };
  const run = TrainRun.open({ dir: cfg.run.out, config: cfg as unknown as Record<string, unknown>, resume: opts.resume, keep: cfg.run.keepCheckpoints });
  const sessionOptions = cfg.run.threads ? { threads: cfg.run.threads } : {};
  const bestBy = cfg.run.bestBy === "auto" ? (cfg.data.valDataset ? "val_accuracy" : cfg.data.val ? "val_loss" : null) : cfg.run.bestBy;

  const readRecs = cfg.data.train ? readTrajectories(cfg.data.train) : [];
  const skip = new Set<string>(cfg.data.skipFamilies);
  const allRecs = skip.size ? readRecs.filter((r) => !skip.has(String(r.meta?.family))) : readRecs;
  if (skip.size) run.log({ step: 0, kind: "data-filter", rule: "skipFamilies", kept: allRecs.length, dropped: readRecs.length - allRecs.length, ...keptByFamily(readRecs, allRecs) });
  const rightRecs = cfg.data.requireCorrect ? await withCorrectAnswers(allRecs, cfg.data.maxPerItem) : allRecs;
  if (cfg.data.requireCorrect) run.log({ step: 0, kind: "data-filter", rule: "requireCorrect", maxPerItem: cfg.data.maxPerItem, kept: rightRecs.length, dropped: allRecs.length - rightRecs.length, ...keptByFamily(allRecs, rightRecs) });
  const trainRecs = cfg.data.requireEvidence ? await withEvidenceSeen(rightRecs) : rightRecs;
  if (cfg.data.requireEvidence) run.log({ step: 0, kind: "data-filter", rule: "requireEvidence", kept: trainRecs.length, dropped: rightRecs.length - trainRecs.length, ...keptByFamily(rightRecs, trainRecs) });
  if (!trainRecs.length && !cfg.data.drills.n && !cfg.data.drills.answerTurns.n) throw new FramemindError("FM_ERR_TRAIN_DATA", { path: cfg.data.train, reason: "no trajectories (and no drills)" });

  // Model, tokenizer, optimizer state: from the newest checkpoint (resume), the init model, or fresh.
  const from = opts.resume ? run.latestCheckpoint() : undefined;
  let loaded: LoadedTiny;
  let state: TrainerState = { step: 0, best: null, bestStep: null };
  if (from) {
    const l = loadTiny(from);
    loaded = { ...l, model: new TransformerModel(l.model.config, l.model.params, sessionOptions) };
    state = (l.meta.trainer as TrainerState | undefined) ?? state;
    run.truncateMetrics(state.step);
  } else if (cfg.init) {
    const { init: l, grown, added } = (fromInit ??= grownInit(cfg));
    loaded = { model: new TransformerModel(grown.config, grown.params, sessionOptions), tokenizer: l.tokenizer, version: "training", meta: {} };
    const unknown = new Set(vocabularyTexts(readRecs).flatMap((t) => l.tokenizer.encode(t).unknown));
    run.log({ step: 0, kind: "init", path: resolve(cfg.init), version: l.version, layers: l.model.config.nLayers, grownTo: grown.config.nLayers, motion: grown.config.patchMotion ? 1 : 0, vocab: l.tokenizer.size, vocabAdded: added.join(" "), unknownWords: [...unknown].slice(0, 50).join(" "), unknownCount: unknown.size });
    if (unknown.size) process.stderr.write(`warning: ${unknown.size} word(s) of the training data are not in ${cfg.init}'s vocabulary and train as <unk>: ${[...unknown].slice(0, 10).join(" ")}\n`);
  } else {
    const { frameRefs, ...shape } = cfg.model;
    // Every trajectory read, before skipFamilies / requireEvidence: drills still ask and answer the
    // skipped families' questions, and their words must not become <unk>.
    const tokenizer = Tokenizer.build(vocabularyTexts(readRecs), { frameRefs });
    const config: TransformerConfig = { ...shape, vocabSize: tokenizer.size, patchDim: PATCH_DIM, lnEps: 1e-5, patchTokens: frameRefs > 0 };
    loaded = { model: TransformerModel.init(config, cfg.seed, sessionOptions), tokenizer, version: "training", meta: {} };
  }
  const { model, tokenizer } = loaded;
  const maxLen = cfg.data.maxLen || model.config.maxSeq;
  const exampleOpts = { optionText: cfg.data.optionAnswers === "text" };
  const train = await loadExamples(trainRecs, tokenizer, maxLen, "train", exampleOpts);
  // Drills (every turn of n items), then answer-turn drills (the last answerTurns.lastTurns turns of answerTurns.n other items).
  const { uniform: uniformSpec, reading, countSteps, orderFromClip, changeReads, zoomRegion, readJitter, changeZoom, changeMargin, changeCompare, answerTurns } = cfg.data.drills;
  const teacher = { countSteps, orderFromClip, changeReads, zoomRegion, readJitter, changeZoom, changeMargin, changeCompare };
  const teacherSwitches = Object.fromEntries(Object.entries(teacher).map(([k, on]) => [k, typeof on === "number" ? on : on ? 1 : 0])); // as metrics.jsonl logs them
  const uniform = framesRung(uniformSpec);
  const flaws = hasFlaws(cfg.data.drills) ? { flaws: { ...flawRates(cfg.data.drills), seed: cfg.data.drills.seed } } : {};
  for (const set of [{ ...cfg.data.drills, kind: "drills", lastTurns: 0 }, { ...answerTurns, kind: "answer-turns" }]) {
    if (!set.n) continue;
    const t0 = performance.now();
    const progress = new Progress(set.kind, set.n);
    const { n, seed, families, lastTurns } = set;
    const drills = await drillExamples({ n, seed, reading, teacher, families, lastTurns, ...exampleOpts, requireEvidence: cfg.data.requireEvidence, ...(uniform ? { uniform } : {}), ...flaws }, tokenizer, maxLen, (d) => progress.tick(d));
    train.examples.push(...drills);
    run.log({ step: state.step, kind: set.kind, items: n, seed, uniform: uniformSpec, reading: reading && !lastTurns ? 1 : 0, lastTurns, ...teacherSwitches, families: JSON.stringify(families), readingViews: drills.filter((e) => e.reading).length, examples: drills.length, ms: Math.round(performance.now() - t0) });
  }
  const val = cfg.data.val ? await loadExamples(readTrajectories(cfg.data.val), tokenizer, maxLen, "val", exampleOpts) : null;
  const valItems = cfg.data.valDataset ? (await loadDataset(cfg.data.valDataset)).slice(0, cfg.data.valQuestions || undefined) : [];
  if (cfg.data.answerWeight !== 1) {
    const answerTag = tokenizer.encode("<answer>").ids[0]!;
    for (const e of train.examples) if (e.target.includes(answerTag)) e.weight = cfg.data.answerWeight;
  }
  if (cfg.data.zoomWeight !== 1) {
    const regionKey = tokenizer.encode('"region"').ids[1]!;
    for (const e of train.examples) if (e.target.includes(regionKey)) e.weight = cfg.data.zoomWeight;
  }
  if (!train.examples.length) throw new FramemindError("FM_ERR_TRAIN_DATA", { path: cfg.data.train, reason: `every example is longer than ${maxLen} tokens` });
  const lens = train.examples.map(exampleLength);
  run.log({ step: state.step, kind: "data", examples: train.examples.length, dropped: train.dropped, meanLen: lens.reduce((a, b) => a + b, 0) / lens.length, maxLen: Math.max(...lens), vocab: tokenizer.size, params: paramSpecs(model.config).reduce((n, s) => n + s.shape.reduce((p, d) => p * d, 1), 0), frameLoadMs: Math.round(train.ms) });

  const readingViews = train.examples.filter((e) => e.reading);
  if (cfg.data.drills.readingWarmup && !readingViews.length) throw new FramemindError("FM_ERR_TRAIN_DATA", { path: cfg.data.train, reason: "data.drills.readingWarmup needs reading views (data.drills.reading with drills of a reading family)" });
  const noDecay = new Set(paramSpecs(model.config).filter((s) => s.noDecay).map((s) => s.name));
  noDecay.add("tok_emb"); // tied with the output head: decaying it fights the logits
  const opt = new AdamW({ lr: cfg.optim.lr, beta1: cfg.optim.beta1, beta2: cfg.optim.beta2, weightDecay: cfg.optim.weightDecay, clipNorm: cfg.optim.clipNorm || undefined, noDecay, lrScale: lrScales(Object.keys(model.params), cfg.optim.lrScale) });
  if (loaded.optimizer) opt.setState(loaded.optimizer);

  const save = (dir: string) => saveTiny(dir, model, tokenizer, { optimizer: opt.getState(), rng: new Rng(cfg.seed).state(), meta: { trainer: state, config: cfg } });
  run.onStop(() => {
    run.checkpoint(state.step, save);
  });

  const validate = async (): Promise<void> => {
    const row: Record<string, number> = {};
    if (val?.examples.length) row.loss = await validationLoss(model, val.examples, cfg.run.batchSize);
    if (valItems.length) {
      const a = await validationAccuracy({ ...loaded, version: `step-${state.step}` }, cfg.data.valDataset, valItems, cfg.data.valPolicy);
      row.accuracy = a.accuracy;
      row.turns = a.turns;
      row.visualTokens = a.visualTokens;
      row.invalidCalls = a.invalid;
    }
    if (Object.keys(row).length === 0) return;
    run.log({ step: state.step, kind: "val", ...row });
    const score = bestBy === "val_accuracy" ? row.accuracy : bestBy === "val_loss" ? -row.loss! : undefined;
    if (score !== undefined && (state.best === null || score > state.best)) {
      state.best = score;
      state.bestStep = state.step;
      run.promote(run.checkpoint(state.step, save), "best");
    }
  };

  const total = cfg.run.steps;
  const startStep = state.step; // the ETA counts only this process's steps
  const progress = opts.quiet ? null : new Progress(`sft (from step ${startStep})`, total - startStep);
  const sched = { baseLr: cfg.optim.lr, warmupSteps: cfg.optim.warmupSteps, totalSteps: total, decay: cfg.optim.decay, minRatio: cfg.optim.minRatio };
  const t0 = performance.now();
  const acc = { dataMs: 0, runMs: 0, optMs: 0, n: 0, loss: 0, tokens: 0, readingSteps: 0 };
  const sums = { dataMs: 0, runMs: 0, optMs: 0, n: 0 };
  while (state.step < total && !run.stopRequested) {
    if (cfg.run.maxSeconds && (performance.now() - t0) / 1000 > cfg.run.maxSeconds) break;
    const s0 = performance.now();
    const pool = state.step < cfg.data.drills.readingWarmup ? readingViews : train.examples;
    const batch = makeBatch(batchAt(cfg.seed, state.step, cfg.run.batchSize, pool.length).map((i) => pool[i]!), model.config.maxSeq);
    const s1 = performance.now();
    const res = await model.lossAndGrads(batch);
    const s2 = performance.now();
    const lr = lrAt(state.step, sched);
    const info = opt.update(model.params, res.grads, lr);
    const s3 = performance.now();
    state.step++;
    acc.dataMs += s1 - s0;
    acc.runMs += s2 - s1;
    acc.optMs += s3 - s2;
    acc.loss += res.loss;
    acc.tokens += batch.batch * batch.seq;
    if (pool === readingViews) acc.readingSteps++;
    acc.n++;
    if (run.due(state.step, cfg.run.logEvery) || state.step === total) {
      const ms = (acc.dataMs + acc.runMs + acc.optMs) / acc.n;
      run.log({ step: state.step, kind: "train", ...(acc.readingSteps ? { readingSteps: acc.readingSteps } : {}), loss: acc.loss / acc.n, lr, gradNorm: info.gradNorm, stepMs: ms, dataMs: acc.dataMs / acc.n, runMs: acc.runMs / acc.n, optMs: acc.optMs / acc.n, tokensPerS: (acc.tokens / (acc.dataMs + acc.runMs + acc.optMs)) * 1000 });
      sums.dataMs += acc.dataMs;
      sums.runMs += acc.runMs;
      sums.optMs += acc.optMs;
      sums.n += acc.n;
      progress?.tick(state.step - startStep, `step ${state.step} loss ${(acc.loss / acc.n).toFixed(3)} ${ms.toFixed(0)} ms/step`);
      Object.assign(acc, { dataMs: 0, runMs: 0, optMs: 0, n: 0, loss: 0, tokens: 0, readingSteps: 0 });
    }
    if (run.due(state.step, cfg.run.evalEvery) || state.step === total) await validate();
    if (run.due(state.step, cfg.run.checkpointEvery)) run.checkpoint(state.step, save);
  }
  run.checkpoint(state.step, save);
  const final = join(run.dir, "final");
  save(final);
  run.finish();
  const n = Math.max(1, sums.n);
  return {
    dir: run.dir,
    steps: state.step,
    ...(state.bestStep !== null ? { best: join(run.dir, "best") } : {}),
    final,
    timing: { dataMs: sums.dataMs / n, runMs: sums.runMs / n, optMs: sums.optMs / n, stepMs: (sums.dataMs + sums.runMs + sums.optMs) / n },
  };
}
