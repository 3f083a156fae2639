// Serializes a Graph to an ONNX ModelProto (via onnx-proto's protobufjs classes). Only nodes
// needed for the requested outputs are emitted.
import onnxPkg from 'onnx-proto';
import type { AttrValue, ConstData, Dim, Graph, Tensor } from './graph.js';
import { OPS, onnxDType, type EmitCtx } from './ops.js';

const { onnx } = onnxPkg;
type INode = onnxPkg.onnx.INodeProto;
type ITensor = onnxPkg.onnx.ITensorProto;
type IAttr = onnxPkg.onnx.IAttributeProto;
type IValueInfo = onnxPkg.onnx.IValueInfoProto;

export const OPSET = 17;

export interface ExportSpec {
  /** Graph inputs to expose, in order (must be tensors created with graph.input). */
  inputs: readonly Tensor[];
  /** Output name -> tensor. */
  outputs: Readonly<Record<string, Tensor>>;
  name?: string;
}

/** JS numbers carry no int/float tag: these attribute names are FLOAT in ONNX, other numbers INT. */
const FLOAT_ATTRS = new Set(['epsilon', 'alpha', 'beta', 'gamma']);

function attr(name: string, v: AttrValue): IAttr {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
  if (name === 'value') {
    // ConstantOfShape's fill value is a one-element tensor.
    return { name, type: A.TENSOR, t: { dims: [1], dataType: 1, rawData: new Uint8Array(new Float32Array([v]).buffer) } };
  }
  if (FLOAT_ATTRS.has(name)) return { name, type: A.FLOAT, f: v };
  if (!Number.isInteger(v)) throw new Error(`attribute '${name}' = ${v} is not an integer (add it to FLOAT_ATTRS?)`);
  return { name, type: A.INT, i: v };
}

function rawBytes(d: ConstData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

function valueInfo(name: string, t: Tensor): IValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnxDType(t.dtype),
        shape: { dim: t.shape.map((d: Dim) => (typeof d === 'number' ? { dimValue: d } : /^[A-Za-z_]\w*$/.test(d) ? { dimParam: d } : {})) },
      },
    },
  };
}

export function exportOnnx(g: Graph, spec: ExportSpec): Uint8Array {
  // Reachability from the outputs.
  const needed = new Set<number>();
  const stack = Object.values(spec.outputs).map((t) => t.id);
  const byOutput = new Map<number, number>(); // tensor id -> node index
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => byOutput.set(o.id, i)));
  const tensorById = new Map<number, Tensor>();
  for (const n of g.nodes) for (const t of [...n.inputs, ...n.outputs]) tensorById.set(t.id, t);
  const liveNodes = new Set<number>();
  while (stack.length) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    const ni = byOutput.get(id);
    if (ni === undefined || liveNodes.has(ni)) continue;
    liveNodes.add(ni);
    for (const t of g.nodes[ni]!.inputs) stack.push(t.id);
  }
  for (const t of g.inputs) {
    if (needed.has(t.id) && !spec.inputs.includes(t)) throw new Error(`graph input '${t.name}' is used but not exported`);
  }

  const nodes: INode[] = [];
  const initializers: ITensor[] = [];
  let tmp = 0;
  const i64Cache = new Map<string, string>();
  const ctx: EmitCtx = {
    node(opType, inputs, outputs, attrs = {}, domain) {
      nodes.push({
        opType,
        input: inputs,
        output: outputs,
        name: `n${nodes.length}_${opType}`,
        domain: domain ?? '',
        attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
      });
    },
    i64(values, scalar = false) {
      const key = `${scalar}:${values.join(',')}`;
      let name = i64Cache.get(key);
      if (!name) {
        name = `k${tmp++}`;
        initializers.push({ name, dims: scalar ? [] : [values.length], dataType: 7, rawData: rawBytes(BigInt64Array.from(values.map(BigInt))) });
        i64Cache.set(key, name);
      }
      return name;
    },
    f32(value) {
      const name = `f${tmp++}`;
      initializers.push({ name, dims: [], dataType: 1, rawData: rawBytes(new Float32Array([value])) });
      return name;
    },
  };
  for (const [id, data] of g.constants) {
    if (!needed.has(id)) continue;
    const t = tensorById.get(id);
    if (!t) continue;
    initializers.push({ name: t.name, dims: t.shape as number[], dataType: onnxDType(t.dtype), rawData: rawBytes(data) });
  }
  g.nodes.forEach((n, i) => {
    if (!liveNodes.has(i)) return;
    const def = OPS[n.op]!;
    def.emit(ctx, n.inputs.map((t) => t.name), n.outputs.map((t) => t.name), n.attrs, n);
  });
  const outputs: IValueInfo[] = [];
  for (const [name, t] of Object.entries(spec.outputs)) {
    ctx.node('Identity', [t.name], [name]);
    outputs.push(valueInfo(name, t));
  }
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'framemind-nn',
    opsetImport: [
      { domain: '', version: OPSET },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: {
      name: spec.name ?? 'graph',
      node: nodes,
      initializer: initializers,
      input: spec.inputs.map((t) => valueInfo(t.name, t)),
      output: outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
