/**
 * Frame and clip extraction. A request becomes a few ffmpeg processes (at most one per core),
 * each with several seeking inputs; every input decodes a short window around its targets and
 * writes raw RGB to its own pipe (fd 3, 4, ...). `showinfo` reports each frame's real pts.
 *  - exact: the frame shown at t (last frame with pts <= t); accurate seek + select window.
 *  - tolerant: the keyframe at or before t (one decoded frame), when keyframes are dense enough.
 * Nearby targets share one input (continuous decode beats a new seek within a GOP).
 */
import { FramemindError, throwIfAborted } from "../errors.js";
import { binaries } from "./binaries.js";
import { runProcess } from "./process.js";
import { fileIdentity, resolveVideoPath, type PathPolicy } from "./paths.js";
import { probeFile, type VideoInfo } from "./probe.js";
import { clipTokens, targetSize, tokensFor, type Resolution, type Size } from "./resize.js";
import { cacheKey, DiskStore, LruCache } from "./cache.js";
import { availableParallelism } from "node:os";

export type FrameMode = "exact" | "tolerant";

export interface Frame {
  /** Real presentation time in seconds from the start of the video. */
  timestamp: number;
  /** The time that was asked for. */
  requested: number;
  width: number;
  height: number;
  tokens: number;
  /** Packed RGB24, width*height*3 bytes. */
  rgb: Buffer;
}

export interface FramesRequest {
  video: string;
  /** Explicit timestamps (seconds), or `span` for `count` evenly spaced frames over [start, end]. */
  at?: readonly number[];
  span?: { start: number; end: number; count: number };
  resolution: Resolution;
  mode?: FrameMode;
}

export interface ExtractOptions extends PathPolicy {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Largest number of frames in one request. */
  maxFrames?: number;
  /** Refuse videos longer than this (seconds). */
  maxDurationS?: number;
  /** Skip the caches (benchmarks). */
  noCache?: boolean;
}

export interface FramesResult {
  video: VideoInfo;
  frames: Frame[];
  width: number;
  height: number;
  /** Visual tokens of the whole result (frames; clips count frames in pairs). */
  tokens: number;
  mode: FrameMode;
  cached: boolean;
  decodeMs: number;
  warnings: string[];
}

const DEFAULT_MAX_FRAMES = 256;
/** A target may be clamped onto the last frame when asked up to this far past the end. */
const END_SLACK_S = 0.5;

const memCache = new LruCache<FramesResult>({ maxBytes: 256 * 1024 * 1024, sizeOf: (r) => r.frames.reduce((n, f) => n + f.rgb.length + 128, 512) });
let disk: DiskStore | undefined;

/** Persists decoded results under `dir` (training and eval reuse frames across runs); undefined turns it off. */
export function setFrameCacheDir(dir: string | undefined): void {
  disk = dir ? new DiskStore(dir) : undefined;
}

export function frameCacheStats(): ReturnType<LruCache<FramesResult>["stats"]> {
  return memCache.stats();
}

export function clearFrameCache(): void {
  memCache.clear();
}

/** Evenly spaced times over [start, end] (both ends included when count > 1). */
export function spreadTimes(start: number, end: number, count: number): number[] {
  if (count === 1) return [round3((start + end) / 2)];
  return Array.from({ length: count }, (_, k) => round3(start + (k * (end - start)) / (count - 1)));
}

/** Uniform overview times: the centres of `count` equal slices of [0, duration]. */
export function uniformTimes(duration: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => round3(((k + 0.5) * duration) / count));
}

export async function getFrames(req: FramesRequest, opts: ExtractOptions = {}): Promise<FramesResult> {
  return extract(req, opts, false);
}

export interface ClipRequest {
  video: string;
  start: number;
  end: number;
  /** 8..20 frames, default 16. */
  count?: number;
  resolution: Resolution;
}

/** A short clip: `count` frames evenly over [start, end], exact, tokens counted in pairs. */
export async function getClip(req: ClipRequest, opts: ExtractOptions = {}): Promise<FramesResult> {
  const count = req.count ?? 16;
  if (!Number.isInteger(count) || count < 8 || count > 20) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `clip count must be an integer from 8 to 20, got ${count}` });
  if (!(req.end > req.start)) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `clip end (${req.end}) must be after start (${req.start})` });
  return extract({ video: req.video, span: { start: req.start, end: req.end, count }, resolution: req.resolution, mode: "exact" }, opts, true);
}

async function extract(req: FramesRequest, opts: ExtractOptions, isClip: boolean): Promise<FramesResult> {
  const file = await resolveVideoPath(req.video, opts);
  const info = await probeFile(file, { timeoutMs: opts.timeoutMs, signal: opts.signal }, req.video);
  if (opts.maxDurationS !== undefined && info.duration > opts.maxDurationS) {
    throw new FramemindError("FM_ERR_VIDEO_LIMIT", { what: "video duration (s)", value: info.duration, limit: opts.maxDurationS });
  }
  const times = requestedTimes(req, info);
  const maxFrames = opts.maxFrames ?? DEFAULT_MAX_FRAMES;
  if (times.length === 0) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "no timestamps requested" });
  if (times.length > maxFrames) throw new FramemindError("FM_ERR_VIDEO_LIMIT", { what: "frames requested", value: times.length, limit: maxFrames });
  const size = targetSize({ width: info.width, height: info.height }, req.resolution);
  const wantTolerant = (req.mode ?? "exact") === "tolerant";
  // Tolerant seeks land on the keyframe before t: only worth it when keyframes are close.
  const mode: FrameMode = wantTolerant && info.keyframeInterval !== null && info.keyframeInterval <= 2 ? "tolerant" : "exact";
  const warnings = [...info.warnings];
  if (wantTolerant && mode === "exact") warnings.push("keyframes are sparse or unknown: used exact seeking");

  const key = cacheKey([fileIdentity(file), mode, times, size]);
  if (!opts.noCache) {
    const hit = memCache.get(key) ?? (await fromDisk(key));
    if (hit) return { ...hit, video: info, cached: true, decodeMs: 0 };
  }
  const t0 = performance.now();
  const frames = await decode(info, times, size, mode, opts);
  const perFrame = tokensFor(size);
  const result: FramesResult = {
    video: info,
    frames,
    width: size.width,
    height: size.height,
    tokens: isClip ? clipTokens(frames.length, size) : perFrame * frames.length,
    mode,
    cached: false,
    decodeMs: Math.round(performance.now() - t0),
    warnings,
  };
  if (!opts.noCache) {
    memCache.set(key, result);
    if (disk) await disk.set(key, serialize(result)).catch(() => undefined);
  }
  return result;
}

function requestedTimes(req: FramesRequest, info: VideoInfo): number[] {
  let times: number[];
  if (req.at && req.span) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "give either timestamps or start/end/count, not both" });
  if (req.at) times = [...req.at];
  else if (req.span) {
    const { start, end, count } = req.span;
    if (!Number.isInteger(count) || count < 1) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `count must be a positive integer, got ${count}` });
    if (!(end >= start)) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `end (${end}) must not be before start (${start})` });
    checkRange(start, info);
    checkRange(end, info);
    times = spreadTimes(start, Math.min(end, info.duration), count);
  } else throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "give timestamps or start/end/count" });
  for (const t of times) checkRange(t, info);
  return times;
}

function checkRange(t: number, info: VideoInfo): void {
  if (!Number.isFinite(t) || t < 0 || t > info.duration + END_SLACK_S) {
    throw new FramemindError("FM_ERR_VIDEO_OUT_OF_RANGE", { time: Number.isFinite(t) ? round3(t) : String(t), duration: round3(info.duration) });
  }
}

interface Segment {
  /** Seek position (seconds, file timeline, i.e. start time added). */
  seek: number;
  /** Seconds to read from the seek position. */
  length: number;
  /** Absolute targets (file timeline) with their index in the request. */
  targets: Array<{ abs: number; index: number }>;
}

function plan(info: VideoInfo, times: number[], mode: FrameMode): Segment[] {
  const frameDur = 1 / info.fps;
  const w = selectWindow(info);
  const lastFrame = Math.max(0, info.duration - frameDur / 2);
  const order = times.map((t, index) => ({ t: Math.min(t, lastFrame), index })).sort((a, b) => a.t - b.t);
  if (mode === "tolerant") {
    return order.map(({ t, index }) => ({ seek: info.startTime + t, length: Math.max(frameDur * 2, 0.1), targets: [{ abs: info.startTime + t, index }] }));
  }
  const mergeGap = Math.max(info.keyframeInterval ?? 1, 0.5);
  const segs: Segment[] = [];
  for (const { t, index } of order) {
    const abs = info.startTime + t;
    const cur = segs[segs.length - 1];
    if (cur && abs - (cur.seek + cur.length) < mergeGap) {
      cur.length = abs + w - cur.seek;
      cur.targets.push({ abs, index });
    } else {
      const seek = Math.max(info.startTime, abs - w);
      segs.push({ seek, length: abs + w - seek, targets: [{ abs, index }] });
    }
  }
  return segs;
}

async function decode(info: VideoInfo, times: number[], size: Size, mode: FrameMode, opts: ExtractOptions): Promise<Frame[]> {
  const segs = plan(info, times, mode);
  const groups = split(segs, Math.max(1, availableParallelism()));
  const out: Frame[] = new Array<Frame>(times.length);
  await Promise.all(
    groups.map(async (g) => {
      const frames = await runGroup(info, g, size, mode, times, opts);
      for (const f of frames) out[f.index] = f.frame;
    }),
  );
  throwIfAborted(opts.signal);
  return out;
}

/** Splits segments into at most n groups of contiguous segments with balanced target counts. */
function split(segs: Segment[], n: number): Segment[][] {
  if (segs.length <= 1) return [segs];
  const k = Math.min(n, segs.length);
  const groups: Segment[][] = Array.from({ length: k }, () => []);
  segs.forEach((s, i) => groups[Math.floor((i * k) / segs.length)]!.push(s));
  return groups.filter((g) => g.length > 0);
}

/** pick (select|trim), showinfo, scale, setsar, format. */
const FILTERS_PER_CHAIN = 5;

/** Seconds decoded around an exact target: wide enough to hold the frame shown at t on variable frame rates. */
function selectWindow(info: VideoInfo): number {
  return Math.min(1, Math.max(2 / info.fps, 0.1));
}

const SHOWINFO = /\[Parsed_showinfo_(\d+) @ [^\]]+\]\s*n:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:\s*(-?[\d.]+(?:e[-+]?\d+)?)/;

async function runGroup(info: VideoInfo, segs: Segment[], size: Size, mode: FrameMode, times: number[], opts: ExtractOptions): Promise<Array<{ index: number; frame: Frame }>> {
  const args = ["-hide_banner", "-nostdin", "-v", "info", "-copyts"];
  const w = selectWindow(info);
  const chains: string[] = [];
  segs.forEach((s, i) => {
    if (mode === "tolerant") args.push("-noaccurate_seek");
    args.push("-ss", s.seek.toFixed(6), "-t", s.length.toFixed(6), "-i", info.path);
    const pick =
      mode === "tolerant"
        ? "trim=end_frame=1"
        : `select='${s.targets.map((t) => `between(t,${(t.abs - w - 1e-4).toFixed(6)},${(t.abs + w).toFixed(6)})`).join("+")}'`;
    chains.push(`[${i}:v:0]${pick},showinfo,scale=${size.width}:${size.height}:flags=area,setsar=1,format=rgb24[o${i}]`);
  });
  args.push("-filter_complex", chains.join(";"));
  args.push("-vsync", "passthrough");
  segs.forEach((_, i) => args.push("-map", `[o${i}]`, "-f", "rawvideo", `pipe:${3 + i}`));
  const frameBytes = size.width * size.height * 3;
  const expectedFrames = segs.reduce((n, s) => n + s.targets.length, 0);
  const r = await runProcess(binaries().ffmpeg.path, args, {
    timeoutMs: opts.timeoutMs ?? 60_000,
    signal: opts.signal,
    extraOutputs: segs.length,
    maxOutputBytes: frameBytes * (expectedFrames * 80 + 16),
  });
  const ptsByChain = parseShowinfo(r.stderr, segs.length);
  const result: Array<{ index: number; frame: Frame }> = [];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const buf = r.outputs[i] ?? Buffer.alloc(0);
    const n = Math.floor(buf.length / frameBytes);
    const pts = ptsByChain[i] ?? [];
    if (n === 0) throw decodeFailure(info, r.exitCode, r.stderr, seg.targets[0]!.abs - info.startTime);
    for (const target of seg.targets) {
      const j = chooseFrame(pts.slice(0, n), target.abs, mode);
      const ts = pts[j] ?? target.abs;
      result.push({
        index: target.index,
        frame: {
          timestamp: round3(Math.max(0, ts - info.startTime)),
          requested: times[target.index]!,
          width: size.width,
          height: size.height,
          tokens: tokensFor(size),
          rgb: Buffer.from(buf.subarray(j * frameBytes, (j + 1) * frameBytes)),
        },
      });
    }
  }
  return result;
}

/** Frame pts (seconds, file timeline) per filter chain, in output order. */
function parseShowinfo(stderr: string, chains: number): number[][] {
  const byInstance = new Map<number, number[]>();
  for (const line of stderr.split("\n")) {
    const m = SHOWINFO.exec(line);
    if (!m) continue;
    const inst = Number(m[1]);
    const list = byInstance.get(inst) ?? [];
    list.push(Number(m[4]));
    byInstance.set(inst, list);
  }
  // Instances are numbered in filtergraph order, so sorting maps them back onto chains.
  const insts = [...byInstance.keys()].sort((a, b) => a - b);
  const out: number[][] = Array.from({ length: chains }, () => []);
  if (insts.length === chains) insts.forEach((inst, i) => (out[i] = byInstance.get(inst)!));
  else {
    // Some chain printed nothing: recover by instance number (each chain has FILTERS_PER_CHAIN filters).
    for (const inst of insts) {
      const i = Math.floor(inst / FILTERS_PER_CHAIN);
      if (i < chains) out[i] = byInstance.get(inst)!;
    }
  }
  return out;
}

/** Exact: the last frame with pts <= target (else the first after it). Tolerant: the first frame. */
function chooseFrame(pts: number[], target: number, mode: FrameMode): number {
  if (mode === "tolerant" || pts.length === 0) return 0;
  let best = -1;
  for (let j = 0; j < pts.length; j++) if (pts[j]! <= target + 1e-4 && (best < 0 || pts[j]! >= pts[best]!)) best = j;
  if (best >= 0) return best;
  let after = 0;
  for (let j = 1; j < pts.length; j++) if (pts[j]! < pts[after]!) after = j;
  return after;
}

function decodeFailure(info: VideoInfo, exitCode: number, stderr: string, t: number): FramemindError {
  const lines = stderr.split("\n").filter((l) => /error|invalid|corrupt|partial|missing|not found|no frame/i.test(l) && !l.includes("showinfo"));
  if (/Decoder \(codec [^)]*\) not found|Unsupported codec|no decoder/i.test(stderr)) {
    return new FramemindError("FM_ERR_VIDEO_UNSUPPORTED_CODEC", { path: info.path, codec: info.codec }, { detail: stderr.slice(-2000) });
  }
  const reason = lines[0]?.trim() ?? (exitCode === 0 ? `no frame could be decoded near ${round3(t)} s` : `ffmpeg exit ${exitCode}`);
  return new FramemindError("FM_ERR_VIDEO_CORRUPT", { path: info.path, reason }, { detail: stderr.slice(-2000) });
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Disk format: JSON header line + concatenated RGB frames. */
function serialize(r: FramesResult): Buffer {
  const head = { ...r, video: undefined, frames: r.frames.map((f) => ({ ...f, rgb: f.rgb.length })) };
  const h = Buffer.from(JSON.stringify(head) + "\n");
  return Buffer.concat([h, ...r.frames.map((f) => f.rgb)]);
}

async function fromDisk(key: string): Promise<FramesResult | undefined> {
  const buf = disk ? await disk.get(key) : undefined;
  if (!buf) return undefined;
  const nl = buf.indexOf(10);
  const head = JSON.parse(buf.subarray(0, nl).toString("utf8")) as Omit<FramesResult, "frames"> & { frames: Array<Omit<Frame, "rgb"> & { rgb: number }> };
  let off = nl + 1;
  const frames = head.frames.map((f) => {
    const rgb = buf.subarray(off, off + f.rgb);
    off += f.rgb;
    return { ...f, rgb };
  });
  const r = { ...head, frames } as FramesResult;
  memCache.set(key, r);
  return r;
}
