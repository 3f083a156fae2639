import { describe, expect, it } from 'vitest';
import { Graph, type Tensor } from '../../src/nn/graph.js';
import { gradients } from '../../src/nn/autodiff.js';
import { OPS } from '../../src/nn/ops.js';
import { checkGrad, type InSpec } from './gradcheck.js';

type Case = [string, (g: Graph, x: Tensor[]) => Tensor, InSpec[]];
const pos: [number, number] = [0.5, 2];

const cases: Case[] = [
  ['Add broadcast', (g, [a, b]) => g.add(a!, b!), [{ shape: [2, 3, 4] }, { shape: [3, 1] }]],
  ['Sub broadcast', (g, [a, b]) => g.sub(a!, b!), [{ shape: [4] }, { shape: [2, 3, 4] }]],
  ['Mul broadcast', (g, [a, b]) => g.mul(a!, b!), [{ shape: [2, 1, 4] }, { shape: [1, 3, 4] }]],
  ['Div broadcast', (g, [a, b]) => g.div(a!, b!), [{ shape: [2, 3] }, { shape: [3], range: pos }]],
  ['Neg', (g, [a]) => g.neg(a!), [{ shape: [5] }]],
  ['Exp', (g, [a]) => g.exp(a!), [{ shape: [2, 3] }]],
  ['Log', (g, [a]) => g.log(a!), [{ shape: [2, 3], range: pos }]],
  ['Sqrt', (g, [a]) => g.sqrt(a!), [{ shape: [2, 3], range: pos }]],
  ['Tanh', (g, [a]) => g.tanh(a!), [{ shape: [2, 3] }]],
  ['Sigmoid / SiLU', (g, [a]) => g.silu(a!), [{ shape: [2, 3] }]],
  ['Sin/Cos', (g, [a]) => g.mul(g.sin(a!), g.cos(a!)), [{ shape: [7] }]],
  ['Erf', (g, [a]) => g.erf(a!), [{ shape: [7] }]],
  ['Gelu', (g, [a]) => g.gelu(a!), [{ shape: [3, 5], range: [-3, 3] }]],
  [
    'Clip (values away from the kinks)',
    (g, [a]) => g.clip(a!, -0.5, 0.5),
    [{ shape: [6], data: Float32Array.from([-0.9, -0.3, 0.1, 0.35, 0.7, 1.2]) }],
  ],
  ['Where', (g, [a, b]) => g.where(g.greater(a!, 0), a!, b!), [{ shape: [2, 4] }, { shape: [4] }]],
  ['Identity', (g, [a]) => g.mul(g.identity(a!), 2), [{ shape: [3] }]],
  [
    'Cast int->float (int input gets no grad)',
    (g, [a, i]) => g.mul(a!, g.cast(i!, 'float32')),
    [{ shape: [3] }, { shape: [3], dtype: 'int32', data: Int32Array.from([1, -2, 3]) }],
  ],
  ['MatMul 2D', (g, [a, b]) => g.matmul(a!, b!), [{ shape: [3, 4] }, { shape: [4, 5] }]],
  ['MatMul batched', (g, [a, b]) => g.matmul(a!, b!), [{ shape: [2, 3, 3, 4] }, { shape: [2, 3, 4, 2] }]],
  ['MatMul shared weight', (g, [a, b]) => g.matmul(a!, b!), [{ shape: [2, 3, 4] }, { shape: [4, 5] }]],
  ['MatMul broadcast batch', (g, [a, b]) => g.matmul(a!, b!), [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }]],
  [
    'Gather (embedding, repeated ids)',
    (g, [w, i]) => g.gather(w!, i!),
    [{ shape: [5, 3] }, { shape: [2, 3], dtype: 'int32', data: Int32Array.from([0, 4, 4, 1, 0, 0]) }],
  ],
  [
    'pickLast (GatherElements)',
    (g, [x, i]) => g.pickLast(g.logSoftmax(x!), i!),
    [{ shape: [2, 3, 6] }, { shape: [2, 3], dtype: 'int32', data: Int32Array.from([0, 5, 2, 2, 1, 3]) }],
  ],
  ['ReduceSum', (g, [a]) => g.reduceSum(a!, [1]), [{ shape: [2, 3, 4] }]],
  ['ReduceSum keepdims', (g, [a]) => g.reduceSum(a!, [0, 2], true), [{ shape: [2, 3, 4] }]],
  ['ReduceMean', (g, [a]) => g.reduceMean(a!, [-1]), [{ shape: [2, 3, 4] }]],
  ['Softmax', (g, [a]) => g.softmax(a!, -1), [{ shape: [2, 5], range: [-2, 2] }]],
  ['Softmax axis 1', (g, [a]) => g.softmax(a!, 1), [{ shape: [2, 5, 3], range: [-2, 2] }]],
  ['LogSoftmax', (g, [a]) => g.logSoftmax(a!), [{ shape: [3, 6], range: [-2, 2] }]],
  ['LayerNorm', (g, [x, w, b]) => g.layerNorm(x!, w!, b!), [{ shape: [2, 3, 8] }, { shape: [8] }, { shape: [8] }]],
  ['Reshape', (g, [a]) => g.reshape(a!, [0, -1]), [{ shape: [2, 3, 4] }]],
  ['Transpose', (g, [a]) => g.transpose(a!, [2, 0, 1]), [{ shape: [2, 3, 4] }]],
  ['Concat', (g, [a, b]) => g.concat([a!, b!], 1), [{ shape: [2, 3] }, { shape: [2, 2] }]],
  ['Slice', (g, [a]) => g.slice(a!, 1, 1, 3), [{ shape: [2, 4, 3] }]],
  ['Split (one piece unused)', (g, [a]) => { const [p, , r] = g.split(a!, 1, [1, 2, 1]); return g.mul(p!, r!); }, [{ shape: [2, 4] }]],
  ['Pad', (g, [a]) => g.pad(a!, 0, 1, 2), [{ shape: [2, 3] }]],
  ['Unsqueeze/Squeeze', (g, [a]) => g.squeeze(g.mul(g.unsqueeze(a!, [1]), 2), [1]), [{ shape: [3, 3] }]],
  ['Expand', (g, [a, b]) => g.expandLike(a!, b!), [{ shape: [3, 1] }, { shape: [2, 3, 4] }]],
  [
    'composed attention',
    (g, [q, k, v]) => g.matmul(g.softmax(g.matmul(q!, g.t(k!))), v!),
    [{ shape: [2, 4, 3] }, { shape: [2, 4, 3] }, { shape: [2, 4, 3] }],
  ],
];

describe('op gradients vs finite differences', () => {
  for (const [name, build, specs] of cases) {
    it(name, async () => {
      const r = await checkGrad(build, specs);
      expect(r.worst).toBeLessThanOrEqual(1);
    });
  }

  it('unused input gets an exact zero gradient', async () => {
    const r = await checkGrad((g, [a]) => g.exp(a!), [{ shape: [3] }, { shape: [2, 2] }]);
    expect(Array.from(r.grads[1]!)).toEqual([0, 0, 0, 0]);
  });

  it('input used twice accumulates', async () => {
    await checkGrad((g, [a]) => g.mul(g.exp(a!), g.add(a!, a!)), [{ shape: [4] }]);
  });
});

describe('autodiff errors', () => {
  it('missing grad rule throws naming the op', () => {
    OPS['TestNoGrad'] = { infer: (ins) => [{ dtype: 'float32', shape: [...ins[0]!.shape] }], emit: () => undefined };
    try {
      const g = new Graph();
      const x = g.input('x', 'float32', [2]);
      const y = g.apply('TestNoGrad', [x])[0]!;
      expect(() => gradients(g, g.sumAll(y), [x])).toThrow(/TestNoGrad/);
    } finally {
      delete OPS['TestNoGrad'];
    }
  });
  it('broadcast shape errors are reported', () => {
    const g = new Graph();
    expect(() => g.add(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4]))).toThrow(/broadcast/);
  });
});
