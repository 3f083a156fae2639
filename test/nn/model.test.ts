import { describe, expect, it } from 'vitest';
import { AdamW } from '../../src/nn/adam.js';
import { packSequences, TransformerModel, type GrpoBatch, type SftBatch, type PromptItem } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { addMotion, addStem, addVocabRows, countParams, growLayers, noDecayParams, paramSpecs, parseTransformerConfig, type ParamStore } from '../../src/nn/transformer.js';
import { tinyBatch, tinyConfig } from './fixtures.js';

const CHECKED = ['tok_emb', 'pos_emb', 'patch.w', 'patch.b', 'time.w', 'h0.qkv.w', 'h0.ln1.g', 'h1.fc1.w', 'h1.fc2.b', 'lnf.b'];

/** Directional finite differences of the loss for several parameter tensors. */
async function checkModelGrads(model: TransformerModel, batch: SftBatch | GrpoBatch, names = CHECKED): Promise<void> {
  const base = await model.lossAndGrads(batch);
  const rng = new Rng(7);
  const eps = 2e-3;
  for (const name of names) {
    const p = model.params[name]!;
    const orig = p.slice();
    const v = Float32Array.from(p, () => rng.normal());
    const at = async (s: number): Promise<number> => {
      for (let i = 0; i < p.length; i++) p[i] = orig[i]! + s * eps * v[i]!;
      return (await model.lossAndGrads(batch)).loss;
    };
    const fd = ((await at(1)) - (await at(-1))) / (2 * eps);
    p.set(orig);
    let ana = 0;
    base.grads[name]!.forEach((g, i) => (ana += g * v[i]!));
    if (process.env["DEBUG_GRAD"]) console.log(name, fd, ana);
    expect(Math.abs(fd - ana), `${name}: fd ${fd} vs analytic ${ana}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(fd));
  }
}

describe('transformer', () => {
  it('reports the parameter count', () => {
    const n = paramSpecs(tinyConfig).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    expect(countParams(tinyConfig)).toBe(n);
    expect(countParams({ ...tinyConfig, vocabSize: 1024, dModel: 128, nLayers: 3, nHeads: 4, dFF: 512, maxSeq: 512, patchDim: 2352, timeFeatures: 16 })).toBe(1094912);
  });

  it('seeded init is deterministic', () => {
    const a = TransformerModel.init(tinyConfig, 3).params;
    const b = TransformerModel.init(tinyConfig, 3).params;
    expect(Array.from(a['h0.qkv.w']!)).toEqual(Array.from(b['h0.qkv.w']!));
  });

  it('SFT gradients match finite differences', async () => {
    const model = TransformerModel.init(tinyConfig, 1, { threads: 1 });
    const r = await model.lossAndGrads(tinyBatch(2));
    expect(r.loss).toBeGreaterThan(1.5);
    const b = tinyBatch(2);
    let num = 0, den = 0;
    r.logprobs.forEach((x, i) => ((num -= x * b.lossMask[i]!), (den += b.lossMask[i]!)));
    expect(r.loss).toBeCloseTo(num / den, 5);
    expect(Object.keys(r.grads).sort()).toEqual(Object.keys(model.params).sort());
    await checkModelGrads(model, tinyBatch(2));
    await model.release();
  });

  it('the convolutional patch stem: gradients match finite differences, and it sees each cell with the same weights', async () => {
    // 4x4 RGB patches cut into 2x2 cells: 4 cells of 12 floats, 3 shared features each.
    const c = parseTransformerConfig({ ...tinyConfig, patchDim: 48, stemCell: 2, stemChannels: 3 });
    expect(paramSpecs(c).find((s) => s.name === 'stem.w')?.shape).toEqual([12, 3]);
    expect(paramSpecs(c).find((s) => s.name === 'patch.w')?.shape).toEqual([12, c.dModel]);
    const model = TransformerModel.init(c, 1, { threads: 1 });
    await checkModelGrads(model, tinyBatch(2, 2, 8, c), ['stem.w', 'stem.b', 'patch.w', 'h0.qkv.w']);
    // Moving a cell's pixels to another cell moves its features: with patch.w reading only cell 0's
    // features, a patch whose content sits in cell 0 differs from one whose content sits in cell 3.
    const cell = (k: number) => {
      const p = new Float32Array(48);
      const [cy, cx] = [Math.floor(k / 2) * 2, (k % 2) * 2];
      for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) for (let ch = 0; ch < 3; ch++) p[((cy + y) * 4 + cx + x) * 3 + ch] = ch === 0 ? 1 : -1;
      return p;
    };
    const feed = (p: Float32Array): SftBatch => ({ batch: 1, seq: 2, tokens: new Int32Array([1, 1]), patchSlot: new Int32Array([1, 0]), patches: p, patchTimes: new Float32Array([0]), targets: new Int32Array([2, 2]), lossMask: new Float32Array([0, 1]) });
    model.params['patch.w']!.fill(0, 3 * c.dModel); // only cell 0's 3 features reach the token
    const [a, b] = [await model.lossAndGrads(feed(cell(0))), await model.lossAndGrads(feed(cell(3)))];
    expect(Math.abs(a.loss - b.loss)).toBeGreaterThan(1e-4);
    // Shared weights: the same content in cell 3, read through cell 3's slot of patch.w, gives the same token.
    const w = model.params['patch.w']!;
    w.copyWithin(9 * c.dModel, 0, 3 * c.dModel);
    w.fill(0, 0, 3 * c.dModel);
    expect((await model.lossAndGrads(feed(cell(3)))).loss).toBeCloseTo(a.loss, 5);
    await model.release();
  });

  it('the overlapping, pooled stem: gradients match finite differences, and a dot moved inside the patch gives the same token', async () => {
    // 5x5 RGB patches, 2x2 windows every pixel: 4x4 windows of 12 floats; pooled 4x4 -> one cell of 3 features.
    const c = parseTransformerConfig({ ...tinyConfig, patchDim: 75, stemCell: 2, stemStride: 1, stemPool: 4, stemChannels: 3 });
    expect(paramSpecs(c).find((s) => s.name === 'stem.w')?.shape).toEqual([12, 3]);
    expect(paramSpecs(c).find((s) => s.name === 'patch.w')?.shape).toEqual([3, c.dModel]);
    expect(() => parseTransformerConfig({ ...c, stemPool: 3 })).toThrow(/stemPool/);
    const model = TransformerModel.init(c, 1, { threads: 1 });
    await checkModelGrads(model, tinyBatch(2, 2, 8, c), ['stem.w', 'stem.b', 'patch.w', 'h0.qkv.w']);
    const dot = (y: number, x: number) => {
      const p = new Float32Array(75);
      for (let ch = 0; ch < 3; ch++) p[(y * 5 + x) * 3 + ch] = ch === 0 ? 1 : -0.5;
      return p;
    };
    const feed = (p: Float32Array): SftBatch => ({ batch: 1, seq: 2, tokens: new Int32Array([1, 1]), patchSlot: new Int32Array([1, 0]), patches: p, patchTimes: new Float32Array([0]), targets: new Int32Array([2, 2]), lossMask: new Float32Array([0, 1]) });
    // Every window offset sees an interior dot once, wherever it is: the average is the same.
    const [a, b, edge] = [await model.lossAndGrads(feed(dot(1, 1))), await model.lossAndGrads(feed(dot(3, 2))), await model.lossAndGrads(feed(dot(0, 0)))];
    expect(b.loss).toBeCloseTo(a.loss, 5);
    expect(Math.abs(edge.loss - a.loss)).toBeGreaterThan(1e-5); // a corner pixel is seen by one window only
    // Pooled 2x2 instead: four cells, so where the dot sits matters again.
    const c2 = parseTransformerConfig({ ...c, stemPool: 2 });
    expect(paramSpecs(c2).find((s) => s.name === 'patch.w')?.shape).toEqual([12, c.dModel]);
    const m2 = TransformerModel.init(c2, 1, { threads: 1 });
    expect(Math.abs((await m2.lossAndGrads(feed(dot(1, 1)))).loss - (await m2.lossAndGrads(feed(dot(3, 2)))).loss)).toBeGreaterThan(1e-5);
    await model.release();
    await m2.release();
  });

  it('patchTokens: a visual token adds its token id embedding (frame references); off, the id is ignored', async () => {
    const withIds = tinyBatch(2);
    const other = { ...withIds, tokens: withIds.tokens.slice() };
    // Change only the ids at visual positions.
    withIds.patchSlot!.forEach((s, i) => s > 0 && (other.tokens[i] = (other.tokens[i]! + 1) % tinyConfig.vocabSize));
    const plain = TransformerModel.init(tinyConfig, 1, { threads: 1 });
    expect(Array.from((await plain.logprobs(other)))).toEqual(Array.from(await plain.logprobs(withIds)));
    const refs = TransformerModel.init({ ...tinyConfig, patchTokens: true }, 1, { threads: 1 });
    expect(Array.from(await refs.logprobs(other))).not.toEqual(Array.from(await refs.logprobs(withIds)));
    await checkModelGrads(refs, withIds);
    await plain.release();
    await refs.release();
  });

  it('patchCells: a visual token adds the embedding of its cell in the frame; out-of-range cells clamp', async () => {
    const c = parseTransformerConfig({ ...tinyConfig, patchCells: 4 });
    expect(paramSpecs(c).find((s) => s.name === 'cell_emb')?.shape).toEqual([4, c.dModel]);
    expect(noDecayParams(c).has('cell_emb')).toBe(true);
    const model = TransformerModel.init(c, 1, { threads: 1 });
    const at = (cells: number[]): SftBatch => ({ ...tinyBatch(2, 2, 8, c), patchCells: Int32Array.from(cells) });
    await checkModelGrads(model, at([0, 1, 2, 3]), ['cell_emb', 'patch.w', 'h0.qkv.w']);
    // Same pixels, swapped cells: a different loss (the model knows where each patch sits).
    const [a, b] = [await model.lossAndGrads(at([0, 1, 2, 3])), await model.lossAndGrads(at([1, 0, 3, 2]))];
    expect(Math.abs(a.loss - b.loss)).toBeGreaterThan(1e-5);
    expect((await model.lossAndGrads(at([0, 1, 2, 9]))).loss).toBeCloseTo(a.loss, 6);
    // Without patchCells the cells are ignored.
    const plain = TransformerModel.init(tinyConfig, 1, { threads: 1 });
    expect((await plain.lossAndGrads(at([1, 0, 3, 2]))).loss).toBeCloseTo((await plain.lossAndGrads(at([0, 1, 2, 3]))).loss, 6);
    await model.release();
    await plain.release();
  });

  it('growLayers: the deeper model computes the same loss and logits, and its new block learns', async () => {
    const model = TransformerModel.init(tinyConfig, 2, { threads: 1 });
    const g = growLayers(tinyConfig, model.params, 2, new Rng(9));
    expect(g.config.nLayers).toBe(tinyConfig.nLayers + 2);
    expect(Object.keys(g.params).sort()).toEqual(paramSpecs(g.config).map((s) => s.name).sort());
    const deep = new TransformerModel(g.config, g.params, { threads: 1 });
    const batch = tinyBatch(3);
    const [a, b] = [await model.lossAndGrads(batch), await deep.lossAndGrads(batch)];
    expect(b.loss).toBeCloseTo(a.loss, 5);
    const [la, lb] = [await model.logits(batch), await deep.logits(batch)];
    expect(Math.max(...la.map((x, i) => Math.abs(x - lb[i]!)))).toBeLessThan(1e-4);
    // The new block's zeroed output projection gets a gradient, so training moves it off the identity.
    const top = `h${g.config.nLayers - 1}`;
    expect(Math.max(...b.grads[`${top}.fc2.w`]!.map(Math.abs))).toBeGreaterThan(0);
    expect(g.params[`${top}.qkv.w`]!.some((x) => x !== 0)).toBe(true);
    expect(() => growLayers(tinyConfig, model.params, -1, new Rng(1))).toThrow(/whole number/);
    await model.release();
    await deep.release();
  });

  it('addVocabRows: old tokens keep their logits, the new rows add columns that train', async () => {
    const model = TransformerModel.init(tinyConfig, 2, { threads: 1 });
    const g = addVocabRows(tinyConfig, model.params, 3, new Rng(9));
    expect(g.config.vocabSize).toBe(tinyConfig.vocabSize + 3);
    expect(g.params['tok_emb']!.subarray(0, model.params['tok_emb']!.length)).toEqual(model.params['tok_emb']);
    const wide = new TransformerModel(g.config, g.params, { threads: 1 });
    const batch = tinyBatch(3);
    const [la, lb] = [await model.logits(batch), await wide.logits(batch)];
    const [V, W] = [tinyConfig.vocabSize, g.config.vocabSize];
    let diff = 0;
    for (let r = 0; r < la.length / V; r++) for (let v = 0; v < V; v++) diff = Math.max(diff, Math.abs(la[r * V + v]! - lb[r * W + v]!));
    expect(diff).toBeLessThan(1e-4);
    const grads = (await wide.lossAndGrads(batch)).grads['tok_emb']!;
    expect(Math.max(...grads.subarray(V * tinyConfig.dModel).map(Math.abs))).toBeGreaterThan(0);
    expect(addVocabRows(tinyConfig, model.params, 0, new Rng(1)).config).toBe(tinyConfig);
    await model.release();
    await wide.release();
  });

  it('patchMotion: a visual token sees its patch minus the previous frame\'s; gradients match; addMotion keeps outputs', async () => {
    const c = parseTransformerConfig({ ...tinyConfig, patchMotion: true });
    expect(paramSpecs(c).find((s) => s.name === 'motion.w')?.shape).toEqual([c.patchDim, c.dModel]);
    const model = TransformerModel.init(c, 3, { threads: 1 });
    // Each row's second visual token looks back at its first (rows 1 and 3 of patches).
    const batch: SftBatch = { ...tinyBatch(2, 2, 8, c), patchPrev: Int32Array.from([0, 0, 2, 2]) };
    await checkModelGrads(model, batch, ['motion.w', 'patch.w', 'h0.qkv.w']);
    // Own rows (the default) make the difference zero: motion.w then has no gradient and no effect.
    const still = await model.lossAndGrads(tinyBatch(2, 2, 8, c));
    expect(Math.max(...still.grads['motion.w']!.map(Math.abs))).toBe(0);
    expect((await model.lossAndGrads(batch)).loss).not.toBeCloseTo(still.loss, 5);
    await expect(model.lossAndGrads({ ...batch, patchPrev: Int32Array.from([0, 0, 2, 4]) })).rejects.toThrow(/patchPrev/);
    // addMotion on a trained model: same logits before fine-tuning, and motion.w learns.
    const plain = TransformerModel.init(tinyConfig, 3, { threads: 1 });
    const m = addMotion(tinyConfig, plain.params);
    const moving = new TransformerModel(m.config, m.params, { threads: 1 });
    const [a, b] = [await plain.logits(batch), await moving.logits(batch)];
    expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))).toBeLessThan(1e-5);
    expect(Math.max(...(await moving.lossAndGrads(batch)).grads['motion.w']!.map(Math.abs))).toBeGreaterThan(0);
    await Promise.all([model.release(), plain.release(), moving.release()]);
  });

  it('stemBeside: the stem adds to the linear projection; gradients match; addStem keeps outputs and its projection learns', async () => {
    const base = parseTransformerConfig({ ...tinyConfig, patchDim: 75 });
    const plain = TransformerModel.init(base, 3, { threads: 1 });
    const s = addStem(base, plain.params, { channels: 3, cell: 2, stride: 1, pool: 2 }, new Rng(5));
    expect(s.config).toMatchObject({ stemChannels: 3, stemCell: 2, stemStride: 1, stemPool: 2, stemBeside: true });
    expect(paramSpecs(s.config).find((p) => p.name === 'patch.w')?.shape).toEqual([75, base.dModel]);
    expect(paramSpecs(s.config).find((p) => p.name === 'stem.proj')?.shape).toEqual([12, base.dModel]);
    const grown = new TransformerModel(s.config, s.params, { threads: 1 });
    const batch = tinyBatch(2, 2, 8, base);
    const [a, b] = [await plain.logits(batch), await grown.logits(batch)];
    expect(Math.max(...a.map((x, i) => Math.abs(x - b[i]!)))).toBeLessThan(1e-5);
    expect(Math.max(...(await grown.lossAndGrads(batch)).grads['stem.proj']!.map(Math.abs))).toBeGreaterThan(0);
    expect(() => addStem(s.config, s.params, { channels: 3, cell: 2, stride: 1, pool: 2 }, new Rng(5))).toThrow(/already/);
    // Trained away from zero, every part of the sum has the right gradient.
    const rng = new Rng(9);
    for (const n of ['stem.proj']) s.params[n] = Float32Array.from(s.params[n]!, () => 0.2 * rng.normal());
    const moved = new TransformerModel(s.config, s.params, { threads: 1 });
    await checkModelGrads(moved, batch, ['stem.w', 'stem.b', 'stem.proj', 'patch.w', 'h0.qkv.w']);
    await Promise.all([plain.release(), grown.release(), moved.release()]);
  });

  it('packSequences: a visual item\'s `back` points at the same cell of the previous frame in its own row', () => {
    const v = (back?: number): PromptItem => ({ patch: new Float32Array(2), time: 0, ...(back ? { back } : {}) });
    const b = packSequences([{ items: [{ token: 1 }, v(), v(), v(2), v(2)] }, { items: [v(1), v(), v(1)] }]);
    // Row 0: rows 0,1 are frame 0; 2,3 frame 1 (back 2 -> 0,1). Row 1: `back` past its start stays on itself.
    expect(Array.from(b.patchPrev!)).toEqual([0, 1, 0, 1, 4, 5, 5]);
  });

  it('GRPO gradients match finite differences; metrics are sane', async () => {
    const model = TransformerModel.init(tinyConfig, 4, { threads: 1 });
    const sft = tinyBatch(5);
    const lp = await model.logprobs(sft);
    const rng = new Rng(9);
    // Ratios exp(delta) sit far from the clip kinks (0.8, 1.28) so the loss is smooth locally.
    const deltas = [0, 0.5, -0.5, 0.1, -0.1];
    const old = Float32Array.from(lp, (x, i) => x - deltas[i % deltas.length]!);
    const batch: GrpoBatch = {
      ...sft,
      oldLogprobs: old,
      refLogprobs: Float32Array.from(lp, (x) => x + 0.3 * rng.normal()),
      advantages: Float32Array.from(lp, (_, i) => ((i >> 2) % 2 ? 1 : -0.7)),
    };
    const r = await model.lossAndGrads(batch);
    expect(r.clipFrac!).toBeGreaterThan(0);
    expect(r.clipFrac!).toBeLessThan(1);
    expect(r.kl!).toBeGreaterThan(0);
    expect(r.entropy!).toBeGreaterThan(1);
    expect(r.entropy!).toBeLessThanOrEqual(Math.log(tinyConfig.vocabSize) + 1e-4);
    // Loss and metrics against a float64 JS reference computed from the graph's own logprobs.
    let n = 0, loss = 0, clip = 0, kl = 0;
    r.logprobs.forEach((lpi, i) => {
      if (!batch.lossMask[i]) return;
      const ratio = Math.exp(lpi - batch.oldLogprobs[i]!);
      const a = batch.advantages[i]!;
      const pg1 = ratio * a;
      const pg2 = Math.min(Math.max(ratio, 0.8), 1.28) * a;
      const d = batch.refLogprobs[i]! - lpi;
      const k3 = Math.exp(d) - d - 1;
      loss += -Math.min(pg1, pg2) + 0.01 * k3;
      clip += pg2 < pg1 ? 1 : 0;
      kl += k3;
      n++;
    });
    expect(r.loss).toBeCloseTo(loss / n, 4);
    expect(r.clipFrac!).toBeCloseTo(clip / n, 5);
    expect(r.kl!).toBeCloseTo(kl / n, 4);
    // logprobs output of the training graph equals the forward graph's.
    r.logprobs.forEach((x, i) => expect(Math.abs(x - lp[i]!)).toBeLessThan(1e-4));
    await checkModelGrads(model, batch);
    await model.release();
  });

  it('KV-cache generation equals generation without cache', async () => {
    const model = TransformerModel.init(tinyConfig, 11, { threads: 1 });
    const prng = new Rng(1);
    const prompt: PromptItem[] = [
      { token: 1 },
      { patch: Float32Array.from({ length: 6 }, () => prng.uniform()), time: 0.5 },
      { patch: Float32Array.from({ length: 6 }, () => prng.uniform()), time: 2.5 },
      { token: 4 },
      { token: 7 },
    ];
    for (const [temperature, topP] of [
      [0, 1],
      [1, 0.9],
      [1.5, 1],
    ] as const) {
      const a = await model.generate(prompt, { maxNewTokens: 10, temperature, topP, rng: new Rng(42), useCache: true });
      const b = await model.generate(prompt, { maxNewTokens: 10, temperature, topP, rng: new Rng(42), useCache: false });
      expect(a.tokens).toEqual(b.tokens);
      a.logprobs.forEach((x, i) => expect(Math.abs(x - b.logprobs[i]!)).toBeLessThan(1e-4));
    }
    await model.release();
  });

  it('a guide dead end takes the previous token back and bans it there, with or without the KV cache', async () => {
    const model = TransformerModel.init(tinyConfig, 11, { threads: 1 });
    const prompt: PromptItem[] = [{ token: 1 }, { token: 4 }, { token: 7 }];
    for (const temperature of [0, 1]) {
      const free = await model.generate(prompt, { maxNewTokens: 5, temperature, rng: new Rng(3), allow: () => true });
      const g0 = free.tokens[0]!;
      // After g0 nothing may follow (a dead end found one token late); after any other first token, only 5 then 6.
      const allow = (t: number, g: readonly number[]) => (g.length === 0 ? true : g[0] === g0 ? false : g.length === 1 ? t === 5 : t === 6);
      const runs = await Promise.all([true, false].map((useCache) => model.generate(prompt, { maxNewTokens: 4, temperature, rng: new Rng(3), allow, useCache })));
      for (const r of runs) {
        expect(r.tokens[0]).not.toBe(g0);
        expect(r.tokens.slice(1)).toEqual([5, 6, 6]);
        expect(r.logprobs).toHaveLength(4);
        if (temperature > 0) expect(r.masks![0]![g0]).toBe(0); // the banned token is outside the distribution sampled
      }
      // The truncated cache gives the same continuation as recomputing without it.
      expect(runs[0]!.tokens).toEqual(runs[1]!.tokens);
      runs[0]!.logprobs.forEach((x, i) => expect(Math.abs(x - runs[1]!.logprobs[i]!)).toBeLessThan(1e-4));
    }
    // A guide that allows nothing after the first token ends its backtracks and runs unguided: no hang.
    const stuck = await model.generate(prompt, { maxNewTokens: 3, temperature: 0, rng: new Rng(3), allow: (_t, g) => g.length === 0 });
    expect(stuck.tokens).toHaveLength(3);
    await model.release();
  });

  it('overfits a fixed batch', async () => {
    const model = TransformerModel.init(tinyConfig, 5, { threads: 1 });
    const batch = tinyBatch(6, 4, 12);
    const opt = new AdamW({ lr: 1e-2, clipNorm: 1, noDecay: noDecayParams(tinyConfig) });
    let first = 0;
    let last = 0;
    for (let step = 0; step < 60; step++) {
      const r = await model.lossAndGrads(batch);
      if (step === 0) first = r.loss;
      last = r.loss;
      opt.update(model.params as ParamStore, r.grads);
    }
    expect(last).toBeLessThan(0.25 * first);
    await model.release();
  });
});

describe('packSequences', () => {
  it('shifts targets, masks visual targets and padding, buckets T', async () => {
    const { packSequences } = await import('../../src/nn/model.js');
    const patch = new Float32Array(6).fill(0.5);
    const b = packSequences(
      [
        { items: [{ token: 1 }, { patch, time: 1 }, { token: 2 }, { token: 3 }], train: [0, 0, 1, 1] },
        { items: [{ token: 4 }, { token: 5 }], train: [0, 1] },
      ],
      { bucket: 8 },
    );
    expect(b.seq).toBe(8);
    expect(Array.from(b.patchSlot!.slice(0, 4))).toEqual([0, 1, 0, 0]);
    expect(Array.from(b.targets.slice(0, 3))).toEqual([0, 2, 3]);
    expect(Array.from(b.lossMask.slice(0, 8))).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
    expect(Array.from(b.lossMask.slice(8, 10))).toEqual([1, 0]);
    expect(b.targets[8]).toBe(5);
    expect(b.patches!.length).toBe(6);
    const model = TransformerModel.init(tinyConfig, 1, { threads: 1 });
    const r = await model.lossAndGrads(b);
    expect(Number.isFinite(r.loss)).toBe(true);
    await model.release();
  });
});
