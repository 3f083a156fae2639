// Runs the transformer graphs: session caching, feed building, loss+gradients, and generation
// (with or without KV cache) with seeded temperature / top-p sampling.
import type { AdamWState } from './adam.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { Rng, type RngState } from './rng.js';
import { Session, f32, i32, type SessionOptions, type TensorValue } from './runtime.js';
import {
  DEFAULT_GRPO,
  buildForwardGraph,
  buildTrainGraph,
  initParams,
  paramSpecs,
  parseTransformerConfig,
  type BuiltGraph,
  type GrpoLossOptions,
  type LossType,
  type ParamStore,
  type TransformerConfig,
} from './transformer.js';

/** Rows of a batch, flattened row-major ([B*T]). Sequences are left-aligned, padding at the end. */
export interface SequenceBatch {
  batch: number;
  seq: number;
  /** Token ids; at visual positions used only by models with patchTokens. */
  tokens: Int32Array;
  /** 0 = text token, k > 0 = visual token taken from row k-1 of `patches`. Default: all text. */
  patchSlot?: Int32Array;
  /** [NV * patchDim] patch vectors. */
  patches?: Float32Array;
  /** [NV] timestamps (seconds) of the visual tokens. */
  patchTimes?: Float32Array;
  /** [NV] cell of each visual token in its frame (models with patchCells; default 0). */
  patchCells?: Int32Array;
  /** [NV] row of the same cell in the previous frame, or its own row (models with patchMotion; default own row). */
  patchPrev?: Int32Array;
  /** Default 0..T-1 in each row. */
  positions?: Int32Array;
}

export interface SftBatch extends SequenceBatch {
  /** Next-token targets per position. */
  targets: Int32Array;
  /** 1 where the position's target counts in the loss (never on visual-token targets). */
  lossMask: Float32Array;
}

export interface GrpoBatch extends SftBatch {
  oldLogprobs: Float32Array;
  refLogprobs: Float32Array;
  advantages: Float32Array;
  /** [B*T*V]: added to the logits (0 allowed, GUIDE_BIAS masked) so log-probs are the guided distribution's. */
  logitBias?: Float32Array;
}

/** Logit bias of a token the guide masked: exp() of it is 0 in float32, yet 0 * it stays finite. */
export const GUIDE_BIAS = -1e4;

export interface StepResult {
  loss: number;
  /** Per-position log-prob of the target, [B*T]. */
  logprobs: Float32Array;
  /** GRPO only. */
  clipFrac?: number;
  kl?: number;
  entropy?: number;
  grads: ParamStore;
  /** Milliseconds spent building feeds / inside onnxruntime. */
  timing: { feedMs: number; runMs: number };
}

/** A text token, or a visual token (patch + time; `token` is added to it when the model has patchTokens). */
export type PromptItem =
  | { token: number }
  | {
      patch: Float32Array;
      time: number;
      token?: number;
      /** cell in its frame (patchCells models) */
      cell?: number;
      /** visual items back to the same cell in the previous frame (patchMotion models); absent or 0: none */
      back?: number;
    };

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy. Default 1. */
  temperature?: number;
  /** Nucleus mass. Default 1 (off). Applied as a mask (GenerateResult.masks), as the guide's is. */
  topP?: number;
  /**
   * Sampled generation draws only this many tokens and is greedy after them; a greedy token is
   * reported as forced (GenerateResult.masks: one-hot, log-prob 0), so a trainer gives it no
   * gradient. Why: a rollout explores the turn's opening (whether to look or answer) while the
   * look's arguments stay the model's best (docs/training.md, session 13). Default: all.
   */
  sampleTokens?: number;
  rng: Rng;
  stopTokens?: readonly number[];
  /** Default true. */
  useCache?: boolean;
  /**
   * Guided decoding: may `token` come next after `generated`? Disallowed tokens are never chosen
   * (greedy takes the best allowed one); when no token is allowed the step is unguided.
   * Sampled steps report the log-prob under the guided (renormalized) distribution and the
   * mask itself, so a trainer can recompute exactly that distribution (GrpoBatch.logitBias).
   */
  allow?: (token: number, generated: readonly number[]) => boolean;
}

export interface GenerateResult {
  tokens: number[];
  /** Log-prob of each generated token under the distribution it was drawn from: tempered when sampled (guided / nucleus-masked when masked), the model's own when greedy. */
  logprobs: number[];
  /** Sampled with `allow`, topP < 1 or sampleTokens: per token, 1 for each token id the guide and the nucleus kept (one id for a greedy token past sampleTokens), or null when nothing was masked. */
  masks?: (Uint8Array | null)[];
}

function isGrpo(b: SftBatch): b is GrpoBatch {
  return 'advantages' in b;
}

export class TransformerModel {
  private readonly sessions = new Map<string, Promise<Session>>();
  private readonly defaultPositions = new Map<string, Int32Array>();

  constructor(
    readonly config: TransformerConfig,
    public params: ParamStore,
    private readonly sessionOptions: SessionOptions = {},
  ) {
    const missing = paramSpecs(config).filter((s) => params[s.name]?.length !== s.shape.reduce((p, d) => p * d, 1));
    if (missing.length) throw new Error(`parameters missing or mis-sized: ${missing.map((s) => s.name).join(', ')}`);
  }

  static init(config: TransformerConfig, seed: number, opts?: SessionOptions): TransformerModel {
    return new TransformerModel(config, initParams(config, new Rng(seed)), opts);
  }

  /** Sessions are built once per graph kind; symbolic dims let every batch shape reuse them. */
  private session(key: string, build: () => BuiltGraph): Promise<Session> {
    let s = this.sessions.get(key);
    if (!s) {
      s = Session.create(build().model, this.sessionOptions);
      this.sessions.set(key, s);
    }
    return s;
  }

  private paramFeeds(): Record<string, TensorValue> {
    const feeds: Record<string, TensorValue> = {};
    for (const s of paramSpecs(this.config)) feeds[s.name] = f32(this.params[s.name]!, s.shape);
    return feeds;
  }

  private seqFeeds(b: SequenceBatch): Record<string, TensorValue> {
    const { batch: B, seq: T } = b;
    const n = B * T;
    if (T > this.config.maxSeq) throw new Error(`sequence length ${T} exceeds maxSeq ${this.config.maxSeq}`);
    const check = (name: string, a: { length: number } | undefined, want: number): void => {
      if (a && a.length !== want) throw new Error(`${name}: ${a.length} values, expected ${want}`);
    };
    check('tokens', b.tokens, n);
    check('patchSlot', b.patchSlot, n);
    check('positions', b.positions, n);
    const P = this.config.patchDim;
    let nv = (b.patches?.length ?? 0) / P;
    if (!Number.isInteger(nv)) throw new Error(`patches length ${b.patches?.length} is not a multiple of patchDim ${P}`);
    check('patchTimes', b.patchTimes ?? new Float32Array(0), nv);
    let patches = b.patches ?? new Float32Array(0);
    let times = b.patchTimes ?? new Float32Array(0);
    check('patchCells', b.patchCells, nv);
    let cells = b.patchCells ?? new Int32Array(nv);
    check('patchPrev', b.patchPrev, nv);
    let prev = this.config.patchMotion ? (b.patchPrev ?? Int32Array.from({ length: nv }, (_, i) => i)) : new Int32Array(0);
    if (prev.some((k) => k < 0 || k >= nv)) throw new Error(`patchPrev: rows must be in 0..${nv - 1}`);
    if (nv === 0) {
      // One dummy row (never referenced) avoids zero-sized tensors in the graph.
      nv = 1;
      patches = new Float32Array(P);
      times = new Float32Array(1);
      cells = new Int32Array(1);
      prev = new Int32Array(1);
    }
    const maxCell = this.config.patchCells - 1;
    if (maxCell >= 0 && cells.some((k) => k < 0 || k > maxCell)) cells = cells.map((k) => Math.min(Math.max(k, 0), maxCell));
    return {
      tokens: i32(b.tokens, [B, T]),
      positions: i32(b.positions ?? this.positionsFor(B, T), [B, T]),
      patch_slot: i32(b.patchSlot ?? new Int32Array(n), [B, T]),
      patches: f32(patches, [nv, P]),
      patch_times: f32(times, [nv]),
      ...(this.config.patchCells ? { patch_cells: i32(cells, [nv]) } : {}),
      ...(this.config.patchMotion ? { patch_prev: i32(prev, [nv]) } : {}),
    };
  }

  private positionsFor(B: number, T: number): Int32Array {
    const key = `${B}x${T}`;
    let p = this.defaultPositions.get(key);
    if (!p) {
      p = new Int32Array(B * T);
      for (let i = 0; i < B * T; i++) p[i] = i % T;
      this.defaultPositions.set(key, p);
    }
    return p;
  }

  /** Loss, metrics and gradients for one batch. GRPO batches select the GRPO loss. */
  async lossAndGrads(batch: SftBatch | GrpoBatch, grpo: GrpoLossOptions = DEFAULT_GRPO): Promise<StepResult> {
    const t0 = performance.now();
    const lossType: LossType = isGrpo(batch) ? 'grpo' : 'sft';
    const logitBias = isGrpo(batch) ? batch.logitBias : undefined;
    const key = lossType === 'sft' ? 'train:sft' : `train:grpo:${grpo.epsLow}:${grpo.epsHigh}:${grpo.beta}:${grpo.temperature ?? 1}${logitBias ? ':bias' : ''}`;
    const session = await this.session(key, () => buildTrainGraph(this.config, lossType, grpo, { logitBias: !!logitBias }));
    const dims = [batch.batch, batch.seq];
    const feeds: Record<string, TensorValue> = {
      ...this.paramFeeds(),
      ...this.seqFeeds(batch),
      targets: i32(batch.targets, dims),
      loss_mask: f32(batch.lossMask, dims),
    };
    if (isGrpo(batch)) {
      feeds['old_logprobs'] = f32(batch.oldLogprobs, dims);
      feeds['ref_logprobs'] = f32(batch.refLogprobs, dims);
      feeds['advantages'] = f32(batch.advantages, dims);
      if (logitBias) feeds['logit_bias'] = f32(logitBias, [...dims, this.config.vocabSize]);
    }
    const t1 = performance.now();
    const out = await session.run(feeds);
    const t2 = performance.now();
    const scalar = (k: string): number | undefined => (out[k] ? (out[k].data[0] as number) : undefined);
    const grads: ParamStore = {};
    for (const s of paramSpecs(this.config)) grads[s.name] = out[`grad.${s.name}`]!.data as Float32Array;
    return {
      loss: scalar('loss')!,
      logprobs: out['logprobs']!.data as Float32Array,
      ...(lossType === 'grpo' ? { clipFrac: scalar('clip_frac')!, kl: scalar('kl')!, entropy: scalar('entropy')! } : {}),
      grads,
      timing: { feedMs: t1 - t0, runMs: t2 - t1 },
    };
  }

  /** Logits [B*T*V] for a batch without cache. */
  async logits(batch: SequenceBatch): Promise<Float32Array> {
    const s = await this.session('fwd', () => buildForwardGraph(this.config, { kvCache: false }));
    const out = await s.run({ ...this.paramFeeds(), ...this.seqFeeds(batch) }, ['logits']);
    return out['logits']!.data as Float32Array;
  }

  /** Log-prob of `targets` at every position (e.g. old / reference log-probs for GRPO), under `logitBias` and `temperature` when given. */
  async logprobs(batch: SequenceBatch & { targets: Int32Array; logitBias?: Float32Array }, temperature = 1): Promise<Float32Array> {
    const logits = await this.logits(batch);
    if (batch.logitBias) for (let i = 0; i < logits.length; i++) logits[i]! += batch.logitBias[i]!;
    const V = this.config.vocabSize;
    const out = new Float32Array(batch.batch * batch.seq);
    for (let i = 0; i < out.length; i++) out[i] = logSoftmaxAt(logits, i * V, V, batch.targets[i]!, temperature);
    return out;
  }

  /**
   * Generate text tokens after a (text + visual) prompt, batch size 1. With `allow`, a step where
   * the guide allows nothing (a dead end: e.g. `,"` where the only keys left are words the
   * vocabulary cannot write) takes the previous token back and bans it there, up to
   * MAX_BACKTRACKS times per call; only then does a step run unguided.
   */
  async generate(prompt: readonly PromptItem[], opts: GenerateOptions): Promise<GenerateResult> {
    const useCache = opts.useCache ?? true;
    const V = this.config.vocabSize;
    const seq: PromptItem[] = [...prompt];
    const result: GenerateResult = { tokens: [], logprobs: [] };
    const kvSession = useCache ? await this.session('fwd:kv', () => buildForwardGraph(this.config, { kvCache: true })) : null;
    let cache: Record<string, TensorValue> | null = null;
    let fed = 0; // prompt items already in the cache
    // Per generated position: the logits it was chosen from and the tokens banned there (guided only).
    const seen: Float32Array[] = [];
    const banned: Set<number>[] = [];
    let backtracks = 0;
    const temperature = opts.temperature ?? 1;
    const topP = opts.topP ?? 1;
    const sampled = temperature > 0;
    for (let step = 0; step < opts.maxNewTokens && seq.length < this.config.maxSeq; step++) {
      let last: Float32Array;
      if (seen[step]) last = seen[step]!;
      else if (kvSession) {
        const items = seq.slice(fed);
        if (!cache) cache = this.emptyCache();
        const out = await kvSession.run({ ...this.paramFeeds(), ...this.seqFeeds(itemsBatch(items, fed)), ...cache });
        cache = {};
        for (let l = 0; l < this.config.nLayers; l++) {
          cache[`past_k.${l}`] = out[`present_k.${l}`]!;
          cache[`past_v.${l}`] = out[`present_v.${l}`]!;
        }
        fed = seq.length;
        last = (out['logits']!.data as Float32Array).slice((items.length - 1) * V, items.length * V);
      } else {
        const logits = await this.logits(itemsBatch(seq, 0));
        last = logits.slice((seq.length - 1) * V, seq.length * V);
      }
      if (opts.allow) seen[step] = last;
      const ban = banned[step];
      const allow = opts.allow && ban ? (t: number, g: readonly number[]) => !ban.has(t) && opts.allow!(t, g) : opts.allow;
      const explore = sampled && step < (opts.sampleTokens ?? Infinity);
      // Greedy asks the guide about the best tokens first; sampling needs the whole mask (top-p: the likeliest tokens', guidedNucleus).
      const greedy = allow && !explore ? greedyAllowed(last, result.tokens, allow) : undefined;
      const allowed = allow && explore ? (topP < 1 ? guidedNucleus(last, result.tokens, allow, temperature, topP) : allowedMask(V, result.tokens, allow)) : allow && greedy === undefined ? DEAD_END : null;
      if (allowed === DEAD_END && step > 0 && backtracks < MAX_BACKTRACKS) {
        backtracks++;
        step -= 2; // the loop's step++ lands on the previous position
        const back = result.tokens.pop()!;
        result.logprobs.pop();
        result.masks?.pop();
        seq.pop();
        seen.length = banned.length = step + 2;
        (banned[step + 1] ??= new Set()).add(back);
        if (cache && fed > seq.length) [cache, fed] = [truncateCache(cache, seq.length), seq.length];
        continue;
      }
      let mask = explore && allowed instanceof Uint8Array ? allowed : null;
      // The nucleus is a mask like the guide's: the log-prob and the trainer see the distribution sampled.
      if (explore && topP < 1 && !allow) mask = nucleusMask(last, temperature, topP);
      // Past sampleTokens the best (allowed) token is forced: a one-hot mask, log-prob 0.
      const forced = sampled && !explore ? (greedy ?? sampleToken(last, 0, opts.rng)) : undefined;
      if (forced !== undefined) mask = oneHot(V, forced);
      const scored = mask ? maskLogits(last, mask) : last;
      const tok = forced ?? greedy ?? sampleToken(scored, temperature, opts.rng);
      result.tokens.push(tok);
      // Sampled: the log-prob of the tempered distribution drawn from (a forced token's is 0 either way).
      result.logprobs.push(logSoftmaxAt(scored, 0, V, tok, sampled ? temperature : 1));
      if (sampled && (opts.allow || topP < 1 || opts.sampleTokens !== undefined)) (result.masks ??= []).push(mask);
      seq.push({ token: tok });
      if (opts.stopTokens?.includes(tok)) break;
    }
    return result;
  }

  private emptyCache(): Record<string, TensorValue> {
    const c = this.config;
    const feeds: Record<string, TensorValue> = {};
    for (let l = 0; l < c.nLayers; l++) {
      for (const kv of ['k', 'v']) feeds[`past_${kv}.${l}`] = f32(new Float32Array(0), [1, c.nHeads, 0, c.dModel / c.nHeads]);
    }
    return feeds;
  }

  /** Save weights + config (+ optimizer / RNG / meta) as a checkpoint directory. */
  save(dir: string, extra: { optimizer?: AdamWState; rng?: RngState; meta?: Record<string, unknown> } = {}): void {
    const shapes = new Map(paramSpecs(this.config).map((s) => [s.name, s.shape]));
    saveCheckpoint(dir, { config: this.config, params: this.params, ...extra }, shapes);
  }

  /** Load a checkpoint directory; throws CheckpointMismatchError if weights don't fit the config. */
  static load(dir: string, opts?: SessionOptions): { model: TransformerModel; optimizer?: AdamWState; rng?: RngState; meta: Record<string, unknown> } {
    const ck = loadCheckpoint(dir, parseTransformerConfig, paramSpecs);
    return {
      model: new TransformerModel(ck.config, ck.params, opts),
      ...(ck.optimizer ? { optimizer: ck.optimizer } : {}),
      ...(ck.rng ? { rng: ck.rng } : {}),
      meta: ck.meta ?? {},
    };
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
  }
}

export interface PackRow {
  items: readonly PromptItem[];
  /** Per item: the loss weight of predicting it (0 = not in the loss; visual items never count). */
  train?: ArrayLike<number>;
}

/**
 * Pack rows of prompt items into a left-aligned, padded batch with shifted targets:
 * targets[t] = items[t+1].token and lossMask[t] = train[t+1] for text items, 0 for visual ones
 * and padding. `bucket` rounds T up so a few sequence lengths cover all batches (onnxruntime
 * pays a slower first run for every new shape).
 */
export function packSequences(
  rows: readonly PackRow[],
  opts: { bucket?: number; positionOffset?: number; /** bucketing never pads beyond this */ maxSeq?: number } = {},
): SftBatch {
  const bucket = opts.bucket ?? 1;
  const B = rows.length;
  const maxLen = Math.max(1, ...rows.map((r) => r.items.length));
  const T = Math.max(maxLen, Math.min(Math.ceil(maxLen / bucket) * bucket, opts.maxSeq ?? Infinity));
  const n = B * T;
  const tokens = new Int32Array(n);
  const slot = new Int32Array(n);
  const positions = new Int32Array(n);
  const targets = new Int32Array(n);
  const lossMask = new Float32Array(n);
  const patches: Float32Array[] = [];
  const times: number[] = [];
  const cells: number[] = [];
  const prev: number[] = [];
  rows.forEach((row, b) => {
    const items = row.items;
    const rowStart = patches.length;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      positions[i] = (opts.positionOffset ?? 0) + t;
      const it = items[t];
      if (it && !('patch' in it)) tokens[i] = it.token;
      else if (it) {
        tokens[i] = it.token ?? 0;
        patches.push(it.patch);
        times.push(it.time);
        cells.push(it.cell ?? 0);
        // The previous frame's cell must be in this row (a chunk of a prompt may start mid-observation).
        const p = patches.length - 1 - (it.back ?? 0);
        prev.push(p >= rowStart ? p : patches.length - 1);
        slot[i] = patches.length;
      }
      const next = items[t + 1];
      if (next && !('patch' in next)) {
        targets[i] = next.token;
        lossMask[i] = row.train?.[t + 1] ?? 0;
      }
    }
  });
  const flat = new Float32Array(patches.reduce((k, p) => k + p.length, 0));
  let o = 0;
  for (const p of patches) {
    flat.set(p, o);
    o += p.length;
  }
  return { batch: B, seq: T, tokens, patchSlot: slot, positions, patches: flat, patchTimes: Float32Array.from(times), patchCells: Int32Array.from(cells), patchPrev: Int32Array.from(prev), targets, lossMask };
}

/** A batch of one row from prompt items, positions starting at `offset`. */
function itemsBatch(items: readonly PromptItem[], offset: number): SequenceBatch {
  return packSequences([{ items }], { positionOffset: offset });
}

/** log softmax(logits / temperature) at `idx`. */
function logSoftmaxAt(logits: Float32Array, off: number, V: number, idx: number, temperature = 1): number {
  const k = 1 / temperature;
  let max = -Infinity;
  for (let j = 0; j < V; j++) max = Math.max(max, k * logits[off + j]!);
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp(k * logits[off + j]! - max);
  return k * logits[off + idx]! - max - Math.log(sum);
}

/** The most likely token the guide allows; undefined at a dead end. */
function greedyAllowed(logits: Float32Array, generated: readonly number[], allow: NonNullable<GenerateOptions['allow']>): number | undefined {
  const order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!);
  return order.find((t) => allow(t, generated));
}

function oneHot(V: number, token: number): Uint8Array {
  const m = new Uint8Array(V);
  m[token] = 1;
  return m;
}

/** Backtracks one generate() call may take before a dead end runs unguided (bounds the guide's work). */
export const MAX_BACKTRACKS = 64;
const DEAD_END = 'dead end';

/** 1 per allowed token id; null when the guide masks nothing; DEAD_END when it allows nothing. */
function allowedMask(V: number, generated: readonly number[], allow: NonNullable<GenerateOptions['allow']>): Uint8Array | null | typeof DEAD_END {
  const m = new Uint8Array(V);
  let n = 0;
  for (let t = 0; t < V; t++) n += m[t] = allow(t, generated) ? 1 : 0;
  return n === 0 ? DEAD_END : n === V ? null : m;
}

/**
 * The guide's allowed tokens inside the top-p nucleus, asking the guide about the likeliest tokens
 * only (a whole-vocabulary mask asks it about every token at every step: most of a cold rollout's
 * time). Tokens are asked in order of probability until those not yet asked hold less than
 * NUCLEUS_TAIL of the allowed mass found; the nucleus is then taken over the allowed ones as
 * nucleusMask takes it over all.
 */
function guidedNucleus(logits: Float32Array, generated: readonly number[], allow: NonNullable<GenerateOptions['allow']>, temperature: number, topP: number): Uint8Array | null | typeof DEAD_END {
  const probs = temperedProbs(logits, temperature);
  let unasked = probs.reduce((a, b) => a + b, 0);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
  const allowed: number[] = [];
  let mass = 0;
  for (const j of order) {
    if (mass > 0 && unasked <= NUCLEUS_TAIL * mass) break;
    unasked -= probs[j]!;
    if (allow(j, generated)) allowed.push(j), (mass += probs[j]!);
  }
  return allowed.length ? takeNucleus(probs, allowed, mass, topP) : DEAD_END;
}
const NUCLEUS_TAIL = 1e-6;

/** The KV cache of the first `len` positions (layout [1, heads, T, headDim]). */
function truncateCache(cache: Record<string, TensorValue>, len: number): Record<string, TensorValue> {
  const out: Record<string, TensorValue> = {};
  for (const [name, v] of Object.entries(cache)) {
    const [b, h, T, d] = v.dims as [number, number, number, number];
    const data = v.data as Float32Array;
    const cut = new Float32Array(b * h * len * d);
    for (let k = 0; k < b * h; k++) cut.set(data.subarray(k * T * d, k * T * d + len * d), k * len * d);
    out[name] = f32(cut, [b, h, len, d]);
  }
  return out;
}

/** The logits with GUIDE_BIAS added on masked tokens: the same numbers the training graph's logit_bias gives. */
function maskLogits(logits: Float32Array, mask: Uint8Array): Float32Array {
  return logits.map((x, t) => (mask[t] ? x : x + GUIDE_BIAS));
}

/** Temperature sampling; temperature 0 is argmax. */
export function sampleToken(logits: Float32Array, temperature: number, rng: Rng): number {
  const V = logits.length;
  if (temperature <= 0) {
    let best = 0;
    for (let j = 1; j < V; j++) if (logits[j]! > logits[best]!) best = j;
    return best;
  }
  return rng.categorical(temperedProbs(logits, temperature));
}

function temperedProbs(logits: Float32Array, temperature: number): Float64Array {
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++) max = Math.max(max, logits[j]!);
  return Float64Array.from(logits, (x) => Math.exp((x - max) / temperature));
}

/**
 * The nucleus (top-p): the most likely tokens at this temperature whose mass first reaches topP
 * (ties by id), as a mask (1 = kept); null when every token is kept.
 */
export function nucleusMask(logits: Float32Array, temperature: number, topP: number): Uint8Array | null {
  const probs = temperedProbs(logits, temperature);
  const sum = probs.reduce((a, b) => a + b, 0);
  const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
  const keep = takeNucleus(probs, order, sum, topP);
  return keep.reduce((n, k) => n + k, 0) === probs.length ? null : keep;
}

/** The first of `ids` (most likely first) until they hold topP of `mass`. */
function takeNucleus(probs: Float64Array, ids: readonly number[], mass: number, topP: number): Uint8Array {
  const keep = new Uint8Array(probs.length);
  let kept = 0;
  for (const j of ids) {
    keep[j] = 1;
    kept += probs[j]!;
    if (kept >= topP * mass) break;
  }
  return keep;
}
