// Reverse-mode differentiation over a Graph: walks nodes backwards from the loss, calling each
// op's grad rule from the op table, and accumulates gradients with Add.
import type { Graph, Tensor } from './graph.js';
import { OPS } from './ops.js';

/**
 * Gradients of scalar `loss` with respect to each tensor in `wrt` (same order). Inputs the loss
 * does not depend on get explicit zero tensors, so callers always receive one output per input.
 */
export function gradients(g: Graph, loss: Tensor, wrt: readonly Tensor[]): Tensor[] {
  if (loss.rank !== 0) throw new Error(`gradients: loss must be a scalar, got shape [${loss.shape.join(',')}]`);
  // Tensors that depend on some wrt tensor: only these need gradients.
  const requires = new Set<number>(wrt.map((t) => t.id));
  for (const n of g.nodes) {
    if (n.inputs.some((t) => requires.has(t.id))) for (const o of n.outputs) requires.add(o.id);
  }
  const acc = new Map<number, Tensor>();
  const accumulate = (t: Tensor, d: Tensor): void => {
    const prev = acc.get(t.id);
    acc.set(t.id, prev ? g.add(prev, d) : d);
  };
  acc.set(loss.id, g.scalar(1));
  const lastNode = loss.producer ? loss.producer.id : -1;
  for (let i = lastNode; i >= 0; i--) {
    const node = g.nodes[i]!;
    const gOut = node.outputs.map((o) => acc.get(o.id) ?? null);
    if (gOut.every((d) => d === null)) continue;
    const needs = node.inputs.map((t) => requires.has(t.id) && t.dtype === 'float32');
    if (!needs.some(Boolean)) continue;
    const rule = OPS[node.op]?.grad;
    if (rule === undefined) throw new Error(`no gradient rule for op '${node.op}'`);
    if (rule === 'none') continue;
    const gIn = rule(g, node, gOut, needs);
    node.inputs.forEach((t, k) => {
      const d = gIn[k];
      if (d && needs[k]) accumulate(t, d);
    });
  }
  return wrt.map((t) => acc.get(t.id) ?? g.zerosLike(t));
}
