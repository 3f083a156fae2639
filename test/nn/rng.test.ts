import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/nn/rng.js';

describe('Rng', () => {
  it('is deterministic per seed and resumes from its state', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    for (let i = 0; i < 10; i++) a.nextU32();
    const s = JSON.parse(JSON.stringify(a.state()));
    const c = Rng.fromState(s);
    for (let i = 0; i < 10; i++) b.nextU32();
    for (let i = 0; i < 5; i++) {
      const x = a.normal();
      expect(b.normal()).toBe(x);
      expect(c.normal()).toBe(x);
    }
    expect(new Rng(124).nextU32()).not.toBe(new Rng(123).nextU32());
  });

  it('forks independent streams without advancing the parent', () => {
    const r = new Rng(5);
    const before = r.state();
    const f1 = r.fork(1).uniform();
    expect(r.state()).toEqual(before);
    expect(r.fork(1).uniform()).toBe(f1);
    expect(r.fork(2).uniform()).not.toBe(f1);
  });

  it('has roughly the right moments and categorical frequencies', () => {
    const r = new Rng(9);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
    const counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[r.categorical([1, 2, 7])]!++;
    expect(counts[2]! / n).toBeGreaterThan(0.67);
    expect(counts[2]! / n).toBeLessThan(0.73);
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });
});
