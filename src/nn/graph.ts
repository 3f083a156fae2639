// Symbolic tensor-graph builder. Nodes are appended in creation order, which is therefore a
// topological order; autodiff (autodiff.ts) and ONNX export (onnx.ts) both rely on that.
import { OPS } from './ops.js';

export type DType = 'float32' | 'int32' | 'int64' | 'bool';
/** A dimension: a concrete size or a symbolic name ("B", "T", "B*T"). */
export type Dim = number | string;
export type AttrValue = number | string | number[];
export type Attrs = Readonly<Record<string, AttrValue>>;
export type ConstData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Attrs;
}

export class Tensor {
  /** For int64 shape tensors produced by `shapeOf`: the dims they describe (used by shape inference). */
  valueDims?: readonly Dim[];
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
    readonly producer: Node | null,
    readonly kind: 'input' | 'const' | 'node',
    readonly name: string,
  ) {}
  get rank(): number {
    return this.shape.length;
  }
}

export type Operand = Tensor | number;

export interface OutSpec {
  dtype: DType;
  shape: Dim[];
}

export const BIG = 2 ** 62; // "to the end" for Slice ends

/** Broadcast two shapes numpy-style; symbolic dims are assumed equal unless one is literally 1. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number' && da !== db) {
      throw new Error(`cannot broadcast [${a.join(',')}] with [${b.join(',')}]`);
    } else out.push(typeof da === 'number' ? da : db);
  }
  return out;
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Tensor[] = [];
  readonly constants = new Map<number, ConstData>();
  private nextId = 0;
  private readonly scalarCache = new Map<string, Tensor>();
  private readonly inputNames = new Set<string>();

  input(name: string, dtype: DType, shape: readonly Dim[]): Tensor {
    if (this.inputNames.has(name)) throw new Error(`duplicate graph input '${name}'`);
    this.inputNames.add(name);
    const t = new Tensor(this, this.nextId++, dtype, [...shape], null, 'input', name);
    this.inputs.push(t);
    return t;
  }

  constant(data: ConstData, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const n = shape.reduce((p, d) => p * d, 1);
    if (data.length !== n) throw new Error(`constant: ${data.length} values for shape [${shape.join(',')}]`);
    const id = this.nextId++;
    const t = new Tensor(this, id, dtype, [...shape], null, 'const', `c${id}`);
    this.constants.set(id, data);
    return t;
  }

  scalar(v: number, dtype: 'float32' | 'int64' = 'float32'): Tensor {
    const key = `${dtype}:${v}`;
    let t = this.scalarCache.get(key);
    if (!t) {
      t = dtype === 'float32' ? this.constant(new Float32Array([v]), []) : this.constant(new BigInt64Array([BigInt(v)]), [], 'int64');
      this.scalarCache.set(key, t);
    }
    return t;
  }

  /** Apply any op from the table; returns all its outputs. */
  apply(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor[] {
    const def = OPS[op];
    if (!def) throw new Error(`unknown op '${op}'`);
    for (const t of inputs) if (t.graph !== this) throw new Error(`op '${op}': input from another graph`);
    const specs = def.infer(inputs, attrs);
    const outputs: Tensor[] = [];
    const node: Node = { id: this.nodes.length, op, inputs: [...inputs], outputs, attrs };
    for (const s of specs) {
      const id = this.nextId++;
      outputs.push(new Tensor(this, id, s.dtype, s.shape, node, 'node', `t${id}`));
    }
    this.nodes.push(node);
    return outputs;
  }

  private one(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Tensor {
    return this.apply(op, inputs, attrs)[0]!;
  }
  private lift(x: Operand): Tensor {
    return typeof x === 'number' ? this.scalar(x) : x;
  }

  // --- elementwise ---
  add(a: Operand, b: Operand): Tensor { return this.one('Add', [this.lift(a), this.lift(b)]); }
  sub(a: Operand, b: Operand): Tensor { return this.one('Sub', [this.lift(a), this.lift(b)]); }
  mul(a: Operand, b: Operand): Tensor { return this.one('Mul', [this.lift(a), this.lift(b)]); }
  div(a: Operand, b: Operand): Tensor { return this.one('Div', [this.lift(a), this.lift(b)]); }
  neg(x: Tensor): Tensor { return this.one('Neg', [x]); }
  exp(x: Tensor): Tensor { return this.one('Exp', [x]); }
  log(x: Tensor): Tensor { return this.one('Log', [x]); }
  sqrt(x: Tensor): Tensor { return this.one('Sqrt', [x]); }
  tanh(x: Tensor): Tensor { return this.one('Tanh', [x]); }
  sigmoid(x: Tensor): Tensor { return this.one('Sigmoid', [x]); }
  sin(x: Tensor): Tensor { return this.one('Sin', [x]); }
  cos(x: Tensor): Tensor { return this.one('Cos', [x]); }
  erf(x: Tensor): Tensor { return this.one('Erf', [x]); }
  gelu(x: Tensor): Tensor { return this.one('Gelu', [x]); }
  silu(x: Tensor): Tensor { return this.mul(x, this.sigmoid(x)); }
  identity(x: Tensor): Tensor { return this.one('Identity', [x]); }
  clip(x: Tensor, min: number, max: number): Tensor { return this.one('Clip', [x], { min, max }); }
  where(cond: Tensor, a: Operand, b: Operand): Tensor { return this.one('Where', [cond, this.lift(a), this.lift(b)]); }
  cast(x: Tensor, to: DType): Tensor { return x.dtype === to ? x : this.one('Cast', [x], { to }); }

  // --- comparisons / logic (not differentiable) ---
  equal(a: Operand, b: Operand): Tensor { return this.one('Equal', [this.lift(a), this.lift(b)]); }
  less(a: Operand, b: Operand): Tensor { return this.one('Less', [this.lift(a), this.lift(b)]); }
  lessOrEqual(a: Operand, b: Operand): Tensor { return this.one('LessOrEqual', [this.lift(a), this.lift(b)]); }
  greater(a: Operand, b: Operand): Tensor { return this.one('Greater', [this.lift(a), this.lift(b)]); }
  and(a: Tensor, b: Tensor): Tensor { return this.one('And', [a, b]); }
  or(a: Tensor, b: Tensor): Tensor { return this.one('Or', [a, b]); }
  not(a: Tensor): Tensor { return this.one('Not', [a]); }

  // --- linear algebra / indexing ---
  matmul(a: Tensor, b: Tensor): Tensor { return this.one('MatMul', [a, b]); }
  /** Row gather along axis 0 (embedding lookup); indices int32 or int64. */
  gather(table: Tensor, indices: Tensor): Tensor { return this.one('Gather', [table, indices]); }
  gatherElements(x: Tensor, indices: Tensor, axis: number): Tensor {
    return this.one('GatherElements', [x, indices], { axis });
  }
  /** x[..., idx[...]] along the last axis: the log-prob-of-target pattern. */
  pickLast(x: Tensor, idx: Tensor): Tensor {
    return this.squeeze(this.gatherElements(x, this.unsqueeze(idx, [-1]), -1), [-1]);
  }
  scatterNDAdd(data: Tensor, indices: Tensor, updates: Tensor): Tensor {
    return this.one('ScatterND', [data, indices, updates]);
  }
  scatterElementsAdd(data: Tensor, indices: Tensor, updates: Tensor, axis: number): Tensor {
    return this.one('ScatterElements', [data, indices, updates], { axis });
  }

  // --- reductions / normalizations ---
  reduceSum(x: Tensor, axes: number[], keepdims = false): Tensor {
    return this.one('ReduceSum', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  reduceMean(x: Tensor, axes: number[], keepdims = false): Tensor {
    return this.one('ReduceMean', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  reduceMax(x: Tensor, axes: number[], keepdims = false): Tensor {
    return this.one('ReduceMax', [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  sumAll(x: Tensor): Tensor { return this.reduceSum(x, x.shape.map((_, i) => i)); }
  softmax(x: Tensor, axis = -1): Tensor { return this.one('Softmax', [x], { axis }); }
  logSoftmax(x: Tensor, axis = -1): Tensor { return this.one('LogSoftmax', [x], { axis }); }
  /** Fused LayerNorm over the last axis (ONNX LayerNormalization, opset 17). */
  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
    return this.apply('LayerNorm', [x, gamma, beta], { epsilon: eps })[0]!;
  }

  // --- shape ops ---
  /** ONNX Reshape semantics: 0 copies the input dim, -1 is inferred. */
  reshape(x: Tensor, shape: number[]): Tensor { return this.one('Reshape', [x], { shape }); }
  /** Reshape x to the runtime shape of `like` (works with symbolic dims). */
  reshapeLike(x: Tensor, like: Tensor): Tensor { return this.one('ReshapeTo', [x, this.shapeOf(like)]); }
  expandLike(x: Tensor, like: Tensor): Tensor { return this.one('Expand', [x, this.shapeOf(like)]); }
  zerosLike(x: Tensor): Tensor { return this.one('ConstantOfShape', [this.shapeOf(x)], { value: 0 }); }
  transpose(x: Tensor, perm: number[]): Tensor { return this.one('Transpose', [x], { perm }); }
  /** Swap the last two axes. */
  t(x: Tensor): Tensor {
    const perm = x.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
    return this.transpose(x, perm);
  }
  concat(xs: Tensor[], axis: number): Tensor { return this.one('Concat', xs, { axis }); }
  slice(x: Tensor, axis: number, start: number, end: number): Tensor {
    return this.one('Slice', [x], { axis, start, end });
  }
  split(x: Tensor, axis: number, sizes: number[]): Tensor[] {
    return this.apply('Split', [x], { axis, sizes });
  }
  pad(x: Tensor, axis: number, before: number, after: number): Tensor {
    return this.one('Pad', [x], { axis, before, after });
  }
  unsqueeze(x: Tensor, axes: number[]): Tensor { return this.one('Unsqueeze', [x], { axes }); }
  squeeze(x: Tensor, axes: number[]): Tensor { return this.one('Squeeze', [x], { axes }); }
  shapeOf(x: Tensor): Tensor {
    const t = this.one('Shape', [x]);
    t.valueDims = x.shape;
    return t;
  }
  /** Number of elements of x as an int64 scalar. */
  size(x: Tensor): Tensor { return this.one('Size', [x]); }
  /** Runtime size of one axis as an int64 scalar. */
  dim(x: Tensor, axis: number): Tensor {
    return this.one('Gather', [this.shapeOf(x), this.scalar(normAxis(axis, x.rank), 'int64')]);
  }
  /** int64 [0, 1, ..., n-1] for an int64 scalar n. */
  range(n: Tensor): Tensor { return this.one('Range', [this.scalar(0, 'int64'), n, this.scalar(1, 'int64')]); }
}
