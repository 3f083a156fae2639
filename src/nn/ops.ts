// The op table: for each op name, shape inference, gradient rule and ONNX emission side by side,
// so adding an op means filling one entry. Gradient rules build their result with the same
// Graph API, so they are exported to ONNX like any forward op.
import type { Attrs, AttrValue, Dim, DType, Graph, Node, OutSpec, Tensor } from './graph.js';
import { BIG, broadcastShapes, normAxis } from './graph.js';

/** What an op's emitter may do: add ONNX nodes and int64/float constant initializers. */
export interface EmitCtx {
  node(opType: string, inputs: string[], outputs: string[], attrs?: Record<string, AttrValue>, domain?: string): void;
  i64(values: number[], scalar?: boolean): string;
  f32(value: number): string;
}

/**
 * `grad` gets the upstream gradients of the node's outputs (null = zero) and which inputs need a
 * gradient; returns one gradient (or null = zero) per input. 'none' marks a non-differentiable op.
 */
export type GradRule = (g: Graph, node: Node, gOut: readonly (Tensor | null)[], needs: readonly boolean[]) => (Tensor | null)[];

export interface OpDef {
  infer(inputs: readonly Tensor[], attrs: Attrs): OutSpec[];
  /** Absent = no rule yet: differentiating through the op throws, naming it. */
  grad?: GradRule | 'none';
  emit(ctx: EmitCtx, ins: string[], outs: string[], attrs: Attrs, node: Node): void;
}

const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };
export function onnxDType(d: DType): number {
  return ONNX_DTYPE[d];
}

function num(attrs: Attrs, k: string): number {
  const v = attrs[k];
  if (typeof v !== 'number') throw new Error(`attribute '${k}' must be a number`);
  return v;
}
function nums(attrs: Attrs, k: string): number[] {
  const v = attrs[k];
  if (!Array.isArray(v)) throw new Error(`attribute '${k}' must be a number[]`);
  return v;
}
function first(ins: readonly Tensor[]): Tensor {
  return ins[0]!;
}
function same(ins: readonly Tensor[]): OutSpec[] {
  const x = first(ins);
  return [{ dtype: x.dtype, shape: [...x.shape] }];
}
function bcast(dtype?: DType) {
  return (ins: readonly Tensor[]): OutSpec[] => [
    { dtype: dtype ?? first(ins).dtype, shape: ins.slice(1).reduce<Dim[]>((s, t) => broadcastShapes(s, t.shape), [...first(ins).shape]) },
  ];
}
function simple(opType: string, domain?: string) {
  return (ctx: EmitCtx, ins: string[], outs: string[]): void => ctx.node(opType, ins, outs, {}, domain);
}
function withAttrs(opType: string, keys: string[]) {
  return (ctx: EmitCtx, ins: string[], outs: string[], attrs: Attrs): void => {
    const a: Record<string, AttrValue> = {};
    for (const k of keys) if (attrs[k] !== undefined) a[k] = attrs[k]!;
    ctx.node(opType, ins, outs, a);
  };
}
/**
 * Reduce a broadcast gradient back to `shape`: sum over leading extra axes and over axes where
 * the target has a literal 1. This is the one place broadcasting is undone.
 */
export function sumTo(g: Graph, dy: Tensor, shape: readonly Dim[]): Tensor {
  let y = dy;
  const extra = y.rank - shape.length;
  if (extra > 0) y = g.reduceSum(y, Array.from({ length: extra }, (_, i) => i), false);
  const axes: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1 && y.shape[i] !== 1) axes.push(i);
  });
  if (axes.length) y = g.reduceSum(y, axes, true);
  return y;
}

const unary = (opType: string, grad: GradRule): OpDef => ({ infer: same, grad, emit: simple(opType) });
const binary = (opType: string, grad: GradRule | 'none', outType?: DType): OpDef => ({ infer: bcast(outType), grad, emit: simple(opType) });

function gradOf(gOut: readonly (Tensor | null)[]): Tensor | null {
  return gOut[0] ?? null;
}

function reduceInfer(ins: readonly Tensor[], attrs: Attrs): OutSpec[] {
  const x = first(ins);
  const axes = nums(attrs, 'axes').map((a) => normAxis(a, x.rank));
  const keep = num(attrs, 'keepdims') === 1;
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.includes(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: x.dtype, shape }];
}

/** Bring a reduced gradient back to the input's rank (unsqueeze dropped axes) and broadcast it. */
function unreduce(g: Graph, dy: Tensor, x: Tensor, attrs: Attrs): Tensor {
  const axes = nums(attrs, 'axes').map((a) => normAxis(a, x.rank)).sort((a, b) => a - b);
  const d = num(attrs, 'keepdims') === 1 ? dy : g.unsqueeze(dy, axes);
  return g.expandLike(d, x);
}

function reshapeInfer(x: Tensor, spec: readonly number[]): Dim[] {
  const out: (Dim | null)[] = spec.map((s, i) => (s === 0 ? x.shape[i]! : s === -1 ? null : s));
  const hole = out.indexOf(null);
  if (hole < 0) return out as Dim[];
  // Cancel symbolic and numeric factors so [B,T,D] -> [-1,D] infers "B*T".
  const syms = x.shape.filter((d): d is string => typeof d === 'string');
  let ratio = x.shape.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
  let exact = true;
  for (const d of out) {
    if (d === null) continue;
    if (typeof d === 'number') ratio /= d;
    else {
      const k = syms.indexOf(d);
      if (k >= 0) syms.splice(k, 1);
      else exact = false;
    }
  }
  if (!Number.isInteger(ratio)) {
    if (syms.length === 0 && exact) throw new Error(`reshape [${x.shape.join(',')}] -> [${spec.join(',')}] is impossible`);
    exact = false;
  }
  if (!exact) out[hole] = `?${x.shape.join('*')}/${spec.join('*')}`;
  else out[hole] = syms.length === 0 ? ratio : ratio === 1 ? syms.join('*') : `${syms.join('*')}*${ratio}`;
  return out as Dim[];
}

export const OPS: Record<string, OpDef> = {
  Add: binary('Add', (g, n, gOut, needs) => {
    const dy = gradOf(gOut)!;
    return n.inputs.map((x, i) => (needs[i] ? sumTo(g, dy, x.shape) : null));
  }),
  Sub: binary('Sub', (g, n, gOut, needs) => {
    const dy = gradOf(gOut)!;
    const [a, b] = n.inputs as [Tensor, Tensor];
    return [needs[0] ? sumTo(g, dy, a.shape) : null, needs[1] ? sumTo(g, g.neg(dy), b.shape) : null];
  }),
  Mul: binary('Mul', (g, n, gOut, needs) => {
    const dy = gradOf(gOut)!;
    const [a, b] = n.inputs as [Tensor, Tensor];
    return [needs[0] ? sumTo(g, g.mul(dy, b), a.shape) : null, needs[1] ? sumTo(g, g.mul(dy, a), b.shape) : null];
  }),
  Div: binary('Div', (g, n, gOut, needs) => {
    const dy = gradOf(gOut)!;
    const [a, b] = n.inputs as [Tensor, Tensor];
    const y = n.outputs[0]!;
    return [
      needs[0] ? sumTo(g, g.div(dy, b), a.shape) : null,
      needs[1] ? sumTo(g, g.neg(g.div(g.mul(dy, y), b)), b.shape) : null,
    ];
  }),
  Neg: unary('Neg', (g, _n, gOut) => [g.neg(gradOf(gOut)!)]),
  Identity: unary('Identity', (_g, _n, gOut) => [gradOf(gOut)]),
  Exp: unary('Exp', (g, n, gOut) => [g.mul(gradOf(gOut)!, n.outputs[0]!)]),
  Log: unary('Log', (g, n, gOut) => [g.div(gradOf(gOut)!, n.inputs[0]!)]),
  Sqrt: unary('Sqrt', (g, n, gOut) => [g.div(g.mul(gradOf(gOut)!, 0.5), n.outputs[0]!)]),
  Tanh: unary('Tanh', (g, n, gOut) => {
    const y = n.outputs[0]!;
    return [g.mul(gradOf(gOut)!, g.sub(1, g.mul(y, y)))];
  }),
  Sigmoid: unary('Sigmoid', (g, n, gOut) => {
    const y = n.outputs[0]!;
    return [g.mul(gradOf(gOut)!, g.mul(y, g.sub(1, y)))];
  }),
  Sin: unary('Sin', (g, n, gOut) => [g.mul(gradOf(gOut)!, g.cos(n.inputs[0]!))]),
  Cos: unary('Cos', (g, n, gOut) => [g.neg(g.mul(gradOf(gOut)!, g.sin(n.inputs[0]!)))]),
  Erf: unary('Erf', (g, n, gOut) => {
    const x = n.inputs[0]!;
    return [g.mul(gradOf(gOut)!, g.mul(g.exp(g.neg(g.mul(x, x))), 2 / Math.sqrt(Math.PI)))];
  }),
  // Exact (erf) GELU; forward is the fused com.microsoft kernel, backward is composed.
  Gelu: {
    infer: same,
    emit: simple('Gelu', 'com.microsoft'),
    grad: (g, n, gOut) => {
      const x = n.inputs[0]!;
      const cdf = g.mul(g.add(g.erf(g.mul(x, Math.SQRT1_2)), 1), 0.5);
      const pdf = g.mul(g.exp(g.mul(g.mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return [g.mul(gradOf(gOut)!, g.add(cdf, g.mul(x, pdf)))];
    },
  },
  Clip: {
    infer: same,
    emit: (ctx, ins, outs, a) => ctx.node('Clip', [ins[0]!, ctx.f32(num(a, 'min')), ctx.f32(num(a, 'max'))], outs),
    grad: (g, n, gOut) => {
      const x = n.inputs[0]!;
      const inside = g.and(g.greater(x, num(n.attrs, 'min')), g.less(x, num(n.attrs, 'max')));
      return [g.where(inside, gradOf(gOut)!, 0)];
    },
  },
  Where: {
    infer: (ins) => [{ dtype: ins[1]!.dtype, shape: broadcastShapes(broadcastShapes(ins[0]!.shape, ins[1]!.shape), ins[2]!.shape) }],
    emit: simple('Where'),
    grad: (g, n, gOut, needs) => {
      const dy = gradOf(gOut)!;
      const [c, a, b] = n.inputs as [Tensor, Tensor, Tensor];
      return [null, needs[1] ? sumTo(g, g.where(c, dy, 0), a.shape) : null, needs[2] ? sumTo(g, g.where(c, 0, dy), b.shape) : null];
    },
  },
  Cast: {
    infer: (ins, a) => [{ dtype: a['to'] as DType, shape: [...first(ins).shape] }],
    emit: (ctx, ins, outs, a) => ctx.node('Cast', ins, outs, { to: onnxDType(a['to'] as DType) }),
    grad: (g, n, gOut) => [n.inputs[0]!.dtype === 'float32' ? g.cast(gradOf(gOut)!, 'float32') : null],
  },
  Equal: binary('Equal', 'none', 'bool'),
  Less: binary('Less', 'none', 'bool'),
  LessOrEqual: binary('LessOrEqual', 'none', 'bool'),
  Greater: binary('Greater', 'none', 'bool'),
  And: binary('And', 'none', 'bool'),
  Or: binary('Or', 'none', 'bool'),
  Not: { infer: same, emit: simple('Not'), grad: 'none' },

  MatMul: {
    infer: (ins) => {
      const [a, b] = ins as [Tensor, Tensor];
      if (a.rank < 2 || b.rank < 2) throw new Error('MatMul: operands must have rank >= 2');
      const k1 = a.shape[a.rank - 1]!;
      const k2 = b.shape[b.rank - 2]!;
      if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
        throw new Error(`MatMul: inner dims differ [${a.shape.join(',')}] x [${b.shape.join(',')}]`);
      }
      const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
      return [{ dtype: a.dtype, shape: [...batch, a.shape[a.rank - 2]!, b.shape[b.rank - 1]!] }];
    },
    emit: simple('MatMul'),
    grad: (g, n, gOut, needs) => {
      const dy = gradOf(gOut)!;
      const [a, b] = n.inputs as [Tensor, Tensor];
      const da = needs[0] ? sumTo(g, g.matmul(dy, g.t(b)), a.shape) : null;
      let db: Tensor | null = null;
      if (needs[1]) {
        if (b.rank === 2 && a.rank > 2) {
          // A weight shared over batch dims: flatten instead of a batched matmul + reduction.
          const a2 = g.reshape(a, [-1, a.shape[a.rank - 1] as number]);
          const dy2 = g.reshape(dy, [-1, dy.shape[dy.rank - 1] as number]);
          db = g.matmul(g.t(a2), dy2);
        } else db = sumTo(g, g.matmul(g.t(a), dy), b.shape);
      }
      return [da, db];
    },
  },
  Gather: {
    infer: (ins) => {
      const [x, idx] = ins as [Tensor, Tensor];
      return [{ dtype: x.dtype, shape: [...idx.shape, ...x.shape.slice(1)] }];
    },
    emit: (ctx, ins, outs) => ctx.node('Gather', ins, outs, { axis: 0 }),
    grad: (g, n, gOut) => {
      const [x, idx] = n.inputs as [Tensor, Tensor];
      const i64 = g.unsqueeze(g.cast(idx, 'int64'), [-1]);
      return [g.scatterNDAdd(g.zerosLike(x), i64, gradOf(gOut)!), null];
    },
  },
  GatherElements: {
    infer: (ins) => [{ dtype: ins[0]!.dtype, shape: [...ins[1]!.shape] }],
    emit: withAttrs('GatherElements', ['axis']),
    grad: (g, n, gOut) => {
      const [x, idx] = n.inputs as [Tensor, Tensor];
      return [g.scatterElementsAdd(g.zerosLike(x), g.cast(idx, 'int64'), gradOf(gOut)!, num(n.attrs, 'axis')), null];
    },
  },
  ScatterND: { infer: same, grad: 'none', emit: (ctx, ins, outs) => ctx.node('ScatterND', ins, outs, { reduction: 'add' }) },
  ScatterElements: {
    infer: same,
    grad: 'none',
    emit: (ctx, ins, outs, a) => ctx.node('ScatterElements', ins, outs, { axis: num(a, 'axis'), reduction: 'add' }),
  },

  ReduceSum: {
    infer: reduceInfer,
    emit: (ctx, ins, outs, a) => ctx.node('ReduceSum', [ins[0]!, ctx.i64(nums(a, 'axes'))], outs, { keepdims: num(a, 'keepdims') }),
    grad: (g, n, gOut) => [unreduce(g, gradOf(gOut)!, n.inputs[0]!, n.attrs)],
  },
  ReduceMean: {
    infer: reduceInfer,
    emit: withAttrs('ReduceMean', ['axes', 'keepdims']),
    grad: (g, n, gOut) => {
      const x = n.inputs[0]!;
      const count = g.cast(g.div(g.size(x), g.size(n.outputs[0]!)), 'float32');
      return [g.div(unreduce(g, gradOf(gOut)!, x, n.attrs), count)];
    },
  },
  ReduceMax: { infer: reduceInfer, emit: withAttrs('ReduceMax', ['axes', 'keepdims']), grad: 'none' },
  Softmax: {
    infer: same,
    emit: withAttrs('Softmax', ['axis']),
    grad: (g, n, gOut) => {
      const y = n.outputs[0]!;
      const dy = gradOf(gOut)!;
      const axis = num(n.attrs, 'axis');
      return [g.mul(y, g.sub(dy, g.reduceSum(g.mul(dy, y), [axis], true)))];
    },
  },
  LogSoftmax: {
    infer: same,
    emit: withAttrs('LogSoftmax', ['axis']),
    grad: (g, n, gOut) => {
      const y = n.outputs[0]!;
      const dy = gradOf(gOut)!;
      return [g.sub(dy, g.mul(g.exp(y), g.reduceSum(dy, [num(n.attrs, 'axis')], true)))];
    },
  },
  // Outputs: y, mean, inv_std (the last two are saved by the fused kernel for the backward pass).
  LayerNorm: {
    infer: (ins) => {
      const x = first(ins);
      const stat = [...x.shape.slice(0, -1), 1];
      return [{ dtype: x.dtype, shape: [...x.shape] }, { dtype: 'float32', shape: stat }, { dtype: 'float32', shape: [...stat] }];
    },
    emit: (ctx, ins, outs, a) => ctx.node('LayerNormalization', ins, outs, { axis: -1, epsilon: num(a, 'epsilon'), stash_type: 1 }),
    grad: (g, n, gOut, needs) => {
      const dy = gOut[0];
      if (!dy) return [null, null, null];
      const [x, gamma, beta] = n.inputs as [Tensor, Tensor, Tensor];
      const [, mean, inv] = n.outputs as [Tensor, Tensor, Tensor];
      const xhat = g.mul(g.sub(x, mean), inv);
      let dx: Tensor | null = null;
      if (needs[0]) {
        const dxhat = g.mul(dy, gamma);
        const m1 = g.reduceMean(dxhat, [-1], true);
        const m2 = g.reduceMean(g.mul(dxhat, xhat), [-1], true);
        dx = g.mul(inv, g.sub(g.sub(dxhat, m1), g.mul(xhat, m2)));
      }
      return [dx, needs[1] ? sumTo(g, g.mul(dy, xhat), gamma.shape) : null, needs[2] ? sumTo(g, dy, beta.shape) : null];
    },
  },

  Reshape: {
    infer: (ins, a) => [{ dtype: first(ins).dtype, shape: reshapeInfer(first(ins), nums(a, 'shape')) }],
    emit: (ctx, ins, outs, a) => ctx.node('Reshape', [ins[0]!, ctx.i64(nums(a, 'shape'))], outs),
    grad: (g, n, gOut) => [g.reshapeLike(gradOf(gOut)!, n.inputs[0]!)],
  },
  ReshapeTo: {
    infer: (ins) => [{ dtype: first(ins).dtype, shape: [...(ins[1]!.valueDims ?? [])] }],
    emit: simple('Reshape'),
    grad: (g, n, gOut) => [g.reshapeLike(gradOf(gOut)!, n.inputs[0]!), null],
  },
  Expand: {
    infer: (ins) => [{ dtype: first(ins).dtype, shape: broadcastShapes(first(ins).shape, ins[1]!.valueDims ?? []) }],
    emit: simple('Expand'),
    grad: (g, n, gOut) => [sumTo(g, gradOf(gOut)!, n.inputs[0]!.shape), null],
  },
  ConstantOfShape: {
    infer: (ins) => [{ dtype: 'float32', shape: [...(ins[0]!.valueDims ?? [])] }],
    grad: 'none',
    emit: (ctx, ins, outs, a) => ctx.node('ConstantOfShape', ins, outs, { value: num(a, 'value') }),
  },
  Transpose: {
    infer: (ins, a) => [{ dtype: first(ins).dtype, shape: nums(a, 'perm').map((p) => first(ins).shape[p]!) }],
    emit: withAttrs('Transpose', ['perm']),
    grad: (g, n, gOut) => {
      const perm = nums(n.attrs, 'perm');
      const inv = perm.map((_, i) => perm.indexOf(i));
      return [g.transpose(gradOf(gOut)!, inv)];
    },
  },
  Concat: {
    infer: (ins, a) => {
      const x = first(ins);
      const axis = normAxis(num(a, 'axis'), x.rank);
      const shape = [...x.shape];
      const parts = ins.map((t) => t.shape[axis]!);
      const numeric = parts.filter((d): d is number => typeof d === 'number').reduce((p, d) => p + d, 0);
      const syms = parts.filter((d): d is string => typeof d === 'string');
      shape[axis] = syms.length ? (numeric ? `${syms.join('+')}+${numeric}` : syms.join('+')) : numeric;
      return [{ dtype: x.dtype, shape }];
    },
    emit: withAttrs('Concat', ['axis']),
    grad: (g, n, gOut, needs) => {
      const dy = gradOf(gOut)!;
      const axis = normAxis(num(n.attrs, 'axis'), dy.rank);
      let off = 0;
      return n.inputs.map((x, i) => {
        const d = x.shape[axis]!;
        const last = i === n.inputs.length - 1;
        if (typeof d !== 'number' && !last) throw new Error('Concat grad: only the last input may have a symbolic size on the axis');
        const r = needs[i] ? g.slice(dy, axis, off, last ? BIG : off + (d as number)) : null;
        if (!last) off += d as number;
        return r;
      });
    },
  },
  // Multi-output split: its gradient is one Concat instead of a Pad + Add per piece.
  Split: {
    infer: (ins, a) => {
      const x = first(ins);
      const axis = normAxis(num(a, 'axis'), x.rank);
      return nums(a, 'sizes').map((n) => {
        const shape = [...x.shape];
        shape[axis] = n;
        return { dtype: x.dtype, shape };
      });
    },
    emit: (ctx, ins, outs, a) => ctx.node('Split', [ins[0]!, ctx.i64(nums(a, 'sizes'))], outs, { axis: num(a, 'axis') }),
    grad: (g, n, gOut) => [g.concat(n.outputs.map((o, i) => gOut[i] ?? g.zerosLike(o)), num(n.attrs, 'axis'))],
  },
  Slice: {
    infer: (ins, a) => {
      const x = first(ins);
      const axis = normAxis(num(a, 'axis'), x.rank);
      const d = x.shape[axis]!;
      const start = num(a, 'start');
      const end = num(a, 'end');
      const shape = [...x.shape];
      if (typeof d === 'number') shape[axis] = Math.max(0, Math.min(end, d) - Math.min(start, d));
      else shape[axis] = end >= BIG ? `${d}-${start}` : end - start;
      return [{ dtype: x.dtype, shape }];
    },
    emit: (ctx, ins, outs, a) =>
      ctx.node('Slice', [ins[0]!, ctx.i64([num(a, 'start')]), ctx.i64([num(a, 'end')]), ctx.i64([num(a, 'axis')])], outs),
    grad: (g, n, gOut) => {
      const x = n.inputs[0]!;
      const axis = normAxis(num(n.attrs, 'axis'), x.rank);
      const d = x.shape[axis]!;
      const start = num(n.attrs, 'start');
      const end = num(n.attrs, 'end');
      let after = 0;
      if (end < BIG) {
        if (typeof d !== 'number') throw new Error('Slice grad: symbolic axis needs an open end');
        after = d - Math.min(end, d);
      }
      return [g.pad(gradOf(gOut)!, axis, start, after)];
    },
  },
  Pad: {
    infer: (ins, a) => {
      const x = first(ins);
      const axis = normAxis(num(a, 'axis'), x.rank);
      const shape = [...x.shape];
      const d = shape[axis]!;
      const extra = num(a, 'before') + num(a, 'after');
      shape[axis] = typeof d === 'number' ? d + extra : `${d}+${extra}`;
      return [{ dtype: x.dtype, shape }];
    },
    emit: (ctx, ins, outs, a, node) => {
      const x = ins[0]!;
      const rank = node.inputs[0]!.rank;
      const pads = new Array<number>(2 * rank).fill(0);
      const axis = normAxis(num(a, 'axis'), rank);
      pads[axis] = num(a, 'before');
      pads[rank + axis] = num(a, 'after');
      ctx.node('Pad', [x, ctx.i64(pads)], outs, { mode: 'constant' });
    },
    grad: (g, n, gOut) => {
      const x = n.inputs[0]!;
      const axis = normAxis(num(n.attrs, 'axis'), x.rank);
      const before = num(n.attrs, 'before');
      const d = x.shape[axis]!;
      return [g.slice(gradOf(gOut)!, axis, before, typeof d === 'number' ? before + d : BIG)];
    },
  },
  Unsqueeze: {
    infer: (ins, a) => {
      const x = first(ins);
      const r = x.rank + nums(a, 'axes').length;
      const axes = nums(a, 'axes').map((ax) => normAxis(ax, r));
      const shape: Dim[] = [];
      let j = 0;
      for (let i = 0; i < r; i++) shape.push(axes.includes(i) ? 1 : x.shape[j++]!);
      return [{ dtype: x.dtype, shape }];
    },
    emit: (ctx, ins, outs, a) => ctx.node('Unsqueeze', [ins[0]!, ctx.i64(nums(a, 'axes'))], outs),
    grad: (g, n, gOut) => [g.squeeze(gradOf(gOut)!, nums(n.attrs, 'axes'))],
  },
  Squeeze: {
    infer: (ins, a) => {
      const x = first(ins);
      const axes = nums(a, 'axes').map((ax) => normAxis(ax, x.rank));
      return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !axes.includes(i)) }];
    },
    emit: (ctx, ins, outs, a) => ctx.node('Squeeze', [ins[0]!, ctx.i64(nums(a, 'axes'))], outs),
    grad: (g, n, gOut) => [g.unsqueeze(gradOf(gOut)!, nums(n.attrs, 'axes'))],
  },
  Shape: { infer: (ins) => [{ dtype: 'int64', shape: [first(ins).rank] }], grad: 'none', emit: simple('Shape') },
  Size: { infer: () => [{ dtype: 'int64', shape: [] }], grad: 'none', emit: simple('Size') },
  Range: { infer: () => [{ dtype: 'int64', shape: ['range'] }], grad: 'none', emit: simple('Range') },
};
