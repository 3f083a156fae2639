import { describe, expect, it } from 'vitest';
import { Graph } from '../../src/nn/graph.js';
import { exportOnnx } from '../../src/nn/onnx.js';
import { Session, f32, i32 } from '../../src/nn/runtime.js';

async function tinySession(): Promise<Session> {
  const g = new Graph();
  const x = g.input('x', 'float32', ['B', 3]);
  const w = g.input('w', 'float32', [3, 2]);
  const y = g.matmul(x, w);
  return Session.create(exportOnnx(g, { inputs: [x, w], outputs: { y } }), { threads: 1 });
}

describe('runtime', () => {
  it('a bad FRAMEMIND_THREADS is a typed error naming the variable', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [1]);
    const model = exportOnnx(g, { inputs: [x], outputs: { y: g.identity(x) } });
    const saved = process.env.FRAMEMIND_THREADS;
    process.env.FRAMEMIND_THREADS = 'two';
    try {
      await expect(Session.create(model)).rejects.toMatchObject({ code: 'FM_ERR_ENV_INVALID', message: expect.stringContaining('FRAMEMIND_THREADS') });
    } finally {
      if (saved === undefined) delete process.env.FRAMEMIND_THREADS;
      else process.env.FRAMEMIND_THREADS = saved;
    }
  });

  it('runs with symbolic batch dims', async () => {
    const s = await tinySession();
    for (const B of [1, 4]) {
      const out = await s.run({ x: f32(new Float32Array(B * 3).fill(1), [B, 3]), w: f32(new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2]) });
      expect(out['y']!.dims).toEqual([B, 2]);
      expect(Array.from(out['y']!.data as Float32Array).slice(0, 2)).toEqual([9, 12]);
    }
    await s.release();
  });

  it('names missing inputs and lists every feed with type and dims', async () => {
    const s = await tinySession();
    await expect(s.run({ x: f32(new Float32Array(3), [1, 3]), z: i32(new Int32Array(2), [2]) })).rejects.toThrow(
      /missing: \[w\], unexpected: \[z\][\s\S]*x: float32 \[1, 3\][\s\S]*w: <missing>[\s\S]*z: int32 \[2\]/,
    );
    await s.release();
  });

  it('wraps onnxruntime errors with the feed report', async () => {
    const s = await tinySession();
    await expect(s.run({ x: f32(new Float32Array(4), [1, 4]), w: f32(new Float32Array(6), [3, 2]) })).rejects.toThrow(
      /onnxruntime run failed[\s\S]*x: float32 \[1, 4\]/,
    );
    await expect(s.run({ x: f32(new Float32Array(5), [1, 3]), w: f32(new Float32Array(6), [3, 2]) })).rejects.toThrow(/5 values for 3 elements/);
    await s.release();
  });
});
