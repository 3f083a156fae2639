/**
 * The GRPO update (DESIGN.md §6 step 3-4): trajectory rows -> padded batches with per-token
 * advantages, stored old log-probs and frozen-reference log-probs, then several PPO epochs of
 * clip-higher PPO on generated tokens only (frame tokens, tool results and prompts masked),
 * token-mean over the whole batch (micro-batch gradients weighted by their token share), global
 * grad-norm clipping and the scheduled learning rate.
 */
import { GUIDE_BIAS, packSequences, type AdamW, type GrpoBatch, type ParamStore, type PromptItem, type TransformerModel } from "../../nn/index.js";

/** One policy turn as a training row. */
export interface TrainRow {
  /** The model's input for the turn followed by the generated tokens. */
  items: readonly PromptItem[];
  /** Per item: 1 for the generated tokens (the only ones in the loss). */
  train: ArrayLike<number>;
  /** Log-probs of the generated tokens as sampled (one per train=1 item, in order). */
  sampledLogprobs: readonly number[];
  /** The trajectory's group-normalized advantage. */
  advantage: number;
  /** Guided rollouts: per generated token, the allowed token ids (null = none masked); the update then scores the guided distribution. */
  guideMasks?: readonly (Uint8Array | null)[];
}

export interface UpdateOptions {
  epochs: number;
  minibatches: number;
  microBatch: number;
  bucket: number;
  lr: number;
  epsLow: number;
  epsHigh: number;
  beta: number;
  oldLogprobs: "rollout" | "recompute";
  /** The rollouts' sampling temperature: the update scores the tempered distribution they were drawn from. */
  temperature: number;
}

export interface UpdateStats {
  rows: number;
  tokens: number;
  optimizerSteps: number;
  loss: number;
  kl: number;
  clipFrac: number;
  entropy: number;
  gradNorm: number;
  /** Largest |sampled - recomputed| old log-prob (rollout/training input agreement), when measured. */
  logprobGap: number | null;
}

interface Prepared {
  batch: GrpoBatch;
  tokens: number;
}

/** Token-count-weighted accumulation of micro-batch results. */
class Accum {
  private sums = { loss: 0, kl: 0, clipFrac: 0, entropy: 0 };
  private n = 0;
  add(w: number, r: { loss: number; kl?: number; clipFrac?: number; entropy?: number }): void {
    this.sums.loss += w * r.loss;
    this.sums.kl += w * (r.kl ?? 0);
    this.sums.clipFrac += w * (r.clipFrac ?? 0);
    this.sums.entropy += w * (r.entropy ?? 0);
    this.n += w;
  }
  mean(): { loss: number; kl: number; clipFrac: number; entropy: number } {
    const d = this.n || 1;
    return { loss: this.sums.loss / d, kl: this.sums.kl / d, clipFrac: this.sums.clipFrac / d, entropy: this.sums.entropy / d };
  }
}

/** Rows sorted by length (less padding); ties keep their order so batching is deterministic. */
function chunks<T extends { items: readonly unknown[] }>(rows: readonly T[], size: number): T[][] {
  const order = rows.map((r, i) => ({ r, i })).sort((a, b) => a.r.items.length - b.r.items.length || a.i - b.i);
  const out: T[][] = [];
  for (let k = 0; k < order.length; k += size) out.push(order.slice(k, k + size).map((x) => x.r));
  return out;
}

async function prepare(rows: readonly TrainRow[], model: TransformerModel, ref: TransformerModel | null, o: UpdateOptions, gap: { max: number | null }): Promise<Prepared> {
  const packed = packSequences(rows.map((r) => ({ items: r.items, train: r.train })), { bucket: o.bucket, maxSeq: model.config.maxSeq });
  const n = packed.batch * packed.seq;
  const sampled = new Float32Array(n);
  const advantages = new Float32Array(n);
  const V = model.config.vocabSize;
  // Position t's logits predict item t+1: a generated token's mask biases the position before it.
  const logitBias = rows.some((r) => r.guideMasks?.some((m) => m)) ? new Float32Array(n * V) : undefined;
  rows.forEach((row, b) => {
    let j = 0;
    for (let t = 0; t + 1 < row.items.length; t++) {
      if (!row.train[t + 1]) continue;
      const i = b * packed.seq + t;
      const mask = row.guideMasks?.[j];
      if (logitBias && mask) for (let v = 0; v < V; v++) if (!mask[v]) logitBias[i * V + v] = GUIDE_BIAS;
      sampled[i] = row.sampledLogprobs[j++] ?? 0;
      advantages[i] = row.advantage;
    }
    if (j !== row.sampledLogprobs.length) throw new Error(`row ${b}: ${j} generated positions but ${row.sampledLogprobs.length} sampled log-probs`);
  });
  let old: Float32Array = sampled;
  const scored = logitBias ? { ...packed, logitBias } : packed;
  if (o.oldLogprobs === "recompute" || gap.max !== null) {
    const fresh = await model.logprobs(scored, o.temperature);
    for (let i = 0; i < n; i++) if (packed.lossMask[i]) gap.max = Math.max(gap.max ?? 0, Math.abs(fresh[i]! - sampled[i]!));
    if (o.oldLogprobs === "recompute") old = fresh;
  }
  // With beta = 0 the reference is still fed (when given) so the reported KL measures the drift.
  const refLogprobs = ref ? await ref.logprobs(scored, o.temperature) : new Float32Array(n);
  let tokens = 0;
  for (let i = 0; i < n; i++) tokens += packed.lossMask[i]!;
  return { batch: { ...scored, oldLogprobs: old, refLogprobs, advantages }, tokens };
}

/**
 * Runs the PPO epochs in place on `model.params`. `measureGap` recomputes old log-probs once to
 * report how far the sampled ones are from a fresh forward pass (should be float noise).
 */
export async function grpoUpdate(
  rows: readonly TrainRow[],
  model: TransformerModel,
  ref: TransformerModel | null,
  optimizer: AdamW,
  o: UpdateOptions,
  measureGap = true,
): Promise<UpdateStats> {
  const stats: UpdateStats = { rows: rows.length, tokens: 0, optimizerSteps: 0, loss: 0, kl: 0, clipFrac: 0, entropy: 0, gradNorm: 0, logprobGap: null };
  if (rows.length === 0) return stats;
  const gap = { max: measureGap ? 0 : null };
  // Minibatches are fixed for the step; each is split into micro-batches for onnxruntime.
  const perMini = Math.ceil(rows.length / o.minibatches);
  const minis: Prepared[][] = [];
  for (let k = 0; k < rows.length; k += perMini) {
    const mb: Prepared[] = [];
    for (const c of chunks(rows.slice(k, k + perMini), o.microBatch)) mb.push(await prepare(c, model, ref, o, gap));
    minis.push(mb);
  }
  stats.tokens = minis.flat().reduce((s, p) => s + p.tokens, 0);
  const acc = new Accum();
  let normSum = 0;
  const loss = { epsLow: o.epsLow, epsHigh: o.epsHigh, beta: o.beta, temperature: o.temperature };
  for (let e = 0; e < o.epochs; e++) {
    for (const mini of minis) {
      const total = mini.reduce((s, p) => s + p.tokens, 0);
      if (total === 0) continue;
      let grads: ParamStore | null = null;
      for (const p of mini) {
        if (p.tokens === 0) continue;
        const w = p.tokens / total;
        const r = await model.lossAndGrads(p.batch, loss);
        acc.add(p.tokens, r);
        if (!grads) {
          grads = {};
          for (const [k, g] of Object.entries(r.grads)) grads[k] = Float32Array.from(g, (x) => x * w);
        } else {
          for (const [k, g] of Object.entries(r.grads)) {
            const a = grads[k]!;
            for (let i = 0; i < a.length; i++) a[i]! += g[i]! * w;
          }
        }
      }
      const info = optimizer.update(model.params, grads!, o.lr);
      normSum += info.gradNorm;
      stats.optimizerSteps++;
    }
  }
  Object.assign(stats, acc.mean());
  stats.gradNorm = stats.optimizerSteps ? normSum / stats.optimizerSteps : 0;
  stats.logprobGap = gap.max;
  return stats;
}
