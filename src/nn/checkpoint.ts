// Checkpoints: safetensors (F32) weights + JSON config + optimizer moments + RNG state.
// Every file is written to a temp name and renamed, and the directory is swapped in last.
import fs from 'node:fs';
import path from 'node:path';
import type { AdamWState } from './adam.js';
import type { RngState } from './rng.js';

export interface NamedTensor {
  data: Float32Array;
  shape: number[];
}
export type TensorMap = Record<string, NamedTensor>;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Encode tensors as a safetensors buffer (keys sorted, header padded to 8 bytes). */
export function encodeSafetensors(tensors: Readonly<TensorMap>, metadata: Record<string, string> = {}): Buffer {
  const names = Object.keys(tensors).sort();
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  let off = 0;
  for (const n of names) {
    const t = tensors[n]!;
    const count = t.shape.reduce((p, d) => p * d, 1);
    if (count !== t.data.length) throw new Error(`safetensors: '${n}' has ${t.data.length} values for shape [${t.shape.join(',')}]`);
    header[n] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hbytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + hbytes.length + off);
  out.writeBigUInt64LE(BigInt(hbytes.length), 0);
  hbytes.copy(out, 8);
  let p = 8 + hbytes.length;
  for (const n of names) {
    const d = tensors[n]!.data;
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).copy(out, p);
    p += d.byteLength;
  }
  return out;
}

export function decodeSafetensors(buf: Buffer): { tensors: TensorMap; metadata: Record<string, string> } {
  if (buf.length < 8) throw new Error('safetensors: file too short');
  const hlen = Number(buf.readBigUInt64LE(0));
  if (8 + hlen > buf.length) throw new Error('safetensors: header length exceeds file size');
  const header = JSON.parse(buf.subarray(8, 8 + hlen).toString('utf8')) as Record<string, unknown>;
  const base = 8 + hlen;
  const tensors: TensorMap = {};
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as HeaderEntry;
    if (e.dtype !== 'F32') throw new Error(`safetensors: '${name}' has dtype ${e.dtype}; only F32 is supported`);
    const [a, b] = e.data_offsets;
    const count = e.shape.reduce((p, d) => p * d, 1);
    if (b - a !== count * 4 || base + b > buf.length) throw new Error(`safetensors: '${name}' has bad offsets [${a}, ${b}]`);
    // Copy so the result is 4-byte aligned and independent of the file buffer.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(buf.subarray(base + a, base + b));
    tensors[name] = { data, shape: e.shape };
  }
  return { tensors, metadata };
}

/** Write a file atomically: temp file in the same directory, then rename. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export function writeSafetensors(file: string, tensors: Readonly<TensorMap>, metadata?: Record<string, string>): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export function readSafetensors(file: string): { tensors: TensorMap; metadata: Record<string, string> } {
  return decodeSafetensors(fs.readFileSync(file));
}

export class CheckpointMismatchError extends Error {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly wrongShape: { name: string; expected: number[]; found: number[] }[],
  ) {
    const lines = [
      ...missing.map((n) => `  missing: ${n}`),
      ...unexpected.map((n) => `  unexpected: ${n}`),
      ...wrongShape.map((w) => `  shape mismatch: ${w.name} expected [${w.expected.join(', ')}], found [${w.found.join(', ')}]`),
    ];
    super(`checkpoint does not match the model:\n${lines.join('\n')}`);
    this.name = 'CheckpointMismatchError';
  }
}

/** Throw a CheckpointMismatchError listing every missing, unexpected or mis-shaped tensor. */
export function validateTensors(expected: readonly { name: string; shape: readonly number[] }[], found: Readonly<TensorMap>): void {
  const want = new Map(expected.map((e) => [e.name, e.shape]));
  const missing = expected.filter((e) => !(e.name in found)).map((e) => e.name);
  const unexpected = Object.keys(found).filter((n) => !want.has(n));
  const wrongShape = expected
    .filter((e) => e.name in found && found[e.name]!.shape.join(',') !== e.shape.join(','))
    .map((e) => ({ name: e.name, expected: [...e.shape], found: found[e.name]!.shape }));
  if (missing.length || unexpected.length || wrongShape.length) throw new CheckpointMismatchError(missing, unexpected, wrongShape);
}

export interface Checkpoint<C> {
  config: C;
  params: Record<string, Float32Array>;
  optimizer?: AdamWState;
  rng?: RngState;
  /** Free-form JSON (step, metrics, trainer state). */
  meta?: Record<string, unknown>;
}

const FILES = { weights: 'model.safetensors', config: 'config.json', opt: 'optimizer.safetensors', state: 'state.json' };

/**
 * Save to directory `dir`: model.safetensors, config.json, optimizer.safetensors (m.* / v.*) and
 * state.json (optimizer step, RNG state, meta). Built in `dir.tmp` and swapped in with renames.
 */
export function saveCheckpoint<C>(dir: string, ck: Checkpoint<C>, shapes: ReadonlyMap<string, readonly number[]>): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const toMap = (src: Record<string, Float32Array>, prefix = ''): TensorMap => {
    const out: TensorMap = {};
    for (const [n, data] of Object.entries(src)) {
      const shape = shapes.get(n);
      if (!shape) throw new Error(`saveCheckpoint: no shape known for '${n}'`);
      out[prefix + n] = { data, shape: [...shape] };
    }
    return out;
  };
  writeSafetensors(path.join(tmp, FILES.weights), toMap(ck.params), { format: 'pt' });
  writeFileAtomic(path.join(tmp, FILES.config), JSON.stringify(ck.config, null, 2));
  const opt = ck.optimizer && ck.optimizer.step > 0 ? ck.optimizer : undefined; // step 0 has no moments yet
  if (opt) {
    writeSafetensors(path.join(tmp, FILES.opt), { ...toMap(opt.m, 'm.'), ...toMap(opt.v, 'v.') });
  }
  const state = { optimizerStep: opt?.step ?? null, rng: ck.rng ?? null, meta: ck.meta ?? {} };
  writeFileAtomic(path.join(tmp, FILES.state), JSON.stringify(state, null, 2));
  const old = `${dir}.old-${process.pid}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/**
 * Load a checkpoint directory. `parseConfig` validates config.json; `expected` (name + shape of
 * every parameter, usually derived from the parsed config) is checked against the weights.
 */
export function loadCheckpoint<C>(
  dir: string,
  parseConfig: (raw: unknown) => C,
  expected: (config: C) => readonly { name: string; shape: readonly number[] }[],
): Checkpoint<C> {
  const config = parseConfig(JSON.parse(fs.readFileSync(path.join(dir, FILES.config), 'utf8')));
  const { tensors } = readSafetensors(path.join(dir, FILES.weights));
  const specs = expected(config);
  validateTensors(specs, tensors);
  const params = Object.fromEntries(Object.entries(tensors).map(([n, t]) => [n, t.data]));
  const state = JSON.parse(fs.readFileSync(path.join(dir, FILES.state), 'utf8')) as {
    optimizerStep: number | null;
    rng: RngState | null;
    meta: Record<string, unknown>;
  };
  const ck: Checkpoint<C> = { config, params, meta: state.meta };
  if (state.rng) ck.rng = state.rng;
  const optFile = path.join(dir, FILES.opt);
  if (state.optimizerStep !== null && fs.existsSync(optFile)) {
    const { tensors: o } = readSafetensors(optFile);
    const prefixed = (p: string) => specs.map((s) => ({ name: p + s.name, shape: s.shape }));
    validateTensors([...prefixed('m.'), ...prefixed('v.')], o);
    const pick = (p: string) => Object.fromEntries(specs.map((s) => [s.name, o[p + s.name]!.data]));
    ck.optimizer = { step: state.optimizerStep, m: pick('m.'), v: pick('v.') };
  }
  return ck;
}
