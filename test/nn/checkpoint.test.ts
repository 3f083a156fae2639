import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdamW } from '../../src/nn/adam.js';
import { CheckpointMismatchError, decodeSafetensors, encodeSafetensors } from '../../src/nn/checkpoint.js';
import { TransformerModel } from '../../src/nn/model.js';
import { Rng } from '../../src/nn/rng.js';
import { tinyBatch, tinyConfig } from './fixtures.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'nn-ckpt-'));
}

describe('safetensors', () => {
  it('round-trips and aligns the header', () => {
    const buf = encodeSafetensors({ b: { data: new Float32Array([1, 2, 3]), shape: [3] }, a: { data: new Float32Array([4, 5]), shape: [1, 2] } }, { k: 'v' });
    const hlen = Number(buf.readBigUInt64LE(0));
    expect((8 + hlen) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + hlen).toString());
    expect(header.a).toEqual({ dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] });
    const { tensors, metadata } = decodeSafetensors(buf);
    expect(Array.from(tensors['b']!.data)).toEqual([1, 2, 3]);
    expect(tensors['a']!.shape).toEqual([1, 2]);
    expect(metadata).toEqual({ k: 'v' });
  });
});

describe('checkpoint', () => {
  it('saves and loads weights, optimizer and RNG state', async () => {
    const dir = path.join(tmpDir(), 'ck');
    const model = TransformerModel.init(tinyConfig, 1, { threads: 1 });
    const opt = new AdamW({ lr: 1e-3 });
    const r = await model.lossAndGrads(tinyBatch(1));
    opt.update(model.params, r.grads);
    const rng = new Rng(77);
    rng.uniform();
    model.save(dir, { optimizer: opt.getState(), rng: rng.state(), meta: { step: 1 } });
    model.save(dir, { optimizer: opt.getState(), rng: rng.state(), meta: { step: 1 } }); // overwrite is atomic too
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['ck']);
    const loaded = TransformerModel.load(dir, { threads: 1 });
    expect(loaded.model.config).toEqual(tinyConfig);
    for (const [n, p] of Object.entries(model.params)) expect(Array.from(loaded.model.params[n]!)).toEqual(Array.from(p));
    expect(loaded.optimizer!.step).toBe(1);
    expect(Array.from(loaded.optimizer!.v['h0.qkv.w']!)).toEqual(Array.from(opt.getState().v['h0.qkv.w']!));
    expect(Rng.fromState(loaded.rng!).uniform()).toBe(rng.uniform());
    expect(loaded.meta).toEqual({ step: 1 });
    const again = await loaded.model.lossAndGrads(tinyBatch(1));
    const ref = await model.lossAndGrads(tinyBatch(1));
    expect(again.loss).toBe(ref.loss);
    await model.release();
    await loaded.model.release();
  });

  it('reports every mismatched tensor', () => {
    const dir = path.join(tmpDir(), 'ck');
    TransformerModel.init(tinyConfig, 1).save(dir);
    // Same weights, config claiming a bigger vocab and one layer more.
    const cfgPath = path.join(dir, 'config.json');
    fs.writeFileSync(cfgPath, JSON.stringify({ ...tinyConfig, vocabSize: 20, nLayers: 3 }));
    let err: unknown;
    try {
      TransformerModel.load(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointMismatchError);
    const m = (err as CheckpointMismatchError).message;
    expect(m).toMatch(/shape mismatch: tok_emb expected \[20, 16\], found \[13, 16\]/);
    expect(m).toMatch(/missing: h2\.qkv\.w/);
    expect((err as CheckpointMismatchError).missing.length).toBe(12);
  });
});
