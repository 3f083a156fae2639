/**
 * Frame and clip extraction. A request becomes a few ffmpeg processes (at most one per core),
 * each with several seeking inputs; every input decodes a short window around its targets and
 * writes raw RGB to its own pipe (fd 3, 4, ...). `showinfo` reports each frame's real pts.
 *  - exact: the frame shown at t (last frame with pts <= t); accurate seek + select window.
 *  - tolerant: the keyframe at or before t (one decoded frame), when keyframes are dense enough.
 * Nearby targets share one input (continuous decode beats a new seek within a GOP).
 */
import { FramemindError, throwIfAborted } from "../errors.js";
import { binaries, ffmpegVersion, passthroughArgs } from "./binaries.js";
import { runProcess } from "./process.js";
import { fileIdentity, resolveVideoPath, type PathPolicy, type ResolvedFile } from "./paths.js";
import { lastFrameTimeAtOrBefore, probeFile, type VideoInfo } from "./probe.js";
import { clipTokens, cropRgb, regionCut, targetSize, tokensFor, type Region, type RegionCut, type Resolution, type Size } from "./resize.js";
import { cacheKey, DiskStore, LruCache } from "./cache.js";
import { nativeAvailable, nativeDecode, noteFallback } from "./native.js";
import { lookupFrame, storeAccepts, storedVideo } from "./store.js";
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
  /** Crop every frame to this part of the picture (fractions, see Region). */
  region?: Region;
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
  /** The crop, when the request had one. */
  region?: Region;
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
  region?: Region;
}

/** A short clip: `count` frames evenly over [start, end], exact, tokens counted in pairs. */
export async function getClip(req: ClipRequest, opts: ExtractOptions = {}): Promise<FramesResult> {
  const count = req.count ?? 16;
  if (!Number.isInteger(count) || count < 8 || count > 20) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `clip count must be an integer from 8 to 20, got ${count}` });
  if (!(req.end > req.start)) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `clip end (${req.end}) must be after start (${req.start})` });
  return extract({ video: req.video, span: { start: req.start, end: req.end, count }, resolution: req.resolution, mode: "exact", ...(req.region ? { region: req.region } : {}) }, opts, true);
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
  const cut = req.region ? regionCut({ width: info.width, height: info.height }, req.resolution, req.region) : undefined;
  // A region is cut from the whole frame decoded at the size that gives it its output size.
  const size = cut ? cut.size : targetSize({ width: info.width, height: info.height }, req.resolution);
  const decodeSize = cut ? cut.decode : size;
  if (cut) checkDecodeBytes(decodeSize, times.length);
  const wantTolerant = (req.mode ?? "exact") === "tolerant";
  // Tolerant seeks land on the keyframe before t: only worth it when keyframes are close.
  const mode: FrameMode = wantTolerant && info.keyframeInterval !== null && info.keyframeInterval <= 2 ? "tolerant" : "exact";
  const warnings = [...info.warnings];
  if (wantTolerant && mode === "exact") warnings.push("keyframes are sparse or unknown: used exact seeking");

  const key = cacheKey([fileIdentity(file), mode, times, size, ...(cut ? [cut] : [])]);
  if (!opts.noCache) {
    const hit = memCache.get(key) ?? (await fromDisk(key));
    if (hit) return { ...hit, video: info, cached: true, decodeMs: 0 };
  }
  const t0 = performance.now();
  const whole = (await fromStore(file, info, times, decodeSize, mode, opts)) ?? (await decode(info, times, decodeSize, mode, opts, warnings));
  const frames = cut ? whole.map((f) => cropFrame(f, cut)) : whole;
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
    ...(req.region ? { region: req.region } : {}),
  };
  if (!opts.noCache) {
    memCache.set(key, result);
    if (disk) await disk.set(key, serialize(result)).catch(() => undefined);
  }
  return result;
}

/** Whole frames a region request may decode at once (RGB bytes): tiny regions of huge videos are refused, not swapped. */
const MAX_REGION_DECODE_BYTES = 1 << 30;

function checkDecodeBytes(decode: Size, frames: number): void {
  const bytes = decode.width * decode.height * 3 * frames;
  if (bytes > MAX_REGION_DECODE_BYTES) throw new FramemindError("FM_ERR_VIDEO_LIMIT", { what: `bytes decoded for a region (${frames} whole frames at ${decode.width}x${decode.height})`, value: bytes, limit: MAX_REGION_DECODE_BYTES });
}

function cropFrame(f: Frame, cut: RegionCut): Frame {
  return { ...f, width: cut.size.width, height: cut.size.height, tokens: tokensFor(cut.size), rgb: cropRgb(f.rgb, cut) };
}

/**
 * Frames from the per-video frame store (store.ts) when it is on and the video fits: the whole
 * video decoded once at this size, then lookups. undefined = not applicable or failed (decode normally).
 */
async function fromStore(file: ResolvedFile, info: VideoInfo, times: number[], size: Size, mode: FrameMode, opts: ExtractOptions): Promise<Frame[] | undefined> {
  if (!IN_PROCESS_CONTAINERS.test(info.container) || !storeAccepts(info.duration, info.frameCount, size)) return undefined;
  throwIfAborted(opts.signal);
  try {
    const v = await storedVideo(cacheKey([fileIdentity(file), size, info.rotation]), info.path, size, info.rotation, info.frameCount, opts.signal);
    const frameDur = 1 / info.fps;
    return targetTimes(info, times).map((t) => {
      const k = lookupFrame(v, t.abs, mode, frameDur);
      return decodedFrame(info, size, v.pts[k]!, times[t.index]!, v.frames[k]!);
    });
  } catch (e) {
    if (e instanceof FramemindError && e.code === "FM_ERR_CANCELLED") throw e;
    noteFallback(e);
    return undefined;
  }
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

interface Target {
  /** Absolute time (file timeline, start time added). */
  abs: number;
  /** Index in the request. */
  index: number;
}

interface Segment {
  /** Seek position (file timeline); undefined = decode from the start of the file. */
  seek?: number;
  /** Seconds to read (from the seek position, or from the start); undefined = to the end. */
  length?: number;
  targets: Target[];
  /** How frames are picked: a window around each target, or the first decoded frame. */
  pick: "window" | "first";
}

/** Seeking closer than this to the start of the file saves nothing: decode from the start instead. */
const NO_SEEK_BEFORE_S = 1;

/**
 * How a request is spread over ffmpeg processes. Process start dominates on small machines (the
 * Debian build links ~200 shared libraries), so few processes; threads per input decoder 1 so
 * short windows are not delayed by frame threading. Chosen by bench/video.ts measurements.
 */
export interface DecodeTuning {
  /** Upper bound on ffmpeg processes per request (default: cores). */
  processes: number;
  /** Decoder threads per input when a process has several (0 = ffmpeg's choice; a lone input always uses ffmpeg's choice). */
  threads: number;
  /** In-process decoder threads when a request is one group (0 = libavcodec's choice). */
  loneThreads: number;
}

// loneThreads 1: frame threads measured no faster for the in-process decoder on these shared 2-core machines.
const tuning: DecodeTuning = { processes: Math.max(1, availableParallelism()), threads: 1, loneThreads: 1 };

/** Overrides the process split / decoder threads (benchmarks measure the alternatives). */
export function setDecodeTuning(t: Partial<DecodeTuning>): DecodeTuning {
  if (t.processes !== undefined) tuning.processes = Math.max(1, Math.floor(t.processes));
  if (t.threads !== undefined) tuning.threads = Math.max(0, Math.floor(t.threads));
  if (t.loneThreads !== undefined) tuning.loneThreads = Math.max(0, Math.floor(t.loneThreads));
  return { ...tuning };
}

/**
 * Seconds kept before an exact target: a frame and a half, so the frame shown at t is in the
 * window at a constant rate; longer variable-rate gaps are found by resolveLateFrames.
 */
function beforeWindow(info: VideoInfo): number {
  return Math.min(1, 1.5 / info.fps);
}

/** Seconds kept after an exact target: one frame, for a target before the first frame. */
function afterWindow(info: VideoInfo): number {
  return Math.min(1, 1.01 / info.fps);
}

/** An exact segment covering `targets` (sorted): seek a window before the first, read past the last. */
function exactSegment(info: VideoInfo, targets: Target[]): Segment {
  const seek = targets[0]!.abs - beforeWindow(info);
  // Seeking closer than this to the start saves nothing and fails on some containers.
  const fromStart = seek - info.startTime < NO_SEEK_BEFORE_S;
  const base = fromStart ? info.startTime : seek;
  return { seek: fromStart ? undefined : seek, length: targets[targets.length - 1]!.abs + afterWindow(info) - base, targets, pick: "window" };
}

/** Targets closer than this share one continuous decode (a new seek would land in the same GOP). */
function mergeGap(info: VideoInfo): number {
  return Math.max(info.keyframeInterval ?? 1, 0.5);
}

/** Requested times on the file timeline, a target past the last frame clamped onto it, in request order. */
function targetTimes(info: VideoInfo, times: number[]): Target[] {
  const lastFrame = Math.max(0, info.duration - 1 / info.fps / 2);
  return times.map((t, index) => ({ abs: info.startTime + Math.min(t, lastFrame), index }));
}

function plan(info: VideoInfo, times: number[], mode: FrameMode): Segment[] {
  const frameDur = 1 / info.fps;
  const order = targetTimes(info, times).sort((a, b) => a.abs - b.abs);
  if (mode === "tolerant") {
    // One keyframe per target: seek lands on the keyframe at or before it; read at most one GOP.
    // Seek half a frame early: some demuxers round the seek time to the nearest frame, not down.
    return order.map((t) => ({ seek: Math.max(info.startTime, t.abs - frameDur / 2), length: Math.max(info.keyframeInterval ?? 1, frameDur) + frameDur, targets: [t], pick: "first" }));
  }
  // Nearby targets share one input: continuous decoding beats a new seek within a GOP.
  const gap = mergeGap(info);
  const runs: Target[][] = [];
  for (const t of order) {
    const cur = runs[runs.length - 1];
    if (cur && t.abs - cur[cur.length - 1]!.abs < gap) cur.push(t);
    else runs.push([t]);
  }
  return runs.map((r) => exactSegment(info, r));
}

/**
 * Containers whose seeking (by index) the in-process path reproduces exactly; others (MPEG-TS,
 * raw streams, ...) seek by byte search, where ffmpeg's -ss differs, so they stay on the CLI path.
 */
const IN_PROCESS_CONTAINERS = /^(mov,mp4|matroska|avi$)/;

/** The CLI path reads pts from showinfo's pts_time (6 significant digits): round alike so both paths report the same times. */
function showinfoTime(x: number): number {
  return Number(x.toPrecision(6));
}

/** An in-process frame (addon or store) as the CLI path reports it: video-relative, showinfo-rounded time. */
function decodedFrame(info: VideoInfo, size: Size, pts: number, requested: number, rgb: Buffer): Frame {
  return { timestamp: round3(Math.max(0, showinfoTime(pts) - info.startTime)), requested, width: size.width, height: size.height, tokens: tokensFor(size), rgb };
}

async function decode(info: VideoInfo, times: number[], size: Size, mode: FrameMode, opts: ExtractOptions, warnings: string[]): Promise<Frame[]> {
  throwIfAborted(opts.signal);
  if (nativeAvailable() && IN_PROCESS_CONTAINERS.test(info.container)) {
    try {
      return await decodeInProcess(info, times, size, mode, opts);
    } catch (e) {
      // A stop is final; anything else the CLI may handle (odd containers, frames without timestamps).
      if (e instanceof FramemindError && (e.code === "FM_ERR_CANCELLED" || e.code === "FM_ERR_VIDEO_TIMEOUT")) throw e;
      throwIfAborted(opts.signal);
      noteFallback(e);
    }
  }
  return decodeWithCli(info, times, size, mode, opts, warnings);
}

/**
 * The fast path: the same plan and process split as the CLI, each group one addon call on a pool
 * thread (the file opened once per group, seeks and decoding in-process). The addon decodes on
 * from a seek to the frame shown at each target, so variable frame rates need no second pass.
 */
async function decodeInProcess(info: VideoInfo, times: number[], size: Size, mode: FrameMode, opts: ExtractOptions): Promise<Frame[]> {
  const groups = split(plan(info, times, mode), tuning.processes);
  const out: Frame[] = new Array<Frame>(times.length);
  await allOrNothing(
    groups.map((g) => async (signal) => {
      const targets = g.flatMap((s) => s.targets);
      const r = await nativeDecode({
        path: info.path,
        times: targets.map((t) => t.abs),
        mode,
        width: size.width,
        height: size.height,
        rotation: info.rotation,
        mergeGap: mergeGap(info),
        frameDuration: 1 / info.fps,
        // Tunable apart: a lone group (a clip's span) may gain from frame threads on an idle machine.
        threads: groups.length === 1 ? tuning.loneThreads : tuning.threads,
        timeoutMs: opts.timeoutMs ?? 60_000,
        signal,
      });
      targets.forEach((t, k) => {
        out[t.index] = decodedFrame(info, size, r.pts[k]!, times[t.index]!, r.frames[k]!);
      });
    }),
    opts.signal,
  );
  return out;
}

async function decodeWithCli(info: VideoInfo, times: number[], size: Size, mode: FrameMode, opts: ExtractOptions, warnings: string[]): Promise<Frame[]> {
  const segs = plan(info, times, mode);
  const groups = split(segs, tuning.processes);
  const out: Frame[] = new Array<Frame>(times.length);
  // Segments without a frame, with how their process ended (a clean exit means "nothing in range").
  let missing: Array<{ seg: Segment; clean: boolean }> = [];
  let lastFailure: GroupResult | undefined;
  const run = async (g: Segment[], firstToo = false, signal = opts.signal) => {
    const r = await runGroup(info, g, size, mode === "tolerant" && !firstToo && g.every((s) => s.pick === "first") ? mode : "exact", times, { ...opts, signal }, firstToo);
    r.frames.forEach((f) => (out[f.index] = f.frame));
    for (const i of r.empty) missing.push({ seg: g[i]!, clean: r.exitCode === 0 });
    if (r.empty.length) lastFailure = r;
  };
  await allOrNothing(groups.map((g) => (signal) => run(g, false, signal)), opts.signal);
  throwIfAborted(opts.signal);
  // Seeking failed (odd containers, no timestamps, a first frame later than the window): decode
  // from the start up to the targets; when that exits cleanly without a frame, take the first frame.
  const seeked = missing.filter((m) => m.seg.seek !== undefined);
  const stage2 = seeked.map((m): Segment => ({ length: m.seg.targets[m.seg.targets.length - 1]!.abs - info.startTime + beforeWindow(info) + 2, targets: m.seg.targets, pick: "window" }));
  const stage3 = missing.filter((m) => m.seg.seek === undefined && m.clean).map((m): Segment => ({ targets: m.seg.targets, pick: "first" }));
  const failed = missing.filter((m) => m.seg.seek === undefined && !m.clean);
  missing = [];
  if (stage2.length) {
    warnings.push(`seeking failed for ${count(stage2)} frame(s): decoded from the start of the file`);
    await run(stage2, true);
    stage3.push(...missing.filter((m) => m.clean).map((m): Segment => ({ targets: m.seg.targets, pick: "first" })));
    failed.push(...missing.filter((m) => !m.clean));
    missing = [];
  }
  if (stage3.length) {
    warnings.push(`no frame found near ${stage3.flatMap((s) => s.targets.map((t) => round3(t.abs - info.startTime))).join(", ")} s: returned the first decodable frame`);
    await run(stage3);
    failed.push(...missing);
  }
  throwIfAborted(opts.signal);
  if (failed.length) throw decodeFailure(info, lastFailure?.exitCode ?? -1, lastFailure?.stderr ?? "", failed[0]!.seg.targets[0]!.abs - info.startTime);
  if (mode === "exact") await resolveLateFrames(info, out, size, times, opts);
  return out;
}

/** Seconds looked back for the frame shown at t when it started before the decode window (VFR gaps). */
const VFR_LOOKBACK_S = 30;

/**
 * A frame returned for t that starts after t means the frame shown at t began before the decode
 * window (a long frame of a variable-frame-rate video): find its time from packet headers and
 * decode it there. Frames before the first frame of the video stay as they are.
 */
async function resolveLateFrames(info: VideoInfo, out: Frame[], size: Size, times: number[], opts: ExtractOptions): Promise<void> {
  const late = out.map((f, index) => ({ f, index })).filter(({ f }) => f.timestamp > Math.min(f.requested, info.duration) + 1e-3);
  if (!late.length) return;
  const found = await allOrNothing(
    late.map(({ f }) => (signal) => lastFrameTimeAtOrBefore(info, info.startTime + Math.min(f.requested, info.duration), VFR_LOOKBACK_S, { timeoutMs: opts.timeoutMs, signal })),
    opts.signal,
  );
  const redo = late.map(({ index }, k) => ({ abs: found[k], index })).filter((t): t is Target => t.abs !== undefined && t.abs - info.startTime < out[t.index]!.timestamp - 1e-3);
  if (!redo.length) return;
  const r = await runGroup(info, redo.map((t) => exactSegment(info, [t])), size, "exact", times, opts);
  for (const { index, frame } of r.frames) out[index] = frame;
}

/**
 * Runs jobs in parallel; the first failure aborts the others, and nothing returns (or throws)
 * before every job has settled, so no ffmpeg outlives the request.
 */
async function allOrNothing<T>(jobs: Array<(signal: AbortSignal) => Promise<T>>, outer: AbortSignal | undefined): Promise<T[]> {
  const ac = new AbortController();
  const forward = () => ac.abort();
  outer?.addEventListener("abort", forward, { once: true });
  let first: unknown;
  try {
    const settled = await Promise.allSettled(
      jobs.map((job) =>
        job(ac.signal).catch((e: unknown) => {
          first ??= e;
          ac.abort();
          throw e;
        }),
      ),
    );
    if (first !== undefined) throw first;
    return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
  } finally {
    outer?.removeEventListener("abort", forward);
  }
}

function count(segs: Segment[]): number {
  return segs.reduce((n, s) => n + s.targets.length, 0);
}

/** Splits segments into at most n groups of contiguous segments with balanced decode lengths. */
function split(segs: Segment[], n: number): Segment[][] {
  if (segs.length <= 1) return [segs];
  const k = Math.min(n, segs.length);
  const cost = segs.map((s) => 0.3 + Math.min(s.length ?? 5, 5));
  const total = cost.reduce((a, b) => a + b, 0);
  const groups: Segment[][] = [[]];
  let acc = 0;
  segs.forEach((s, i) => {
    const g = groups[groups.length - 1]!;
    if (g.length > 0 && groups.length < k && acc + cost[i]! / 2 > (total * groups.length) / k) groups.push([s]);
    else g.push(s);
    acc += cost[i]!;
  });
  return groups;
}

const SHOWINFO = /\[Parsed_showinfo_(\d+) @ [^\]]+\]\s*n:\s*(\d+)\s+pts:\s*(-?\d+)\s+pts_time:\s*(-?[\d.]+(?:e[-+]?\d+)?)/;

interface GroupResult {
  frames: Array<{ index: number; frame: Frame }>;
  /** Positions (in the group) of segments that produced no frame. */
  empty: number[];
  exitCode: number;
  stderr: string;
}

function inputArgs(info: VideoInfo, s: Segment, mode: FrameMode, alone: boolean): string[] {
  const a: string[] = [];
  // A lone input (a clip's long span) decodes faster with frame threads, as plain ffmpeg does;
  // several inputs in one process each take one thread and run side by side.
  if (tuning.threads > 0 && !alone) a.push("-threads", String(tuning.threads));
  // Tolerant: decode keyframes only and take the first one at or before the target.
  if (mode === "tolerant") a.push("-skip_frame", "nokey", "-noaccurate_seek");
  if (s.seek !== undefined) a.push("-ss", s.seek.toFixed(6));
  if (s.length !== undefined) a.push("-t", s.length.toFixed(6));
  a.push("-i", info.path);
  return a;
}

function pickFilter(info: VideoInfo, s: Segment, firstToo: boolean): string {
  if (s.pick === "first") return "trim=end_frame=1";
  const before = beforeWindow(info);
  const after = afterWindow(info);
  const windows = s.targets.map((t) => `between(t\\,${(t.abs - before - 1e-4).toFixed(6)}\\,${(t.abs + after).toFixed(6)})`);
  // Without a seek the first decoded frame may come after every window (late first frame).
  if (s.seek === undefined || firstToo) windows.unshift("eq(n\\,0)");
  return `select=${windows.join("+")}`;
}

async function runGroup(info: VideoInfo, segs: Segment[], size: Size, mode: FrameMode, times: number[], opts: ExtractOptions, firstToo = false): Promise<GroupResult> {
  const args = ["-hide_banner", "-nostdin", "-nostats", "-v", "info", "-copyts"];
  const chains: string[] = [];
  segs.forEach((s, i) => {
    args.push(...inputArgs(info, s, mode, segs.length === 1));
    // showinfo last: its checksums are computed on the small output frame, not the source.
    chains.push(`[${i}:v:0]${pickFilter(info, s, firstToo)},scale=${size.width}:${size.height}:flags=area,setsar=1,format=rgb24,showinfo[o${i}]`);
  });
  args.push("-filter_complex", chains.join(";"));
  const pass = passthroughArgs(await ffmpegVersion());
  segs.forEach((_, i) => args.push("-map", `[o${i}]`, ...pass, "-f", "rawvideo", `pipe:${3 + i}`));
  const frameBytes = size.width * size.height * 3;
  const expectedFrames = segs.reduce((n, s) => n + s.targets.length, 0);
  const r = await runProcess(binaries().ffmpeg.path, args, {
    timeoutMs: opts.timeoutMs ?? 60_000,
    signal: opts.signal,
    extraOutputs: segs.length,
    maxOutputBytes: frameBytes * (expectedFrames * 80 + 16),
  });
  const ptsByChain = parseShowinfo(r.stderr, segs.length);
  const result: GroupResult = { frames: [], empty: [], exitCode: r.exitCode, stderr: r.stderr };
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const buf = r.outputs[i] ?? Buffer.alloc(0);
    const n = Math.min(Math.floor(buf.length / frameBytes), ptsByChain[i]?.length ?? 0);
    if (n === 0) {
      result.empty.push(i);
      continue;
    }
    const pts = ptsByChain[i]!.slice(0, n);
    for (const target of seg.targets) {
      const j = seg.pick === "first" ? 0 : chooseFrame(pts, target.abs);
      result.frames.push({
        index: target.index,
        frame: {
          timestamp: round3(Math.max(0, pts[j]! - info.startTime)),
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
  // Each chain has FILTERS_PER_CHAIN parsed filters with showinfo last, so its instance number names its chain.
  const out: number[][] = Array.from({ length: chains }, () => []);
  for (const [inst, list] of byInstance) {
    const i = Math.floor(inst / FILTERS_PER_CHAIN);
    if (i < chains) out[i] = list;
  }
  return out;
}

/** pick (select|trim), scale, setsar, format, showinfo. */
const FILTERS_PER_CHAIN = 5;

/** The frame shown at the target: the last frame with pts <= target, else the earliest after it. */
function chooseFrame(pts: number[], target: number): number {
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
