import { describe, expect, it } from 'vitest';
import { AdamW, globalNorm, lrAt } from '../../src/nn/adam.js';

/** f(x) = sum_i c_i (x_i - t_i)^2 */
function quad(x: Float32Array): { loss: number; grad: Float32Array } {
  let loss = 0;
  const grad = new Float32Array(x.length);
  x.forEach((v, i) => {
    const c = i + 1;
    const d = v - (i - 2);
    loss += c * d * d;
    grad[i] = 2 * c * d;
  });
  return { loss, grad };
}

describe('AdamW', () => {
  it('decreases a toy quadratic', () => {
    const params = { x: new Float32Array([3, -2, 5, 1]) };
    const opt = new AdamW({ lr: 0.1, weightDecay: 0 });
    const l0 = quad(params.x).loss;
    for (let i = 0; i < 200; i++) opt.update(params, { x: quad(params.x).grad });
    expect(quad(params.x).loss).toBeLessThan(0.01 * l0);
    expect(opt.step).toBe(200);
  });

  it('first step moves each weight by ~lr (bias correction)', () => {
    const params = { x: new Float32Array([1, 1]) };
    new AdamW({ lr: 0.01, weightDecay: 0 }).update(params, { x: new Float32Array([0.5, -20]) });
    expect(params.x[0]).toBeCloseTo(0.99, 5);
    expect(params.x[1]).toBeCloseTo(1.01, 5);
  });

  it('lrScale multiplies one parameter\'s step (and its decay), the rest move at lr', () => {
    const params = { a: new Float32Array([1]), b: new Float32Array([1]) };
    new AdamW({ lr: 0.01, weightDecay: 0, lrScale: new Map([['b', 5]]) }).update(params, { a: new Float32Array([1]), b: new Float32Array([1]) });
    expect(params.a[0]).toBeCloseTo(0.99, 5);
    expect(params.b[0]).toBeCloseTo(0.95, 5);
  });

  it('applies decoupled weight decay except to noDecay params', () => {
    const params = { w: new Float32Array([2]), b: new Float32Array([2]) };
    const opt = new AdamW({ lr: 0.1, weightDecay: 0.5, noDecay: new Set(['b']) });
    opt.update(params, { w: new Float32Array([0]), b: new Float32Array([0]) });
    expect(params.w[0]).toBeCloseTo(2 * (1 - 0.05), 5);
    expect(params.b[0]).toBe(2);
  });

  it('clips the global gradient norm', () => {
    const params = { a: new Float32Array(2), b: new Float32Array(1) };
    const grads = { a: new Float32Array([3, 0]), b: new Float32Array([4]) };
    expect(globalNorm(grads)).toBeCloseTo(5);
    const info = new AdamW({ lr: 0.1, clipNorm: 1 }).update(params, grads);
    expect(info.gradNorm).toBeCloseTo(5);
    expect(info.clipScale).toBeCloseTo(0.2);
  });

  it('state round trip resumes identically', () => {
    const run = (split: boolean): Float32Array => {
      const params = { x: new Float32Array([3, -2, 5, 1]) };
      let opt = new AdamW({ lr: 0.05 });
      for (let i = 0; i < 20; i++) {
        if (split && i === 10) {
          const s = structuredClone(opt.getState());
          opt = new AdamW({ lr: 0.05 });
          opt.setState(s);
        }
        opt.update(params, { x: quad(params.x).grad });
      }
      return params.x;
    };
    expect(Array.from(run(true))).toEqual(Array.from(run(false)));
  });
});

describe('lrAt', () => {
  const o = { baseLr: 1, warmupSteps: 10, totalSteps: 110, minRatio: 0.1 };
  it('warms up linearly then decays', () => {
    expect(lrAt(0, { ...o, decay: 'cosine' })).toBeCloseTo(0.1);
    expect(lrAt(9, { ...o, decay: 'cosine' })).toBeCloseTo(1);
    expect(lrAt(60, { ...o, decay: 'cosine' })).toBeCloseTo(0.55);
    expect(lrAt(110, { ...o, decay: 'cosine' })).toBeCloseTo(0.1);
    expect(lrAt(60, { ...o, decay: 'linear' })).toBeCloseTo(0.55);
    expect(lrAt(35, { ...o, decay: 'linear' })).toBeCloseTo(0.775);
    expect(lrAt(500, { ...o, decay: 'constant' })).toBe(1);
  });
});
