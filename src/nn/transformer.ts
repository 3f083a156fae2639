// Decoder-only multimodal transformer: config, parameter specs/init, and graph construction for
// training (SFT / GRPO losses with all parameter gradients) and inference (optionally KV-cached).
import { z } from 'zod';
import { gradients } from './autodiff.js';
import { Graph, type Tensor } from './graph.js';
import { exportOnnx } from './onnx.js';
import type { Rng } from './rng.js';

export const TransformerConfigSchema = z
  .object({
    vocabSize: z.number().int().positive(),
    dModel: z.number().int().positive(),
    nLayers: z.number().int().positive(),
    nHeads: z.number().int().positive(),
    dFF: z.number().int().positive(),
    maxSeq: z.number().int().positive(),
    /** Floats per visual token: one 28x28 RGB patch = 2352. */
    patchDim: z.number().int().positive(),
    /** Sinusoidal features of a visual token's timestamp (even). */
    timeFeatures: z.number().int().positive().multipleOf(2),
    lnEps: z.number().positive().default(1e-5),
    /** Visual tokens also add the embedding of their token id (the frame reference of their frame). */
    patchTokens: z.boolean().default(false),
    /**
     * Patch stem. 0: one linear projection of the whole patch. k > 0: the patch is cut into
     * sub-squares of `stemCell` pixels, each mapped by ONE shared projection to `stemChannels`
     * features + GELU (a stride-`stemCell` convolution), and the patch token is a linear map of
     * those features. Shared weights see every position of a glyph inside the patch.
     */
    stemChannels: z.number().int().nonnegative().default(0),
    stemCell: z.number().int().positive().default(7),
    /**
     * Step between stem windows (pixels); 0 = stemCell (windows tile the patch). A step below the
     * cell overlaps them, and `stemPool` then averages pool x pool neighbouring windows: a glyph
     * moved by a few pixels gives nearly the same features. Why: with tiled windows the model
     * reads a centred 3-character code (84% in bench:reading-probe --crop) and none moved by +-4 px.
     */
    stemStride: z.number().int().nonnegative().default(0),
    stemPool: z.number().int().positive().default(1),
    /**
     * The stem's features reach the token through their own projection (`stem.proj`) ADDED to the
     * linear projection of the whole patch (`patch.w`), instead of replacing it: a trained
     * linear-stem model gains a stem (addStem) and starts from its exact outputs.
     */
    stemBeside: z.boolean().default(false),
    /**
     * Where a patch sits in its frame: k > 0 adds a learned embedding of the patch's cell
     * (row * 16 + col, clamped to k - 1) to each visual token. Without it a patch's place is
     * only implicit in its sequence position, so left/right and the order of glyphs across
     * patches must be inferred from absolute offsets. 0 (off) keeps older checkpoints loadable.
     */
    patchCells: z.number().int().nonnegative().default(0),
    /**
     * Motion: each visual token also adds a projection (`motion.w`) of its patch minus the same
     * cell in the previous frame of its observation (input patch_prev; a first frame's own row, so
     * zero). A flash, an onset or a changed sign is then a feature of one token instead of a
     * comparison attention must learn across frames. false keeps older checkpoints loadable.
     */
    patchMotion: z.boolean().default(false),
  })
  .refine((c) => c.dModel % c.nHeads === 0, { message: 'dModel must be divisible by nHeads' })
  .refine((c) => c.stemChannels === 0 || stemGrid(c) > 0, { message: 'with stemChannels, patchDim must be side*side*3, (side - stemCell) a multiple of stemStride, and the windows per side a multiple of stemPool' });

export type TransformerConfig = z.infer<typeof TransformerConfigSchema>;
export type TransformerConfigInput = z.input<typeof TransformerConfigSchema>;

/** Patch side in pixels (patchDim = side*side*3). */
function patchSide(c: { patchDim: number }): number {
  return Math.round(Math.sqrt(c.patchDim / 3));
}
type StemShape = { patchDim: number; stemCell: number; stemStride?: number; stemPool?: number };
/** Stem windows per patch side (before pooling), or 0 when they do not fit the patch exactly. */
function stemWindows(c: StemShape): number {
  const side = patchSide(c), step = c.stemStride || c.stemCell;
  if (side * side * 3 !== c.patchDim || c.stemCell > side || (side - c.stemCell) % step !== 0) return 0;
  const m = (side - c.stemCell) / step + 1;
  return m % (c.stemPool ?? 1) === 0 ? m : 0;
}
/** Stem feature cells per patch side after pooling, or 0 when the stem does not fit the patch. */
export function stemGrid(c: StemShape): number {
  return stemWindows(c) / (c.stemPool ?? 1);
}

export function parseTransformerConfig(raw: unknown): TransformerConfig {
  return TransformerConfigSchema.parse(raw);
}

export type ParamStore = Record<string, Float32Array>;
export interface ParamSpec {
  name: string;
  shape: number[];
  init: 'normal' | 'zeros' | 'ones';
  std?: number;
  /** Excluded from weight decay (norm gains, biases, embeddings of position). */
  noDecay?: boolean;
}

export function paramSpecs(c: TransformerConfig): ParamSpec[] {
  const D = c.dModel;
  const resid = 0.02 / Math.sqrt(2 * c.nLayers); // GPT-2 style: keeps the residual stream variance flat
  const w = (name: string, shape: number[], std = 0.02): ParamSpec => ({ name, shape, init: 'normal', std });
  const b = (name: string, n: number): ParamSpec => ({ name, shape: [n], init: 'zeros', noDecay: true });
  const ln = (p: string): ParamSpec[] => [{ name: `${p}.g`, shape: [D], init: 'ones', noDecay: true }, b(`${p}.b`, D)];
  const specs: ParamSpec[] = [
    w('tok_emb', [c.vocabSize, D]),
    { ...w('pos_emb', [c.maxSeq, D], 0.01), noDecay: true },
    ...(c.stemChannels
      ? [w('stem.w', [c.stemCell * c.stemCell * 3, c.stemChannels], 1 / Math.sqrt(c.stemCell * c.stemCell * 3)), b('stem.b', c.stemChannels), w(c.stemBeside ? 'stem.proj' : 'patch.w', [stemGrid(c) ** 2 * c.stemChannels, D], 1 / Math.sqrt(stemGrid(c) ** 2 * c.stemChannels))]
      : []),
    ...(!c.stemChannels || c.stemBeside ? [w('patch.w', [c.patchDim, D], 1 / Math.sqrt(c.patchDim))] : []),
    b('patch.b', D),
    w('time.w', [c.timeFeatures, D]),
    ...(c.patchCells ? [{ ...w('cell_emb', [c.patchCells, D]), noDecay: true }] : []),
    ...(c.patchMotion ? [w('motion.w', [c.patchDim, D], 1 / Math.sqrt(c.patchDim))] : []),
  ];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `h${l}`;
    specs.push(
      ...ln(`${p}.ln1`),
      w(`${p}.qkv.w`, [D, 3 * D]),
      b(`${p}.qkv.b`, 3 * D),
      w(`${p}.proj.w`, [D, D], resid),
      b(`${p}.proj.b`, D),
      ...ln(`${p}.ln2`),
      w(`${p}.fc1.w`, [D, c.dFF]),
      b(`${p}.fc1.b`, c.dFF),
      w(`${p}.fc2.w`, [c.dFF, D], resid),
      b(`${p}.fc2.b`, D),
    );
  }
  specs.push(...ln('lnf'));
  return specs;
}

export function countParams(c: TransformerConfig): number {
  return paramSpecs(c).reduce((n, s) => n + s.shape.reduce((p, d) => p * d, 1), 0);
}

/** Names to pass as AdamW's `noDecay`. */
export function noDecayParams(c: TransformerConfig): Set<string> {
  return new Set(paramSpecs(c).filter((s) => s.noDecay).map((s) => s.name));
}

/** Seeded init: parameters are drawn in spec order from `rng`. */
export function initParams(c: TransformerConfig, rng: Rng): ParamStore {
  const out: ParamStore = {};
  for (const s of paramSpecs(c)) {
    const n = s.shape.reduce((p, d) => p * d, 1);
    const a = new Float32Array(n);
    if (s.init === 'ones') a.fill(1);
    else if (s.init === 'normal') for (let i = 0; i < n; i++) a[i] = rng.normal(0, s.std ?? 0.02);
    out[s.name] = a;
  }
  return out;
}

/**
 * A deeper model that computes exactly what `params` computes: `add` blocks appended after the
 * last one, each starting as the identity (its attention and MLP output projections at zero, so
 * the residual stream passes unchanged), the rest of each block initialized as fresh. Fine-tuning
 * then adds capacity without first unlearning (model growth; session 8 of docs/model.md).
 */
export function growLayers(c: TransformerConfig, params: ParamStore, add: number, rng: Rng): { config: TransformerConfig; params: ParamStore } {
  if (!Number.isInteger(add) || add < 0) throw new Error(`layers to add must be a whole number >= 0, got ${add}`);
  const config = { ...c, nLayers: c.nLayers + add };
  const fresh = initParams(config, rng);
  const out: ParamStore = { ...params };
  for (let l = c.nLayers; l < config.nLayers; l++) {
    for (const s of paramSpecs(config)) {
      if (!s.name.startsWith(`h${l}.`)) continue;
      const zero = s.name.endsWith('.proj.w') || s.name.endsWith('.fc2.w');
      out[s.name] = zero ? new Float32Array(fresh[s.name]!.length) : fresh[s.name]!;
    }
  }
  return { config, params: out };
}

/**
 * The same model with `add` rows appended to its tied embedding table, drawn as initialization
 * draws them: new tokens (a new tool argument's name) start near zero logits, old ids unchanged.
 */
export function addVocabRows(c: TransformerConfig, params: ParamStore, add: number, rng: Rng): { config: TransformerConfig; params: ParamStore } {
  if (!Number.isInteger(add) || add < 0) throw new Error(`rows to add must be a whole number >= 0, got ${add}`);
  if (add === 0) return { config: c, params };
  const config = { ...c, vocabSize: c.vocabSize + add };
  const fresh = initParams(config, rng)['tok_emb']!;
  const table = new Float32Array(config.vocabSize * c.dModel);
  table.set(params['tok_emb']!);
  table.set(fresh.subarray(c.vocabSize * c.dModel), c.vocabSize * c.dModel);
  return { config, params: { ...params, tok_emb: table } };
}

/** The same model with motion features (patchMotion) whose projection starts at zero: outputs unchanged. */
export function addMotion(c: TransformerConfig, params: ParamStore): { config: TransformerConfig; params: ParamStore } {
  if (c.patchMotion) return { config: c, params };
  return { config: { ...c, patchMotion: true }, params: { ...params, 'motion.w': new Float32Array(c.patchDim * c.dModel) } };
}

export interface StemShapeInput {
  channels: number;
  cell: number;
  stride: number;
  pool: number;
}

/**
 * The same model with a convolutional stem beside its linear patch projection (stemBeside): the
 * stem's windows start random, its projection at zero, so outputs are unchanged and the
 * fine-tune learns what the stem adds (glyphs read wherever they sit in a patch).
 */
export function addStem(c: TransformerConfig, params: ParamStore, s: StemShapeInput, rng: Rng): { config: TransformerConfig; params: ParamStore } {
  if (c.stemChannels) throw new Error('addStem: the model already has a patch stem');
  const config = TransformerConfigSchema.parse({ ...c, stemChannels: s.channels, stemCell: s.cell, stemStride: s.stride, stemPool: s.pool, stemBeside: true });
  const fresh = initParams(config, rng);
  return { config, params: { ...params, 'stem.w': fresh['stem.w']!, 'stem.b': fresh['stem.b']!, 'stem.proj': new Float32Array(fresh['stem.proj']!.length) } };
}

export type LossType = 'sft' | 'grpo';
export interface GrpoLossOptions {
  epsLow: number;
  epsHigh: number;
  /** KL(k3) coefficient toward the reference policy. */
  beta: number;
  /**
   * The rollouts' sampling temperature: logits are divided by it before the softmax, so ratio, KL
   * and entropy are those of the distribution that sampled the tokens. Default 1.
   */
  temperature?: number;
}
export const DEFAULT_GRPO: GrpoLossOptions = { epsLow: 0.2, epsHigh: 0.28, beta: 0.01 };

export interface BuiltGraph {
  model: Uint8Array;
  inputNames: string[];
  outputNames: string[];
}

/** Symbolic dims: B batch, T new positions, NV visual tokens, P past length (KV cache). */
interface SeqInputs {
  tokens: Tensor;
  positions: Tensor;
  patchSlot: Tensor;
  patches: Tensor;
  patchTimes: Tensor;
  /** Only for models with patchCells. */
  patchCells?: Tensor;
  /** Only for models with patchMotion. */
  patchPrev?: Tensor;
}

function seqInputs(g: Graph, c: TransformerConfig): SeqInputs {
  return {
    tokens: g.input('tokens', 'int32', ['B', 'T']),
    positions: g.input('positions', 'int32', ['B', 'T']),
    patchSlot: g.input('patch_slot', 'int32', ['B', 'T']),
    patches: g.input('patches', 'float32', ['NV', c.patchDim]),
    patchTimes: g.input('patch_times', 'float32', ['NV']),
    ...(c.patchCells ? { patchCells: g.input('patch_cells', 'int32', ['NV']) } : {}),
    ...(c.patchMotion ? { patchPrev: g.input('patch_prev', 'int32', ['NV']) } : {}),
  };
}

function paramInputs(g: Graph, c: TransformerConfig): Map<string, Tensor> {
  return new Map(paramSpecs(c).map((s) => [s.name, g.input(s.name, 'float32', s.shape)]));
}

/** Periods from 0.5 s to ~2000 s so both frame-to-frame and whole-video offsets are visible. */
export function timeFrequencies(n: number): Float32Array {
  const half = n / 2;
  return Float32Array.from({ length: half }, (_, i) => (2 * Math.PI) / (0.5 * Math.pow(4000, half > 1 ? i / (half - 1) : 0)));
}

interface BodyOut {
  hidden: Tensor;
  present: Tensor[];
}

/**
 * Embeddings + decoder blocks. With `past` (per layer K, V of shape [B,H,P,Dh]), new keys/values
 * are appended and returned as `present`; key positions are 0..P+T-1 and a query at position p
 * sees keys at positions <= p.
 */
function body(g: Graph, c: TransformerConfig, p: Map<string, Tensor>, x: SeqInputs, past?: Tensor[]): BodyOut {
  const P = (n: string): Tensor => {
    const t = p.get(n);
    if (!t) throw new Error(`missing parameter ${n}`);
    return t;
  };
  const D = c.dModel;
  const H = c.nHeads;
  const Dh = D / H;
  // Visual tokens: patch projection + time embedding; row 0 of the table is the "no patch" row.
  const angles = g.mul(g.unsqueeze(x.patchTimes, [-1]), g.constant(timeFrequencies(c.timeFeatures), [c.timeFeatures / 2]));
  const timeFeat = g.concat([g.sin(angles), g.cos(angles)], -1);
  let vis = g.add(g.add(g.matmul(c.stemBeside ? x.patches : stem(g, c, x.patches, P), P('patch.w')), P('patch.b')), g.matmul(timeFeat, P('time.w')));
  if (c.stemBeside) vis = g.add(vis, g.matmul(stem(g, c, x.patches, P), P('stem.proj')));
  if (x.patchCells) vis = g.add(vis, g.gather(P('cell_emb'), x.patchCells));
  if (x.patchPrev) vis = g.add(vis, g.matmul(g.sub(x.patches, g.gather(x.patches, x.patchPrev)), P('motion.w')));
  const table = g.concat([g.constant(new Float32Array(D), [1, D]), vis], 0);
  let tok = g.gather(P('tok_emb'), x.tokens);
  if (!c.patchTokens) tok = g.mul(tok, g.unsqueeze(g.cast(g.equal(x.patchSlot, g.constant(new Int32Array([0]), [], 'int32')), 'float32'), [-1]));
  let h = g.add(g.add(tok, g.gather(table, x.patchSlot)), g.gather(P('pos_emb'), x.positions));

  const qpos = g.unsqueeze(g.cast(x.positions, 'int64'), [1, 3]); // [B,1,T,1]
  let bias: Tensor | null = null;
  const present: Tensor[] = [];
  const scale = 1 / Math.sqrt(Dh);
  for (let l = 0; l < c.nLayers; l++) {
    const n = `h${l}`;
    const a = g.layerNorm(h, P(`${n}.ln1.g`), P(`${n}.ln1.b`), c.lnEps);
    const qkv = g.add(g.matmul(a, P(`${n}.qkv.w`)), P(`${n}.qkv.b`));
    const parts = g.split(qkv, 2, [D, D, D]);
    const heads = (i: number): Tensor => g.transpose(g.reshape(parts[i]!, [0, 0, H, Dh]), [0, 2, 1, 3]);
    const q = g.mul(heads(0), scale);
    let k = heads(1);
    let v = heads(2);
    if (past) {
      k = g.concat([past[2 * l]!, k], 2);
      v = g.concat([past[2 * l + 1]!, v], 2);
      present.push(k, v);
    }
    if (!bias) {
      const kpos = g.unsqueeze(g.range(g.dim(k, 2)), [0, 1, 2]); // [1,1,1,S]
      bias = g.where(g.lessOrEqual(kpos, qpos), 0, -1e9);
    }
    const att = g.softmax(g.add(g.matmul(q, g.t(k)), bias), -1);
    const ctx = g.reshape(g.transpose(g.matmul(att, v), [0, 2, 1, 3]), [0, 0, D]);
    h = g.add(h, g.add(g.matmul(ctx, P(`${n}.proj.w`)), P(`${n}.proj.b`)));
    const m = g.layerNorm(h, P(`${n}.ln2.g`), P(`${n}.ln2.b`), c.lnEps);
    const f = g.gelu(g.add(g.matmul(m, P(`${n}.fc1.w`)), P(`${n}.fc1.b`)));
    h = g.add(h, g.add(g.matmul(f, P(`${n}.fc2.w`)), P(`${n}.fc2.b`)));
  }
  return { hidden: g.layerNorm(h, P('lnf.g'), P('lnf.b'), c.lnEps), present };
}

/** Tied LM head: logits = h @ tok_emb^T. */
function logitsOf(g: Graph, p: Map<string, Tensor>, hidden: Tensor): Tensor {
  return g.matmul(hidden, g.t(p.get('tok_emb')!));
}

function maskedMean(g: Graph, perTok: Tensor, mask: Tensor, denom: Tensor): Tensor {
  return g.div(g.sumAll(g.mul(perTok, mask)), denom);
}

/** Patch rows [NV, patchDim] -> the features the patch projection reads (see stemChannels). */
function stem(g: Graph, c: TransformerConfig, patches: Tensor, P: (n: string) => Tensor): Tensor {
  if (!c.stemChannels) return patches;
  const m = stemWindows(c), k = c.stemCell, step = c.stemStride || k, pool = c.stemPool, C = c.stemChannels;
  let cells: Tensor;
  if (step === k) {
    // [NV, side*side*3] row-major (y, x, rgb) -> [NV, m, k, m, k, 3] -> cells [NV, m*m, k*k*3].
    cells = g.reshape(g.transpose(g.reshape(patches, [-1, m, k, m, k, 3]), [0, 1, 3, 2, 4, 5]), [-1, m * m, k * k * 3]);
  } else {
    // Overlapping windows: gather each window's pixels (pixels on axis 0, the axis Gather reads).
    const side = patchSide(c);
    const idx = new Int32Array(m * m * k * k);
    for (let wy = 0, o = 0; wy < m; wy++) for (let wx = 0; wx < m; wx++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) idx[o++] = (wy * step + y) * side + wx * step + x;
    const pixels = g.transpose(g.reshape(patches, [-1, side * side, 3]), [1, 0, 2]); // [side*side, NV, 3]
    const win = g.gather(pixels, g.constant(idx, [m * m, k * k], 'int32')); // [m*m, k*k, NV, 3]
    cells = g.reshape(g.transpose(win, [2, 0, 1, 3]), [-1, m * m, k * k * 3]);
  }
  let feats = g.gelu(g.add(g.matmul(cells, P('stem.w')), P('stem.b'))); // [NV, m*m, C]
  if (pool > 1) {
    const q = m / pool;
    feats = g.reduceMean(g.reshape(feats, [-1, q, pool, q, pool, C]), [2, 4]);
  }
  return g.reshape(feats, [-1, stemGrid(c) ** 2 * C]);
}

/**
 * Training graph. Inputs: parameters (by name), tokens/positions/patch_slot [B,T] int32,
 * patches [NV,patchDim], patch_times [NV] (+ patch_cells [NV] with patchCells, patch_prev [NV] with patchMotion), targets [B,T] int32, loss_mask [B,T] float; for
 * 'grpo' also old_logprobs, ref_logprobs, advantages [B,T]. Outputs: loss, logprobs [B,T],
 * (grpo: clip_frac, kl, entropy), and `grad.<param>` for every parameter.
 * With `logitBias` the graph also takes logit_bias [B,T,V] (0 or very negative), added to the
 * logits before the softmax: log-probs, ratio, KL and entropy are then those of the guided
 * (masked) distribution that sampled the rollout; with `grpo.temperature` they are the tempered one's.
 */
export function buildTrainGraph(c: TransformerConfig, lossType: LossType, grpo: GrpoLossOptions = DEFAULT_GRPO, opts: { logitBias?: boolean } = {}): BuiltGraph {
  const g = new Graph();
  const params = paramInputs(g, c);
  const seq = seqInputs(g, c);
  const targets = g.input('targets', 'int32', ['B', 'T']);
  const mask = g.input('loss_mask', 'float32', ['B', 'T']);
  const extra: Tensor[] = [];
  const { hidden } = body(g, c, params, seq);
  const bias = opts.logitBias ? g.input('logit_bias', 'float32', ['B', 'T', c.vocabSize]) : null;
  if (bias) extra.push(bias);
  const raw = logitsOf(g, params, hidden);
  const T = lossType === 'grpo' ? (grpo.temperature ?? 1) : 1;
  const logits = T !== 1 ? g.mul(raw, g.scalar(1 / T)) : raw;
  const logp = g.logSoftmax(bias ? g.add(logits, bias) : logits, -1);
  const lp = g.pickLast(logp, targets);
  const denom = g.clip(g.sumAll(mask), 1, 3e38); // token-mean over the whole batch; empty mask -> 0
  const outputs: Record<string, Tensor> = {};
  if (lossType === 'sft') {
    outputs['loss'] = g.neg(maskedMean(g, lp, mask, denom));
  } else {
    const old = g.input('old_logprobs', 'float32', ['B', 'T']);
    const ref = g.input('ref_logprobs', 'float32', ['B', 'T']);
    const adv = g.input('advantages', 'float32', ['B', 'T']);
    extra.push(old, ref, adv);
    const ratio = g.exp(g.sub(lp, old));
    const pg1 = g.mul(ratio, adv);
    const pg2 = g.mul(g.clip(ratio, 1 - grpo.epsLow, 1 + grpo.epsHigh), adv);
    const obj = g.where(g.lessOrEqual(pg1, pg2), pg1, pg2); // min(): the pessimistic PPO bound
    const d = g.sub(ref, lp);
    const kl = g.sub(g.sub(g.exp(d), d), 1); // k3 estimator of KL(pi || ref), >= 0
    const perTok = grpo.beta !== 0 ? g.sub(g.mul(kl, grpo.beta), obj) : g.neg(obj);
    outputs['loss'] = maskedMean(g, perTok, mask, denom);
    outputs['clip_frac'] = maskedMean(g, g.cast(g.less(pg2, pg1), 'float32'), mask, denom);
    outputs['kl'] = maskedMean(g, kl, mask, denom);
    outputs['entropy'] = maskedMean(g, g.neg(g.reduceSum(g.mul(g.exp(logp), logp), [-1])), mask, denom);
  }
  outputs['logprobs'] = lp;
  const names = [...params.keys()];
  const grads = gradients(g, outputs['loss']!, [...params.values()]);
  names.forEach((n, i) => (outputs[`grad.${n}`] = grads[i]!));
  const inputs = [...params.values(), ...Object.values(seq), targets, mask, ...extra];
  return {
    model: exportOnnx(g, { inputs, outputs, name: `train_${lossType}` }),
    inputNames: inputs.map((t) => t.name),
    outputNames: Object.keys(outputs),
  };
}

/**
 * Inference graph. Inputs: parameters, tokens/positions/patch_slot [B,T], patches, patch_times (+ patch_cells, patch_prev);
 * with kvCache also past_k.<l>, past_v.<l> [B,nHeads,P,dModel/nHeads]. Outputs: logits [B,T,V]
 * (and present_k.<l>, present_v.<l> [B,nHeads,P+T,Dh] with kvCache).
 */
export function buildForwardGraph(c: TransformerConfig, opts: { kvCache: boolean }): BuiltGraph {
  const g = new Graph();
  const params = paramInputs(g, c);
  const seq = seqInputs(g, c);
  const Dh = c.dModel / c.nHeads;
  const past: Tensor[] = [];
  if (opts.kvCache) {
    for (let l = 0; l < c.nLayers; l++) {
      past.push(g.input(`past_k.${l}`, 'float32', ['B', c.nHeads, 'P', Dh]), g.input(`past_v.${l}`, 'float32', ['B', c.nHeads, 'P', Dh]));
    }
  }
  const { hidden, present } = body(g, c, params, seq, opts.kvCache ? past : undefined);
  const outputs: Record<string, Tensor> = { logits: logitsOf(g, params, hidden) };
  present.forEach((t, i) => (outputs[`present_${i % 2 ? 'v' : 'k'}.${i >> 1}`] = t));
  const inputs = [...params.values(), ...Object.values(seq), ...past];
  return {
    model: exportOnnx(g, { inputs, outputs, name: opts.kvCache ? 'forward_kv' : 'forward' }),
    inputNames: inputs.map((t) => t.name),
    outputNames: Object.keys(outputs),
  };
}
