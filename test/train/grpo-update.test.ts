import { describe, expect, it } from "vitest";
import { AdamW, Rng, TransformerModel, type PromptItem } from "../../src/nn/index.js";
import { grpoUpdate, type TrainRow, type UpdateOptions } from "../../src/train/grpo/update.js";

const config = { vocabSize: 24, dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, maxSeq: 48, patchDim: 12, timeFeatures: 4, lnEps: 1e-5 };
const opts: UpdateOptions = { epochs: 1, minibatches: 1, microBatch: 8, bucket: 8, lr: 1e-2, epsLow: 0.2, epsHigh: 0.28, beta: 0, oldLogprobs: "recompute", temperature: 1 };

/** Prompt (text + 2 visual tokens) then `gen` generated tokens; advantage per row. */
function rows(advantages: number[], seed = 1): TrainRow[] {
  const rng = new Rng(seed);
  return advantages.map((advantage, r) => {
    const prompt: PromptItem[] = [{ token: 2 }, { token: 5 + r }, { patch: Float32Array.from({ length: 12 }, () => rng.normal()), time: 1 }, { patch: Float32Array.from({ length: 12 }, () => rng.normal()), time: 2 }, { token: 9 }];
    const gen = Array.from({ length: 3 + r }, () => 10 + rng.int(12));
    return { items: [...prompt, ...gen.map((token) => ({ token }))], train: [...prompt.map(() => 0), ...gen.map(() => 1)], sampledLogprobs: gen.map(() => 0), advantage };
  });
}

async function genLogprob(model: TransformerModel, row: TrainRow): Promise<number> {
  const { packSequences } = await import("../../src/nn/index.js");
  const b = packSequences([{ items: row.items, train: row.train }]);
  const lp = await model.logprobs(b);
  let s = 0;
  for (let i = 0; i < lp.length; i++) if (b.lossMask[i]) s += lp[i]!;
  return s;
}

describe("grpoUpdate", () => {
  it("raises the log-prob of positive-advantage turns and lowers negative ones", async () => {
    const model = TransformerModel.init(config, 7);
    const rs = rows([1, -1]);
    const before = await Promise.all(rs.map((r) => genLogprob(model, r)));
    const st = await grpoUpdate(rs, model, null, new AdamW({ lr: opts.lr, weightDecay: 0 }), { ...opts, epochs: 3 });
    const after = await Promise.all(rs.map((r) => genLogprob(model, r)));
    expect(after[0]!).toBeGreaterThan(before[0]!);
    expect(after[1]!).toBeLessThan(before[1]!);
    expect(st.optimizerSteps).toBe(3);
    expect(st.tokens).toBe(3 + 4);
    expect(st.logprobGap).toBeGreaterThan(0); // the sampled log-probs given here (0) are not the model's
    await model.release();
  });

  it("masks everything but generated tokens: zero advantages and no KL leave the weights unchanged", async () => {
    const model = TransformerModel.init(config, 7);
    const before = Object.fromEntries(Object.entries(model.params).map(([k, v]) => [k, Float32Array.from(v)]));
    const st = await grpoUpdate(rows([0, 0, 0]), model, null, new AdamW({ lr: opts.lr, weightDecay: 0 }), opts);
    expect(st.clipFrac).toBe(0);
    for (const [k, v] of Object.entries(before)) expect(Array.from(model.params[k]!)).toEqual(Array.from(v));
    await model.release();
  });

  it("keeps the token-mean exact across micro-batches (same update for 1 or 3 onnxruntime calls)", async () => {
    const a = TransformerModel.init(config, 3);
    const b = TransformerModel.init(config, 3);
    const rs = rows([1, -0.5, 0.25]);
    await grpoUpdate(rs, a, null, new AdamW({ lr: 1e-3, weightDecay: 0 }), { ...opts, microBatch: 3 });
    await grpoUpdate(rs, b, null, new AdamW({ lr: 1e-3, weightDecay: 0 }), { ...opts, microBatch: 1 });
    let maxDiff = 0;
    for (const k of Object.keys(a.params)) for (let i = 0; i < a.params[k]!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.params[k]![i]! - b.params[k]![i]!));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(maxDiff).toBeGreaterThanOrEqual(0);
    await a.release();
    await b.release();
  });

  it("pulls toward the frozen reference with beta > 0 (KL k3 reported)", async () => {
    const model = TransformerModel.init(config, 5);
    const ref = TransformerModel.init(config, 6);
    const adam = new AdamW({ lr: 1e-3, weightDecay: 0 });
    const kls: number[] = [];
    for (let i = 0; i < 6; i++) kls.push((await grpoUpdate(rows([0, 0]), model, ref, adam, { ...opts, lr: 1e-3, beta: 0.5 })).kl);
    expect(kls[0]!).toBeGreaterThan(0);
    expect(kls[5]!).toBeLessThan(kls[0]! * 0.9);
    await Promise.all([model.release(), ref.release()]);
  });

  it("scores guided rollouts under their mask: generation and update agree, forced tokens carry no gradient", async () => {
    const model = TransformerModel.init(config, 11);
    const prompt: PromptItem[] = [{ token: 2 }, { token: 5 }, { token: 9 }];
    // The guide allows even ids only, and only id 12 at the third step (a forced token).
    const allow = (t: number, generated: readonly number[]) => (generated.length === 2 ? t === 12 : t % 2 === 0);
    const gen = await model.generate(prompt, { maxNewTokens: 4, temperature: 1, rng: new Rng(3), allow });
    expect(gen.tokens[2]).toBe(12);
    expect(gen.tokens.every((t) => t % 2 === 0)).toBe(true);
    expect(gen.masks?.length).toBe(4);
    expect(gen.logprobs[2]).toBeCloseTo(0, 6); // forced: probability 1 under the guided distribution
    const unguided = await model.generate(prompt, { maxNewTokens: 4, temperature: 1, rng: new Rng(3) });
    expect(unguided.masks).toBeUndefined();
    const row: TrainRow = { items: [...prompt, ...gen.tokens.map((token) => ({ token }))], train: [0, 0, 0, 1, 1, 1, 1], sampledLogprobs: gen.logprobs, advantage: 1, guideMasks: gen.masks! };
    const st = await grpoUpdate([row], model, null, new AdamW({ lr: opts.lr, weightDecay: 0 }), opts);
    expect(st.logprobGap!).toBeLessThan(1e-4); // the update rebuilt the guided distribution exactly
    const unmasked = await grpoUpdate([{ ...row, guideMasks: undefined }], TransformerModel.init(config, 11), null, new AdamW({ lr: opts.lr, weightDecay: 0 }), opts);
    expect(unmasked.logprobGap!).toBeGreaterThan(0.1);
    // Only forced tokens: log-prob 0 whatever the weights, so the update moves nothing.
    const forced = TransformerModel.init(config, 11);
    const before = Object.fromEntries(Object.entries(forced.params).map(([k, v]) => [k, Float32Array.from(v)]));
    const only = (t: number) => Uint8Array.from({ length: config.vocabSize }, (_, v) => (v === t ? 1 : 0));
    await grpoUpdate([{ ...row, sampledLogprobs: [0, 0, 0, 0], guideMasks: gen.tokens.map(only) }], forced, null, new AdamW({ lr: opts.lr, weightDecay: 0 }), opts);
    for (const [k, v] of Object.entries(before)) expect(Array.from(forced.params[k]!), k).toEqual(Array.from(v));
    await model.release();
    await forced.release();
  });

  it("top-p rollouts: the nucleus is a mask, so the update rebuilds the distribution sampled", async () => {
    const { nucleusMask } = await import("../../src/nn/index.js");
    // The nucleus keeps the most likely tokens until their mass reaches top-p, at the temperature.
    const logits = Float32Array.from([0, Math.log(4), Math.log(3), Math.log(2)]); // probs 0.1 .4 .3 .2
    expect(Array.from(nucleusMask(logits, 1, 0.6)!)).toEqual([0, 1, 1, 0]);
    expect(Array.from(nucleusMask(logits, 1, 0.75)!)).toEqual([0, 1, 1, 1]);
    expect(nucleusMask(logits, 1, 0.95)).toBeNull();
    expect(Array.from(nucleusMask(logits, 0.25, 0.6)!)).toEqual([0, 1, 0, 0]); // colder: one token holds 0.6
    const model = TransformerModel.init(config, 11);
    const prompt: PromptItem[] = [{ token: 2 }, { token: 5 }, { token: 9 }];
    const gen = await model.generate(prompt, { maxNewTokens: 6, temperature: 1, topP: 0.3, rng: new Rng(5) });
    expect(gen.masks?.length).toBe(6);
    gen.tokens.forEach((t, j) => expect(gen.masks![j]?.[t] ?? 1).toBe(1));
    expect(gen.masks!.some((m) => m !== null && m.reduce((a, b) => a + b, 0) < config.vocabSize)).toBe(true);
    const row: TrainRow = { items: [...prompt, ...gen.tokens.map((token) => ({ token }))], train: [0, 0, 0, 1, 1, 1, 1, 1, 1], sampledLogprobs: gen.logprobs, advantage: 1, guideMasks: gen.masks! };
    const st = await grpoUpdate([row], model, null, new AdamW({ lr: opts.lr, weightDecay: 0 }), opts);
    expect(st.logprobGap!).toBeLessThan(1e-4);
    await model.release();
  });

  it("guided top-p rollouts ask the guide about the likeliest tokens only; the mask is the guided nucleus", async () => {
    const model = TransformerModel.init(config, 11);
    const prompt: PromptItem[] = [{ token: 2 }, { token: 5 }, { token: 9 }];
    let asked = 0;
    const allow = (t: number) => (asked++, t % 3 !== 0);
    // Cold enough that a few tokens hold all but 1e-6 of the mass: the rest are never asked about.
    const gen = await model.generate(prompt, { maxNewTokens: 6, temperature: 0.002, topP: 0.9, rng: new Rng(5), allow });
    expect(asked).toBeLessThan(6 * config.vocabSize * 0.5); // a whole mask per step would ask about all 24 ids
    asked = 0;
    await model.generate(prompt, { maxNewTokens: 6, temperature: 0.002, rng: new Rng(5), allow });
    expect(asked).toBe(6 * config.vocabSize); // top-p 1: the whole guided distribution
    gen.tokens.forEach((t, j) => {
      expect(t % 3).not.toBe(0);
      expect(gen.masks![j]![t]).toBe(1);
      gen.masks![j]!.forEach((m, v) => m && expect(v % 3).not.toBe(0));
    });
    const row: TrainRow = { items: [...prompt, ...gen.tokens.map((token) => ({ token }))], train: [0, 0, 0, 1, 1, 1, 1, 1, 1], sampledLogprobs: gen.logprobs, advantage: 1, guideMasks: gen.masks! };
    const st = await grpoUpdate([row], model, null, new AdamW({ lr: opts.lr, weightDecay: 0 }), { ...opts, temperature: 0.002 });
    expect(st.logprobGap!).toBeLessThan(1e-3);
    await model.release();
  });

  it("sampleTokens: a rollout draws the turn's first tokens and continues greedily, the greedy ones forced", async () => {
    const model = TransformerModel.init(config, 11);
    const prompt: PromptItem[] = [{ token: 2 }, { token: 5 }, { token: 9 }];
    const gen = await model.generate(prompt, { maxNewTokens: 8, temperature: 3, sampleTokens: 2, rng: new Rng(7) });
    // Past the first two, each token is the greedy continuation of what came before.
    const greedy = await model.generate([...prompt, ...gen.tokens.slice(0, 2).map((token) => ({ token }))], { maxNewTokens: 6, temperature: 0, rng: new Rng(0) });
    expect(gen.tokens.slice(2)).toEqual(greedy.tokens);
    expect(gen.masks!.slice(0, 2)).toEqual([null, null]);
    gen.masks!.slice(2).forEach((m, j) => expect([m!.reduce((a, b) => a + b, 0), m![gen.tokens[j + 2]!]]).toEqual([1, 1]));
    expect(gen.logprobs.slice(2)).toEqual([0, 0, 0, 0, 0, 0]);
    // A hot draw of 8 tokens differs from its greedy run somewhere (so the first two were drawn, not greedy).
    const hot = await model.generate(prompt, { maxNewTokens: 8, temperature: 3, rng: new Rng(7) });
    expect(hot.tokens.slice(0, 2)).toEqual(gen.tokens.slice(0, 2));
    expect(hot.tokens).not.toEqual(gen.tokens);
    // The update sees the forced tokens as such: only the drawn ones move the weights.
    const row: TrainRow = { items: [...prompt, ...gen.tokens.map((token) => ({ token }))], train: [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1], sampledLogprobs: gen.logprobs, advantage: 1, guideMasks: gen.masks! };
    const st = await grpoUpdate([row], model, null, new AdamW({ lr: opts.lr, weightDecay: 0 }), { ...opts, temperature: 3 });
    expect(st.logprobGap!).toBeLessThan(1e-4);
    await model.release();
  });

  it("tempered rollouts: a cold draw's log-prob is the tempered distribution's, and the update scores that one", async () => {
    const { packSequences } = await import("../../src/nn/index.js");
    const model = TransformerModel.init(config, 13);
    const prompt: PromptItem[] = [{ token: 2 }, { token: 5 }, { token: 9 }];
    const gen = await model.generate(prompt, { maxNewTokens: 5, temperature: 0.5, rng: new Rng(9) });
    const row: TrainRow = { items: [...prompt, ...gen.tokens.map((token) => ({ token }))], train: [0, 0, 0, 1, 1, 1, 1, 1], sampledLogprobs: gen.logprobs, advantage: 1 };
    const b = packSequences([{ items: row.items, train: row.train }]);
    const cold = await model.logprobs(b, 0.5);
    const warm = await model.logprobs(b);
    const at = (lp: Float32Array) => Array.from(lp).filter((_, i) => b.lossMask[i]);
    at(cold).forEach((x, j) => expect(x).toBeCloseTo(gen.logprobs[j]!, 4));
    expect(at(warm).some((x, j) => Math.abs(x - gen.logprobs[j]!) > 0.01)).toBe(true);
    // The training graph divides the logits by the same temperature.
    const zero = new Float32Array(b.batch * b.seq);
    const r = await model.lossAndGrads({ ...b, oldLogprobs: cold, refLogprobs: zero, advantages: zero }, { epsLow: 0.2, epsHigh: 0.28, beta: 0, temperature: 0.5 });
    at(r.logprobs).forEach((x, j) => expect(x).toBeCloseTo(gen.logprobs[j]!, 4));
    const same = await grpoUpdate([row], TransformerModel.init(config, 13), null, new AdamW({ lr: opts.lr, weightDecay: 0 }), { ...opts, temperature: 0.5 });
    expect(same.logprobGap!).toBeLessThan(1e-4);
    const other = await grpoUpdate([row], TransformerModel.init(config, 13), null, new AdamW({ lr: opts.lr, weightDecay: 0 }), opts);
    expect(other.logprobGap!).toBeGreaterThan(0.01);
    await model.release();
  });
});
