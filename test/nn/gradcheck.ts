// Shared finite-difference gradient checker: builds a graph, emits ONNX, runs it with ORT and
// compares analytic directional derivatives <grad, v> with central differences.
import { Graph, type Tensor } from '../../src/nn/graph.js';
import { gradients } from '../../src/nn/autodiff.js';
import { exportOnnx } from '../../src/nn/onnx.js';
import { Session, type TensorValue } from '../../src/nn/runtime.js';
import { Rng } from '../../src/nn/rng.js';

export interface InSpec {
  shape: number[];
  dtype?: 'float32' | 'int32';
  data?: Float32Array | Int32Array;
  /** For float inputs: sample from [lo, hi) (default [-1, 1)). */
  range?: [number, number];
}

export interface GradCheckResult {
  worst: number;
  grads: Float32Array[];
}

export async function checkGrad(
  build: (g: Graph, xs: Tensor[]) => Tensor,
  specs: InSpec[],
  opts: { eps?: number; rtol?: number; atol?: number; seed?: number; directions?: number } = {},
): Promise<GradCheckResult> {
  const { eps = 1e-2, rtol = 2e-2, atol = 2e-3, seed = 1, directions = 3 } = opts;
  const rng = new Rng(seed);
  const g = new Graph();
  const xs = specs.map((s, i) => g.input(`x${i}`, s.dtype ?? 'float32', s.shape));
  const y = build(g, xs);
  const n = y.shape.reduce<number>((p, d) => p * (d as number), 1);
  const r = g.constant(Float32Array.from({ length: n }, () => rng.normal()), y.shape as number[]);
  const loss = g.sumAll(g.mul(y, r));
  const floatIdx = specs.map((s, i) => ((s.dtype ?? 'float32') === 'float32' ? i : -1)).filter((i) => i >= 0);
  const gs = gradients(g, loss, floatIdx.map((i) => xs[i]!));
  const outputs: Record<string, Tensor> = { loss };
  gs.forEach((t, k) => (outputs[`g${k}`] = t));
  const session = await Session.create(exportOnnx(g, { inputs: xs, outputs }), { threads: 1 });
  const values = specs.map((s) => {
    const count = s.shape.reduce((p, d) => p * d, 1);
    if (s.data) return s.data;
    const [lo, hi] = s.range ?? [-1, 1];
    return Float32Array.from({ length: count }, () => lo + (hi - lo) * rng.uniform());
  });
  const feeds = (vals: (Float32Array | Int32Array)[]): Record<string, TensorValue> =>
    Object.fromEntries(
      specs.map((s, i) => [`x${i}`, { type: s.dtype ?? 'float32', data: vals[i]!, dims: s.shape } as TensorValue]),
    );
  const base = await session.run(feeds(values));
  const grads = floatIdx.map((_, k) => base[`g${k}`]!.data as Float32Array);
  floatIdx.forEach((i, k) => {
    const dims = base[`g${k}`]!.dims;
    if (dims.join(',') !== specs[i]!.shape.join(',')) throw new Error(`grad ${k} has dims [${dims}] for input [${specs[i]!.shape}]`);
  });
  let worst = 0;
  for (const [k, i] of floatIdx.entries()) {
    for (let d = 0; d < directions; d++) {
      const x = values[i] as Float32Array;
      const v = Float32Array.from(x, () => rng.normal());
      const plus = values.slice();
      const minus = values.slice();
      plus[i] = Float32Array.from(x, (xv, j) => xv + eps * v[j]!);
      minus[i] = Float32Array.from(x, (xv, j) => xv - eps * v[j]!);
      const lp = (await session.run(feeds(plus), ['loss']))['loss']!.data[0] as number;
      const lm = (await session.run(feeds(minus), ['loss']))['loss']!.data[0] as number;
      const fd = (lp - lm) / (2 * eps);
      let ana = 0;
      grads[k]!.forEach((gv, j) => (ana += gv * v[j]!));
      const err = Math.abs(fd - ana) / (atol + rtol * Math.max(Math.abs(fd), Math.abs(ana)));
      worst = Math.max(worst, err);
      if (err > 1) throw new Error(`input ${i}: finite difference ${fd} vs analytic ${ana}`);
    }
  }
  await session.release();
  return { worst, grads };
}
