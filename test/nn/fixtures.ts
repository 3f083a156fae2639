// Tiny model + batch fixtures shared by the model-level tests.
import { Rng } from '../../src/nn/rng.js';
import { parseTransformerConfig, type TransformerConfig } from '../../src/nn/transformer.js';
import type { SftBatch } from '../../src/nn/model.js';

export const tinyConfig: TransformerConfig = parseTransformerConfig({
  vocabSize: 13,
  dModel: 16,
  nLayers: 2,
  nHeads: 2,
  dFF: 32,
  maxSeq: 24,
  patchDim: 6,
  timeFeatures: 4,
});

/** B rows of T positions; positions 1 and 2 of each row are visual tokens (never targets). */
export function tinyBatch(seed: number, B = 2, T = 8, c: TransformerConfig = tinyConfig): SftBatch {
  const rng = new Rng(seed);
  const n = B * T;
  const tokens = Int32Array.from({ length: n }, () => rng.int(c.vocabSize));
  const patchSlot = new Int32Array(n);
  const patches: number[] = [];
  const times: number[] = [];
  for (let b = 0; b < B; b++) {
    for (const t of [1, 2]) {
      patchSlot[b * T + t] = times.length + 1;
      for (let k = 0; k < c.patchDim; k++) patches.push(rng.uniform());
      times.push(t * 1.5 + b);
    }
  }
  const targets = new Int32Array(n);
  const lossMask = new Float32Array(n);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T - 1; t++) {
      targets[b * T + t] = tokens[b * T + t + 1]!;
      const nextIsVisual = patchSlot[b * T + t + 1]! > 0;
      lossMask[b * T + t] = nextIsVisual || (b === 1 && t >= T - 2) ? 0 : 1; // row 1 ends with padding
    }
  }
  return { batch: B, seq: T, tokens, patchSlot, patches: Float32Array.from(patches), patchTimes: Float32Array.from(times), targets, lossMask };
}
