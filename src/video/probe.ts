/**
 * ffprobe, parsed: duration (cross-checked against packets, so bogus container durations of
 * fragmented or truncated files are caught), fps, frame count, display size (rotation and SAR
 * applied), codec, pixel format, keyframe interval, audio presence.
 */
import { FramemindError } from "../errors.js";
import { binaries } from "./binaries.js";
import { runProcess } from "./process.js";
import { resolveVideoPath, fileIdentity, type PathPolicy, type ResolvedFile } from "./paths.js";
import { LruCache } from "./cache.js";

export interface VideoInfo {
  path: string;
  bytes: number;
  container: string;
  /** Seconds of video, from 0 (the stream's start time is subtracted everywhere). */
  duration: number;
  durationSource: "container" | "stream" | "packets";
  /** Container start time in seconds; ffmpeg seeks are relative to it. */
  startTime: number;
  fps: number;
  realFps: number;
  frameCount: number;
  codec: string;
  pixFmt: string;
  codedWidth: number;
  codedHeight: number;
  /** Display size: rotation and sample aspect ratio applied. */
  width: number;
  height: number;
  rotation: number;
  sampleAspectRatio: string;
  /** Seconds between keyframes, estimated from the first packets; null when unknown. */
  keyframeInterval: number | null;
  hasAudio: boolean;
  warnings: string[];
}

export interface ProbeOptions extends PathPolicy {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface FfStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  codec_tag_string?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  start_time?: string;
  nb_frames?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number | string }>;
  disposition?: { attached_pic?: number };
}
interface FfPacket {
  stream_index?: number;
  pts_time?: string;
  dts_time?: string;
  duration_time?: string;
  flags?: string;
}
interface FfOut {
  format?: { format_name?: string; duration?: string; start_time?: string };
  streams?: FfStream[];
  packets?: FfPacket[];
}

const HEAD_WINDOW_S = 12;
const probeCache = new LruCache<VideoInfo>({ maxBytes: 4 * 1024 * 1024, sizeOf: () => 2048 });

function num(s: string | undefined): number | undefined {
  if (s === undefined || s === "N/A") return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

function rate(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const [a, b] = s.split("/").map(Number);
  if (a === undefined || !Number.isFinite(a)) return undefined;
  const v = b ? a / b : a;
  return Number.isFinite(v) && v > 0 && v < 1000 ? v : undefined;
}

async function ffprobeJson(file: string, args: string[], opts: ProbeOptions): Promise<{ out: FfOut; exitCode: number; stderr: string }> {
  const r = await runProcess(binaries().ffprobe.path, ["-v", "error", "-of", "json", ...args, "-i", file], { timeoutMs: opts.timeoutMs ?? 20_000, signal: opts.signal, maxOutputBytes: 64 * 1024 * 1024 });
  let out: FfOut = {};
  try {
    out = JSON.parse(r.stdout.toString("utf8") || "{}") as FfOut;
  } catch {
    /* exit code and stderr explain */
  }
  return { out, exitCode: r.exitCode, stderr: r.stderr };
}

function firstLine(stderr: string): string {
  return stderr.split("\n").map((l) => l.trim()).find((l) => l.length > 0) ?? "no details";
}

const NOT_A_VIDEO = /Invalid data found|EBML header parsing failed|Not yet implemented|could not find codec parameters|Unknown input format/i;

/** Probes a video (path checked against the policy first). Results are cached by file identity. */
export async function probe(video: string, opts: ProbeOptions = {}): Promise<VideoInfo> {
  const file = await resolveVideoPath(video, opts);
  return probeFile(file, opts, video);
}

export async function probeFile(file: ResolvedFile, opts: ProbeOptions = {}, shown = file.path): Promise<VideoInfo> {
  const key = fileIdentity(file);
  const hit = probeCache.get(key);
  if (hit) return hit;
  if (file.size === 0) throw new FramemindError("FM_ERR_VIDEO_NOT_A_VIDEO", { path: shown, reason: "empty file" });
  const head = await ffprobeJson(file.path, ["-show_format", "-show_streams", "-show_entries", "packet=stream_index,pts_time,dts_time,duration_time,flags", "-read_intervals", `%+${HEAD_WINDOW_S}`], opts);
  if (head.exitCode !== 0 || !head.out.streams) {
    const reason = firstLine(head.stderr);
    throw new FramemindError(NOT_A_VIDEO.test(reason) ? "FM_ERR_VIDEO_NOT_A_VIDEO" : "FM_ERR_VIDEO_CORRUPT", { path: shown, reason }, { detail: head.stderr.slice(-2000) });
  }
  const streams = head.out.streams;
  const v = streams.find((s) => s.codec_type === "video" && !s.disposition?.attached_pic);
  const hasAudio = streams.some((s) => s.codec_type === "audio");
  if (!v) {
    if (!hasAudio) throw new FramemindError("FM_ERR_VIDEO_NOT_A_VIDEO", { path: shown, reason: "no audio or video stream" });
    throw new FramemindError("FM_ERR_VIDEO_NO_VIDEO_STREAM", { path: shown });
  }
  if (!v.codec_name || v.codec_name === "unknown" || v.codec_name === "none") {
    throw new FramemindError("FM_ERR_VIDEO_UNSUPPORTED_CODEC", { path: shown, codec: v.codec_tag_string && v.codec_tag_string !== "[0][0][0][0]" ? v.codec_tag_string : "unknown" });
  }
  const codedWidth = v.width ?? 0;
  const codedHeight = v.height ?? 0;
  if (!(codedWidth > 0 && codedHeight > 0)) throw new FramemindError("FM_ERR_VIDEO_CORRUPT", { path: shown, reason: "the video stream has no frame size" });

  const warnings: string[] = [];
  const rotation = readRotation(v, warnings);
  const sar = v.sample_aspect_ratio && v.sample_aspect_ratio !== "0:1" && v.sample_aspect_ratio !== "N/A" ? v.sample_aspect_ratio : "1:1";
  const [sn, sd] = sar.split(":").map(Number);
  const sarVal = sn && sd ? sn / sd : 1;
  let width = Math.max(1, Math.round(codedWidth * (sarVal >= 1 ? sarVal : 1)));
  let height = Math.max(1, Math.round(codedHeight / (sarVal < 1 ? sarVal : 1)));
  if (Math.abs(rotation) % 180 === 90) [width, height] = [height, width];

  const fps = rate(v.avg_frame_rate) ?? rate(v.r_frame_rate) ?? 25;
  const realFps = rate(v.r_frame_rate) ?? fps;
  const startTime = num(head.out.format?.start_time) ?? num(v.start_time) ?? 0;

  const vPackets = (head.out.packets ?? []).filter((p) => p.stream_index === v.index);
  const times = vPackets.map((p) => num(p.pts_time) ?? num(p.dts_time)).filter((t): t is number => t !== undefined);
  const keyTimes = vPackets.filter((p) => p.flags?.startsWith("K")).map((p) => num(p.pts_time) ?? num(p.dts_time)).filter((t): t is number => t !== undefined).sort((a, b) => a - b);
  const keyframeInterval = keyTimes.length >= 2 ? median(keyTimes.slice(1).map((t, i) => t - keyTimes[i]!)) : null;

  const claimed = num(head.out.format?.duration) ?? num(v.duration);
  let duration = claimed;
  let durationSource: VideoInfo["durationSource"] = num(head.out.format?.duration) !== undefined ? "container" : "stream";
  const frameDur = 1 / fps;
  const headEnd = times.length ? Math.max(...times) + frameDur - startTime : undefined;
  // The head window ended early: the packets, not the container, say how long the video is.
  const headExhausted = headEnd !== undefined && headEnd < HEAD_WINDOW_S - 1;
  if (headExhausted && (claimed === undefined || Math.abs(claimed - headEnd) > Math.max(1, 0.5 * headEnd))) {
    if (claimed !== undefined) warnings.push(`container claims ${claimed.toFixed(3)} s but the packets end at ${headEnd.toFixed(3)} s; using the packets`);
    duration = headEnd;
    durationSource = "packets";
  } else if (claimed === undefined || !headExhausted) {
    const tail = await tailEnd(file.path, v.index, claimed, startTime, opts);
    if (tail !== undefined && (claimed === undefined || Math.abs(claimed - (tail + frameDur)) > Math.max(2, 0.1 * claimed))) {
      if (claimed !== undefined) warnings.push(`container claims ${claimed.toFixed(3)} s but the last packets end at ${(tail + frameDur).toFixed(3)} s; using the packets`);
      duration = tail + frameDur;
      durationSource = "packets";
    }
  }
  if (duration === undefined || !(duration > 0)) {
    if (headEnd !== undefined && headEnd > 0) {
      duration = headEnd;
      durationSource = "packets";
    } else if (times.length === 0 && vPackets.length > 0) {
      // Raw elementary streams (annex-B h264, ...) carry no timestamps: count packets instead.
      const sum = vPackets.reduce((acc, p) => acc + (num(p.duration_time) ?? frameDur), 0);
      duration = sum;
      durationSource = "packets";
      warnings.push(`the stream has no timestamps: duration estimated from ${vPackets.length} packets`);
    } else {
      throw new FramemindError("FM_ERR_VIDEO_CORRUPT", { path: shown, reason: "no video packets found" });
    }
  }
  const nb = num(v.nb_frames);
  const frameCount = nb !== undefined && nb > 0 && durationSource !== "packets" ? nb : Math.max(1, Math.round(duration * fps));

  const info: VideoInfo = {
    path: file.path,
    bytes: file.size,
    container: head.out.format?.format_name ?? "unknown",
    duration: round6(duration),
    durationSource,
    startTime,
    fps: round6(fps),
    realFps: round6(realFps),
    frameCount,
    codec: v.codec_name,
    pixFmt: v.pix_fmt ?? "unknown",
    codedWidth,
    codedHeight,
    width,
    height,
    rotation,
    sampleAspectRatio: sar,
    keyframeInterval: keyframeInterval === null ? null : round6(keyframeInterval),
    hasAudio,
    warnings,
  };
  probeCache.set(key, info);
  return info;
}

/** Last video packet time near the end (seeking there), or a full scan when the duration is unknown. */
async function tailEnd(file: string, index: number, claimed: number | undefined, startTime: number, opts: ProbeOptions): Promise<number | undefined> {
  const interval = claimed !== undefined ? `${Math.max(0, startTime + claimed - 5).toFixed(3)}%` : "%";
  const r = await ffprobeJson(file, ["-select_streams", String(index), "-show_entries", "packet=pts_time,dts_time", "-read_intervals", interval], opts).catch(() => undefined);
  const ts = (r?.out.packets ?? []).map((p) => num(p.pts_time) ?? num(p.dts_time)).filter((t): t is number => t !== undefined);
  if (!ts.length) return undefined;
  const end = Math.max(...ts) - startTime;
  // A seek to a bogus end falls back to the start: only trust a tail that moved forward.
  return end > 0 ? end : undefined;
}

function readRotation(v: FfStream, warnings: string[]): number {
  // ffmpeg >= 5 reports the display matrix (counter-clockwise degrees); 4.x a clockwise `rotate` tag.
  const side = v.side_data_list?.find((s) => s.rotation !== undefined)?.rotation;
  const raw = side ?? v.tags?.rotate;
  if (raw === undefined) return 0;
  const r = Number(raw);
  if (!Number.isFinite(r) || Math.abs(r) > 360 || Math.round(r) % 90 !== 0) {
    warnings.push(`ignored bogus rotation ${String(raw)}`);
    return 0;
  }
  const clockwise = side !== undefined ? -Math.round(r) : Math.round(r);
  return ((clockwise % 360) + 360) % 360;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Packets come in decode order: read past t so reordered (B-frame) packets before t are seen. */
const REORDER_SLACK_S = 5;

/**
 * Presentation time (file timeline) of the last video packet at or before `abs`, looking back at
 * most `lookBack` seconds; reads packet headers only (no decoding). For exact frames on variable
 * frame rates, where the frame shown at t can start long before t.
 */
export async function lastFrameTimeAtOrBefore(info: VideoInfo, abs: number, lookBack: number, opts: ProbeOptions = {}): Promise<number | undefined> {
  const from = Math.max(0, abs - lookBack);
  const r = await ffprobeJson(info.path, ["-select_streams", "v:0", "-show_entries", "packet=pts_time", "-read_intervals", `${from.toFixed(6)}%${(abs + REORDER_SLACK_S).toFixed(6)}`], opts);
  let best: number | undefined;
  for (const p of r.out.packets ?? []) {
    const t = num(p.pts_time);
    if (t !== undefined && t <= abs + 1e-4 && (best === undefined || t > best)) best = t;
  }
  return best;
}
