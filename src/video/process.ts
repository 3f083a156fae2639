/**
 * The only place that spawns ffmpeg/ffprobe: a bounded pool (default = cores) with a per-call
 * timeout that kills the process, abort support, stderr captured for errors, and a registry of
 * live children so nothing outlives the caller (or the Node process).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import type { Readable, Writable } from "node:stream";
import { asFramemindError, FramemindError } from "../errors.js";
import { Semaphore } from "../util/semaphore.js";
import { nativeStats } from "./native.js";

export interface RunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Bytes written to stdin (then closed). */
  stdin?: Buffer | AsyncIterable<Buffer>;
  /** Number of extra output pipes (fd 3, 4, ...) whose bytes are collected. */
  extraOutputs?: number;
  /** Refuse to collect more than this many bytes from all outputs together. */
  maxOutputBytes?: number;
}

export interface RunResult {
  exitCode: number;
  stdout: Buffer;
  /** Extra outputs in fd order (fd 3 first). */
  outputs: Buffer[];
  stderr: string;
}

const STDERR_KEEP = 1024 * 1024;

/**
 * glibc malloc tunables for the children: transparent huge pages and no mmap/trim churn for
 * frame-sized buffers. Each input's decoder touches fresh megabytes, and page faults dominated
 * ffmpeg's CPU time on virtual machines (bench/video.ts: ~25-30% less CPU per request). Other
 * libcs ignore the variable; a user's own GLIBC_TUNABLES wins.
 */
const CHILD_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864",
};


const pool = new Semaphore(Math.max(1, availableParallelism()));
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const c of live) c.kill("SIGKILL");
  });
}

/** Sets how many ffmpeg processes may run at once (default: number of cores). */
export function setProcessConcurrency(n: number): void {
  pool.limit = Math.max(1, Math.floor(n));
}

/**
 * Decode jobs in flight, for metrics and for tests asserting nothing is left (or aborting one
 * mid-decode): ffmpeg/ffprobe processes plus in-process decodes (framemind-libav), which take the
 * place of ffmpeg processes when the addon is installed; `inProcess` has the latter alone.
 */
export function processStats(): { running: number; queued: number; live: number; inProcess: { running: number; queued: number } } {
  const n = nativeStats();
  return { running: pool.running + n.running, queued: pool.queued + n.queued, live: live.size + n.running, inProcess: { running: n.running, queued: n.queued } };
}

/** Runs a binary with an argument array (never a shell), inside the pool. */
export async function runProcess(bin: string, args: string[], opts: RunOptions): Promise<RunResult> {
  if (opts.signal?.aborted) throw new FramemindError("FM_ERR_CANCELLED");
  await pool.acquire(opts.signal);
  try {
    return await runNow(bin, args, opts);
  } finally {
    pool.release();
  }
}

function runNow(bin: string, args: string[], opts: RunOptions): Promise<RunResult> {
  installExitHook();
  const extra = opts.extraOutputs ?? 0;
  const stdio: Array<"pipe" | "ignore"> = [opts.stdin ? "pipe" : "ignore", "pipe", "pipe", ...Array<"pipe">(extra).fill("pipe")];
  return new Promise<RunResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(bin, args, { stdio, windowsHide: true, env: CHILD_ENV });
    } catch (e) {
      reject(new FramemindError("FM_ERR_VIDEO_FFMPEG_FAILED", { exitCode: -1, reason: (e as Error).message }, { cause: e }));
      return;
    }
    live.add(child);
    const chunks: Buffer[][] = Array.from({ length: 1 + extra }, () => []);
    let total = 0;
    let stderr = "";
    let failure: FramemindError | undefined;
    const kill = (err: FramemindError) => {
      failure ??= err;
      child.kill("SIGKILL");
    };
    const collect = (i: number) => (b: Buffer) => {
      total += b.length;
      if (opts.maxOutputBytes !== undefined && total > opts.maxOutputBytes) {
        kill(new FramemindError("FM_ERR_VIDEO_LIMIT", { what: "decoded output bytes", value: total, limit: opts.maxOutputBytes }));
        return;
      }
      chunks[i]!.push(b);
    };
    child.stdout?.on("data", collect(0));
    for (let i = 0; i < extra; i++) (child.stdio[3 + i] as Readable).on("data", collect(1 + i));
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (s: string) => {
      stderr += s;
      // Keep head and tail: the first error line is usually the informative one.
      if (stderr.length > 2 * STDERR_KEEP) stderr = stderr.slice(0, STDERR_KEEP) + "\n...\n" + stderr.slice(-STDERR_KEEP);
    });
    const timer = setTimeout(() => kill(new FramemindError("FM_ERR_VIDEO_TIMEOUT", { ms: opts.timeoutMs })), opts.timeoutMs);
    const onAbort = () => kill(new FramemindError("FM_ERR_CANCELLED"));
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.stdin && child.stdin) feedStdin(child.stdin, opts.stdin, (e) => kill(asFramemindError(e)));
    child.on("error", (e) => {
      failure ??= new FramemindError("FM_ERR_VIDEO_FFMPEG_FAILED", { exitCode: -1, reason: e.message }, { cause: e });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      live.delete(child);
      if (failure) {
        reject(failure.code === "FM_ERR_VIDEO_TIMEOUT" || failure.code === "FM_ERR_VIDEO_FFMPEG_FAILED" ? withDetail(failure, stderr) : failure);
        return;
      }
      const [out, ...rest] = chunks.map((c) => Buffer.concat(c));
      resolve({ exitCode: code ?? -1, stdout: out!, outputs: rest, stderr });
    });
  });
}

function withDetail(e: FramemindError, stderr: string): FramemindError {
  return stderr ? new FramemindError(e.code, e.params, { detail: stderr.trim().slice(-2000), cause: e }) : e;
}

function feedStdin(stdin: Writable, data: Buffer | AsyncIterable<Buffer>, onProducerError: (e: unknown) => void): void {
  // ffmpeg may exit before reading everything (e.g. on error): ignore EPIPE, the exit code tells.
  stdin.on("error", () => undefined);
  if (Buffer.isBuffer(data)) {
    stdin.end(data);
    return;
  }
  void (async () => {
    try {
      for await (const chunk of data) {
        if (stdin.destroyed) break;
        if (!stdin.write(chunk)) {
          await new Promise<void>((r) => {
            const done = () => {
              stdin.off("drain", done);
              stdin.off("close", done);
              r();
            };
            stdin.on("drain", done);
            stdin.on("close", done);
          });
        }
      }
    } catch (e) {
      // The producer failed: the run fails with its error, not with a half-written output.
      onProducerError(e);
    }
    stdin.end();
  })();
}
