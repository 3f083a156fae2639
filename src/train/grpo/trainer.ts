/**
 * One DRFS-GRPO step, as a pure function of (weights, optimizer state, step index, seed):
 *  1. pick the step's questions (a seeded permutation per data epoch);
 *  2. G rollouts per question through the real agent loop, rollout i from DRFS start i mod |starts|,
 *     each with its own seeded sampling stream;
 *  3. grade every trajectory (rewards/), group-normalize advantages, drop equal-reward groups;
 *  4. PPO epochs on the generated tokens of the kept groups.
 * Nothing here depends on wall-clock or on the order in which rollouts finish, which is what
 * makes a killed-and-resumed run reproduce the uninterrupted one step by step.
 */
import type { DatasetItem } from "../../../datasets/schema.js";
import { AdamW, lrAt, Rng, type TransformerModel } from "../../nn/index.js";
import type { Trajectory } from "../../agent/trajectory.js";
import { batchAdvantages } from "../advantage.js";
import { drfsStarts, startFor, type DrfsStart } from "../drfs.js";
import { computeReward } from "../rewards/index.js";
import { rewardContext } from "../rewards/context.js";
import type { GrpoConfig } from "./config.js";
import { rolloutStats, type GradedRollout, type RolloutStats } from "./metrics.js";
import { agentSettings, pool, runRollout, type Rollout, type RolloutSettings, type TrainablePolicy } from "./rollout.js";
import { grpoUpdate, type TrainRow, type UpdateStats } from "./update.js";
import { answer } from "../../agent/loop.js";

export interface DataItem {
  item: DatasetItem;
  /** Absolute video path. */
  video: string;
}

export interface StepMetrics extends RolloutStats {
  step: number;
  lr: number;
  dataEpoch: number;
  items: string[];
  groups: number;
  filteredGroups: number;
  advantage: { mean: number; std: number; min: number; max: number; absMean: number };
  update: UpdateStats;
  /** Wall-clock figures: excluded from reproducibility comparisons. */
  time: { rolloutS: number; updateS: number; rolloutsPerS: number; videoShare: number; ffmpegShare: number; cacheHitRate: number };
}

export interface StepOutput {
  metrics: StepMetrics;
  /** Graded trajectories (reward attached), in rollout order. */
  trajectories: Trajectory[];
}

export const startLabel = (s: Pick<DrfsStart, "frames" | "rung">) => `${s.frames}x${s.rung}`;

/** Seeded permutation of [0, n) for one pass over the data. */
export function permutation(n: number, seed: number, epoch: number): number[] {
  const rng = new Rng(seed).fork(1_000_003 + epoch);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Indices of the questions of `step`: consecutive slots of the epoch permutations. */
export function stepQuestions(step: number, perStep: number, n: number, seed: number): { indices: number[]; epoch: number } {
  const indices: number[] = [];
  let epoch = 0;
  for (let j = 0; j < perStep; j++) {
    const k = step * perStep + j;
    epoch = Math.floor(k / n);
    indices.push(permutation(n, seed, epoch)[k % n]!);
  }
  return { indices, epoch };
}

/** Seed of rollout i of question slot j at `step`: independent of everything else. */
export function rolloutSeed(seed: number, step: number, slot: number, i: number): number {
  return new Rng(seed).fork(step).fork(slot * 1024 + i).nextU32();
}

export function rolloutSettings(c: GrpoConfig, temperature = c.rollout.temperature): RolloutSettings {
  const r = c.rollout;
  return { ladder: r.ladder, maxTurns: r.maxTurns, maxVisualTokens: r.maxVisualTokens, maxFramesPerCall: r.maxFramesPerCall, timeoutMs: r.timeoutMs, temperature, topP: r.topP, sampleTokens: r.sampleTokens };
}

export function starts(c: GrpoConfig): DrfsStart[] {
  return drfsStarts({ ladder: c.rollout.ladder, mode: c.drfs.mode, fallback: c.drfs.fallback, ...(c.drfs.tokenBudget ? { tokenBudget: c.drfs.tokenBudget } : {}) });
}

export function grade(r: Rollout, c: GrpoConfig): GradedRollout {
  const ctx = rewardContext(r.record, r.spec.item);
  const reward = computeReward(ctx, c.rewards);
  r.record.reward = { total: reward.total, parts: reward.parts, grader: reward.grader };
  return { ctx, reward, start: startLabel(r.spec.start) };
}

export interface TrainerParts {
  config: GrpoConfig;
  model: TransformerModel;
  /** Frozen reference (the init weights); null = no KL term and no KL reported. */
  ref: TransformerModel | null;
  optimizer: AdamW;
  trainable: TrainablePolicy;
  train: readonly DataItem[];
}

export function makeOptimizer(c: GrpoConfig): AdamW {
  return new AdamW({ lr: c.update.lr, weightDecay: c.update.weightDecay, ...(c.update.clipNorm > 0 ? { clipNorm: c.update.clipNorm } : {}) });
}

export async function grpoStep(p: TrainerParts, step: number, signal?: AbortSignal): Promise<StepOutput> {
  const c = p.config;
  const G = c.rollout.groupSize;
  const st = starts(c);
  const { indices, epoch } = stepQuestions(step, c.rollout.questionsPerStep, p.train.length, c.seed);
  const specs = indices.flatMap((q, j) =>
    Array.from({ length: G }, (_, i) => ({ item: p.train[q]!.item, video: p.train[q]!.video, start: startFor(st, i), seed: rolloutSeed(c.seed, step, j, i) })),
  );
  const settings = rolloutSettings(c);
  const t0 = performance.now();
  const rollouts = await pool(specs, c.rollout.concurrency, (s) => runRollout(s, p.trainable, settings, signal));
  const rolloutS = (performance.now() - t0) / 1000;
  if (signal?.aborted) throw signal.reason ?? new Error("aborted");

  const graded = rollouts.map((r) => grade(r, c));
  const groups = indices.map((_, j) => graded.slice(j * G, (j + 1) * G).map((g) => g.reward.total));
  const adv = batchAdvantages(groups, c.update.scaleByStd);
  const rows: TrainRow[] = [];
  rollouts.forEach((r, k) => {
    const g = adv.groups[Math.floor(k / G)]!;
    if (g.filtered) return;
    for (const t of r.turns) {
      if (t.tokenIds.length === 0) continue;
      const row = p.trainable.row(t.input, t.tokenIds);
      rows.push({ ...row, sampledLogprobs: t.logprobs, advantage: g.advantages[k % G]!, ...(t.guideMasks ? { guideMasks: t.guideMasks } : {}) });
    }
  });

  const lr = lrAt(step, { baseLr: c.update.lr, warmupSteps: c.update.warmupSteps, totalSteps: c.run.steps, decay: c.update.decay, minRatio: c.update.minLrRatio });
  const t1 = performance.now();
  const u = c.update;
  const update = await grpoUpdate(rows, p.model, p.ref, p.optimizer, { epochs: u.epochs, minibatches: u.minibatches, microBatch: u.microBatch, bucket: u.bucket, lr, epsLow: u.epsLow, epsHigh: u.epsHigh, beta: u.beta, oldLogprobs: u.oldLogprobs, temperature: c.rollout.temperature || 1 });
  const updateS = (performance.now() - t1) / 1000;

  const records = rollouts.map((r) => r.record);
  const sum = (f: (t: Trajectory) => number) => records.reduce((s, t) => s + f(t), 0);
  const results = records.flatMap((t) => [t.firstObservation, ...t.turns.map((x) => x.result)]).filter((x) => x !== null);
  const totalMs = Math.max(1, sum((t) => t.timings.totalMs));
  const metrics: StepMetrics = {
    step,
    lr,
    dataEpoch: epoch,
    items: indices.map((q) => p.train[q]!.item.id),
    groups: indices.length,
    filteredGroups: adv.filteredGroups,
    advantage: adv.stats,
    ...rolloutStats(graded),
    update,
    time: {
      rolloutS,
      updateS,
      rolloutsPerS: rollouts.length / Math.max(1e-9, rolloutS),
      videoShare: sum((t) => t.timings.videoMs) / totalMs,
      ffmpegShare: sum((t) => t.timings.decodeMs) / totalMs,
      cacheHitRate: results.length ? results.filter((x) => x.cached).length / results.length : 0,
    },
  };
  return { metrics, trajectories: records };
}

export interface EvalSummary {
  items: number;
  accuracy: number;
  stats: RolloutStats;
}

/**
 * Greedy validation/test accuracy through the same loop (default first observation, no DRFS),
 * graded with the same rewards so tool statistics are comparable before/after RL.
 */
export async function evaluate(trainable: TrainablePolicy, data: readonly DataItem[], c: GrpoConfig, signal?: AbortSignal): Promise<EvalSummary> {
  const fallback = { ...c.drfs.fallback, tokens: 0 };
  const settings = rolloutSettings(c, 0);
  const graded = await pool(data, c.rollout.concurrency, async (d) => {
    const r = await answer({
      video: d.video,
      question: d.item.question,
      ...(d.item.options ? { options: d.item.options } : {}),
      policy: trainable.policy,
      settings: agentSettings(settings, fallback, "settings"),
      ...(signal ? { signal } : {}),
      item: { id: d.item.id },
    });
    return grade({ spec: { item: d.item, video: d.video, start: fallback, seed: 0 }, record: r.record, turns: [] }, c);
  });
  const stats = rolloutStats(graded);
  return { items: data.length, accuracy: stats.accuracy, stats };
}
