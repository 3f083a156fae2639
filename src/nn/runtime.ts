// The only module that touches onnxruntime-node: session creation and checked execution.
import { FramemindError } from '../errors.js';
import os from 'node:os';
import ort from 'onnxruntime-node';

export type FeedDType = 'float32' | 'int32' | 'int64' | 'bool';
export type FeedData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

/** A plain tensor value crossing the runtime boundary. */
export interface TensorValue {
  type: FeedDType;
  data: FeedData;
  dims: readonly number[];
}

export interface SessionOptions {
  /** Defaults to FRAMEMIND_THREADS when set, else os.availableParallelism(). */
  threads?: number;
  /** Write the ORT-optimized model here (debugging). */
  optimizedModelPath?: string;
  /**
   * ORT memory-pattern planning. Default false: measured no steady-state gain on the training
   * graph, while with it every new input shape paid an extra ~1 s run.
   */
  memPattern?: boolean;
  /** Enable ORT's per-node profiler (debugging). */
  profile?: boolean;
}

export function f32(data: Float32Array, dims: readonly number[]): TensorValue {
  return { type: 'float32', data, dims };
}
export function i32(data: Int32Array, dims: readonly number[]): TensorValue {
  return { type: 'int32', data, dims };
}

function describe(name: string, v: TensorValue | undefined): string {
  if (!v) return `  ${name}: <missing>`;
  const n = v.dims.reduce((p, d) => p * d, 1);
  const bad = n !== v.data.length ? ` (!! ${v.data.length} values for ${n} elements)` : '';
  return `  ${name}: ${v.type} [${v.dims.join(', ')}]${bad}`;
}

/**
 * FRAMEMIND_THREADS caps onnxruntime's intra-op threads for every session of the process: with
 * several training or eval processes on few cores, one thread each beats spinning pools.
 */
function envThreads(): number | undefined {
  const raw = process.env.FRAMEMIND_THREADS;
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new FramemindError("FM_ERR_ENV_INVALID", { name: "FRAMEMIND_THREADS", reason: `must be a positive integer, got '${raw}'` });
  return n;
}

export class Session {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  static async create(model: Uint8Array, opts: SessionOptions = {}): Promise<Session> {
    const threads = opts.threads ?? envThreads() ?? os.availableParallelism();
    const s = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
      enableMemPattern: opts.memPattern ?? false,
      enableProfiling: opts.profile ?? false,
      ...(opts.profile ? { profileFilePrefix: 'onnxruntime_profile' } : {}),
      ...(opts.optimizedModelPath ? { optimizedModelFilePath: opts.optimizedModelPath } : {}),
    });
    return new Session(s, s.inputNames, s.outputNames);
  }

  /** Run with named feeds; the error lists every fed input with its type and dims. */
  async run(feeds: Readonly<Record<string, TensorValue>>, outputs?: readonly string[]): Promise<Record<string, TensorValue>> {
    const missing = this.inputNames.filter((n) => !(n in feeds));
    const extra = Object.keys(feeds).filter((n) => !this.inputNames.includes(n));
    const mismatch = Object.entries(feeds).filter(([, v]) => v.dims.reduce((p, d) => p * d, 1) !== v.data.length);
    if (missing.length || extra.length || mismatch.length) {
      throw new Error(this.report(`bad feeds (missing: [${missing.join(', ')}], unexpected: [${extra.join(', ')}])`, feeds));
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, v] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(v.type, v.data, v.dims);
    let res: ort.InferenceSession.ReturnType;
    try {
      res = outputs ? await this.session.run(ortFeeds, [...outputs]) : await this.session.run(ortFeeds);
    } catch (e) {
      throw new Error(this.report(`onnxruntime run failed: ${(e as Error).message}`, feeds));
    }
    const out: Record<string, TensorValue> = {};
    for (const [name, t] of Object.entries(res)) {
      out[name] = { type: t.type as FeedDType, data: t.data as FeedData, dims: t.dims };
    }
    return out;
  }

  private report(msg: string, feeds: Readonly<Record<string, TensorValue>>): string {
    const names = [...new Set([...this.inputNames, ...Object.keys(feeds)])];
    return `${msg}\nfeeds:\n${names.map((n) => describe(n, feeds[n])).join('\n')}`;
  }

  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
