/**
 * The optional in-process decoder: the `framemind-libav` N-API addon (native/libav) over the
 * system's libavformat/libavcodec/libswscale. frames.ts decodes through it when it loads (no ffmpeg
 * process start, the file opened once per request) and falls back to the ffmpeg CLI when it is
 * absent, forced off (FRAMEMIND_DECODER=cli or setDecoder("cli")), or fails on a file.
 */
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { ERROR_CODES, FramemindError, type ErrorCode } from "../errors.js";
import { Semaphore } from "../util/semaphore.js";

export type DecoderChoice = "auto" | "cli" | "libav";

interface AddonOptions {
  path: string;
  /** Absolute times (file timeline, seconds); absent = open the file and report `info` only. */
  times?: number[];
  /** "all": every frame of the file in presentation order (no times). */
  mode?: "exact" | "tolerant" | "all";
  width?: number;
  height?: number;
  /** Clockwise display rotation applied after scaling (0, 90, 180, 270). */
  rotation?: number;
  /** Decode on instead of seeking when the next target is this close (seconds). */
  mergeGap?: number;
  frameDuration?: number;
  /** Decoder threads (0 = libavcodec's choice). */
  threads?: number;
  timeoutMs?: number;
  /** Element 0 set to 1 cancels the decode (checked between packets). */
  cancel?: Int32Array;
  /** Mode "all": refuse files with more frames (FM_ERR_VIDEO_LIMIT). */
  maxFrames?: number;
}

export interface NativeStreamInfo {
  codec: string;
  pixFmt: string;
  codedWidth: number;
  codedHeight: number;
  startTime: number;
  /** Container duration in seconds, -1 when unknown. */
  duration: number;
  fps: number;
  timeBase: number;
  rotation: number;
}

interface AddonResult {
  info: NativeStreamInfo;
  frames?: Buffer[];
  pts?: number[];
  keys?: boolean[];
}

interface AddonError extends Error {
  code?: string;
  detail?: string;
}

interface LibavAddon {
  decode(opts: AddonOptions, cb: (err: AddonError | null, res?: AddonResult) => void): void;
  versions(): Record<string, string>;
}

export interface DecoderStatus {
  /** Frames are decoded in-process (the CLI remains the fallback). */
  active: boolean;
  choice: DecoderChoice;
  /** Why the fast path is off, or which libraries it uses. */
  reason: string;
  versions?: Record<string, string>;
}

let loaded: { addon?: LibavAddon; error?: string } | undefined;
let override: DecoderChoice | undefined;

function load(): { addon?: LibavAddon; error?: string } {
  if (loaded) return loaded;
  try {
    const mod: unknown = createRequire(import.meta.url)("framemind-libav");
    const a = mod as Partial<LibavAddon>;
    loaded = typeof a.decode === "function" && typeof a.versions === "function" ? { addon: a as LibavAddon } : { error: "framemind-libav does not export decode()" };
  } catch (e) {
    const msg = (e as Error).message.split("\n")[0] ?? "";
    loaded = { error: /Cannot find module 'framemind-libav'/.test(msg) ? "framemind-libav is not installed" : `framemind-libav does not load: ${msg}` };
  }
  return loaded;
}

function choice(): DecoderChoice {
  if (override) return override;
  const env = (process.env.FRAMEMIND_DECODER ?? "auto").toLowerCase();
  return env === "cli" || env === "libav" ? env : "auto";
}

/** Forces the decoder ("cli" measures the ffmpeg CLI path); undefined returns to FRAMEMIND_DECODER / auto. */
export function setDecoder(c: DecoderChoice | undefined): void {
  override = c;
}

export function decoderStatus(): DecoderStatus {
  const c = choice();
  if (c === "cli") return { active: false, choice: c, reason: "forced off (FRAMEMIND_DECODER=cli or setDecoder)" };
  const { addon, error } = load();
  if (!addon) return { active: false, choice: c, reason: error ?? "unavailable" };
  const versions = addon.versions();
  return { active: true, choice: c, reason: `libav ${versions.ffmpeg ?? "?"} (libavcodec ${versions.libavcodec ?? "?"}), ffmpeg CLI as fallback`, versions };
}

function addon(): LibavAddon | undefined {
  return choice() === "cli" ? undefined : load().addon;
}

export function nativeAvailable(): boolean {
  return addon() !== undefined;
}

const stats = { calls: 0, frames: 0, fallbacks: 0, lastFallback: "" };

/** In-process decodes (done and running), frames, and requests that fell back to the CLI (with the last reason). */
export function nativeStats(): typeof stats & { running: number; queued: number } {
  return { ...stats, running: slots.running, queued: slots.queued };
}

/** Records a request the CLI took over after the addon failed on it. */
export function noteFallback(e: unknown): void {
  stats.fallbacks++;
  stats.lastFallback = e instanceof Error ? `${(e as { code?: string }).code ?? "error"}: ${e.message}` : String(e);
}

const slots = new Semaphore(Math.max(1, availableParallelism()));
/** After the deadline the addon stops at its next packet; a decoder stuck inside one call is given this long. */
const STUCK_GRACE_MS = 2000;

export interface NativeDecodeRequest {
  path: string;
  times: number[];
  mode: "exact" | "tolerant";
  width: number;
  height: number;
  rotation: number;
  mergeGap: number;
  frameDuration: number;
  threads: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * The addon's FM_ERR_* code as a FramemindError; its own FM_ERR_FALLBACK ("let the CLI do it")
 * becomes _CORRUPT. Apart from timeouts and cancellations these only make the CLI take over.
 */
function toError(e: AddonError, path: string, timeoutMs: number): FramemindError {
  const code: ErrorCode = e.code !== undefined && e.code in ERROR_CODES ? (e.code as ErrorCode) : "FM_ERR_VIDEO_CORRUPT";
  return new FramemindError(code, { path, reason: e.message, codec: "unknown", ms: timeoutMs }, { detail: [e.message, e.detail].filter(Boolean).join("\n") });
}

/** Decodes `times` in one addon call (a libuv pool thread); rejects with a FramemindError. */
export async function nativeDecode(req: NativeDecodeRequest): Promise<{ pts: number[]; frames: Buffer[] }> {
  return inSlot(req.signal, (a) => callAddon(a, req, req.times.length));
}

export interface NativeDecodeAllRequest {
  path: string;
  width: number;
  height: number;
  rotation: number;
  maxFrames: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Every frame of the file at one size, in presentation order, with keyframe flags (the frame store). */
export async function nativeDecodeAll(req: NativeDecodeAllRequest): Promise<{ pts: number[]; frames: Buffer[]; keys: boolean[] }> {
  const r = await inSlot(req.signal, (a) => callAddon(a, { ...req, mode: "all", threads: 0 }, undefined));
  if (!r.keys || r.keys.length !== r.frames.length) throw new FramemindError("FM_ERR_INTERNAL", { reason: "the in-process decoder returned no keyframe flags" });
  return { pts: r.pts, frames: r.frames, keys: r.keys };
}

async function inSlot<T extends { frames: Buffer[] }>(signal: AbortSignal | undefined, run: (a: LibavAddon) => Promise<T>): Promise<T> {
  const a = addon();
  if (!a) throw new FramemindError("FM_ERR_INTERNAL", { reason: "the in-process decoder is not available" });
  await slots.acquire(signal);
  try {
    stats.calls++;
    const r = await run(a);
    stats.frames += r.frames.length;
    return r;
  } finally {
    slots.release();
  }
}

type CallRequest = Omit<AddonOptions, "cancel"> & { path: string; timeoutMs: number; signal?: AbortSignal };

/** One addon call; `expected` = the number of frames it must return (undefined: any, at least one). */
function callAddon(a: LibavAddon, req: CallRequest, expected: number | undefined): Promise<{ pts: number[]; frames: Buffer[]; keys?: boolean[] }> {
  const cancel = new Int32Array(1);
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(stuck);
      req.signal?.removeEventListener("abort", onAbort);
      f();
    };
    const onAbort = () => {
      cancel[0] = 1;
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });
    const stuck = setTimeout(() => {
      cancel[0] = 1;
      done(() => reject(new FramemindError("FM_ERR_VIDEO_TIMEOUT", { ms: req.timeoutMs })));
    }, req.timeoutMs + STUCK_GRACE_MS);
    const { signal: _signal, ...opts } = req;
    try {
      a.decode({ ...opts, cancel }, (err, res) =>
        done(() => {
          if (err) reject(toError(err, req.path, req.timeoutMs));
          else if (!res?.frames || !res.pts || res.frames.length === 0 || (expected !== undefined && res.frames.length !== expected)) reject(new FramemindError("FM_ERR_INTERNAL", { reason: "the in-process decoder returned no frames" }));
          else resolve({ pts: res.pts, frames: res.frames, keys: res.keys });
        }),
      );
    } catch (e) {
      done(() => reject(new FramemindError("FM_ERR_INTERNAL", { reason: (e as Error).message })));
    }
    if (req.signal?.aborted) onAbort();
  });
}

/** Opens a file in-process and reports its video stream (tests compare it with ffprobe). */
export function nativeStreamInfo(path: string, timeoutMs = 20_000): Promise<NativeStreamInfo> {
  const a = addon();
  if (!a) return Promise.reject(new FramemindError("FM_ERR_INTERNAL", { reason: "the in-process decoder is not available" }));
  return new Promise((resolve, reject) => a.decode({ path, timeoutMs }, (err, res) => (err || !res ? reject(toError(err ?? new Error("no result"), path, timeoutMs)) : resolve(res.info))));
}
