/**
 * Encodes raw RGB frames rendered in TypeScript into a video file (synthetic datasets, test
 * fixtures, benchmarks). Frames are streamed to ffmpeg's stdin, never held all at once.
 */
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { FramemindError } from "../errors.js";
import { binaries, ffmpegVersion, passthroughArgs } from "./binaries.js";
import { runProcess } from "./process.js";
import { setMp4Rotation } from "./mp4matrix.js";

export type VideoCodec = "h264" | "vp9" | "mjpeg" | "mpeg4";

export interface EncodeRequest {
  out: string;
  width: number;
  height: number;
  fps: number;
  codec?: VideoCodec;
  /** Keyframe interval in frames (default: one per second). */
  gop?: number;
  /** Quality: CRF for h264/vp9 (default 23 / 32), q:v for mjpeg/mpeg4. */
  quality?: number;
  /** Rotation metadata in clockwise degrees (90, 180, 270); pixels are stored unrotated. */
  rotation?: 0 | 90 | 180 | 270;
  /** Variable frame rate: frame i is shown from frameTimes[i] seconds (ascending). */
  frameTimes?: readonly number[];
  /** Adds a sine audio track. */
  audio?: boolean;
  frames: AsyncIterable<Buffer> | Iterable<Buffer>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const ENCODERS: Record<VideoCodec, string[]> = {
  h264: ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"],
  vp9: ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "0", "-pix_fmt", "yuv420p"],
  mjpeg: ["-c:v", "mjpeg", "-pix_fmt", "yuvj420p"],
  mpeg4: ["-c:v", "mpeg4", "-pix_fmt", "yuv420p"],
};

function qualityArgs(codec: VideoCodec, q: number | undefined): string[] {
  if (codec === "h264") return ["-crf", String(q ?? 23)];
  if (codec === "vp9") return ["-crf", String(q ?? 32)];
  return ["-q:v", String(q ?? 3)];
}

/** setpts expression that places frame N at frameTimes[N], as runs of constant spacing. */
function vfrExpression(times: readonly number[]): string {
  const runs: Array<{ from: number; t0: number; step: number }> = [];
  for (let i = 0; i < times.length; i++) {
    const step = i + 1 < times.length ? times[i + 1]! - times[i]! : (runs[runs.length - 1]?.step ?? 0.04);
    const last = runs[runs.length - 1];
    if (last && Math.abs(last.t0 + (i - last.from) * last.step - times[i]!) < 1e-6 && Math.abs(last.step - step) < 1e-6) continue;
    runs.push({ from: i, t0: times[i]!, step });
  }
  let expr = "0";
  for (const r of runs) expr = `if(gte(N,${r.from}),${r.t0}+(N-${r.from})*${r.step},${expr})`;
  return `(${expr})/TB`;
}

async function* asAsync(frames: AsyncIterable<Buffer> | Iterable<Buffer>, frameBytes: number): AsyncIterable<Buffer> {
  for await (const f of frames as AsyncIterable<Buffer>) {
    if (f.length !== frameBytes) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `frame has ${f.length} bytes, expected ${frameBytes}` });
    yield f;
  }
}

/** Writes the video atomically (tmp file + rename); returns the output path. */
export async function encodeVideo(req: EncodeRequest): Promise<string> {
  const codec = req.codec ?? "h264";
  const gop = req.gop ?? Math.max(1, Math.round(req.fps));
  const ext = req.out.slice(req.out.lastIndexOf("."));
  const tmp = `${req.out}.tmp-${process.pid}${ext}`;
  await mkdir(dirname(req.out), { recursive: true });
  const version = await ffmpegVersion();
  if (req.rotation && !/\.(mp4|mov|m4v)$/i.test(req.out)) {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `rotation metadata needs an .mp4 or .mov output, got ${req.out}` });
  }
  const args = ["-hide_banner", "-nostdin", "-v", "error", "-y"];
  args.push("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${req.width}x${req.height}`, "-r", String(req.fps), "-i", "pipe:0");
  if (req.audio) args.push("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-shortest", "-c:a", "aac", "-b:a", "32k");
  if (req.frameTimes) args.push("-vf", `setpts='${vfrExpression(req.frameTimes)}'`, ...passthroughArgs(version, "vfr"));
  args.push(...ENCODERS[codec], ...qualityArgs(codec, req.quality), "-g", String(gop));
  if (codec === "h264") args.push("-keyint_min", String(gop), "-sc_threshold", "0");
  args.push(tmp);
  const r = await runProcess(binaries().ffmpeg.path, args, {
    timeoutMs: req.timeoutMs ?? 10 * 60_000,
    signal: req.signal,
    stdin: asAsync(req.frames, req.width * req.height * 3),
  }).catch(async (e: unknown) => {
    await rm(tmp, { force: true });
    throw e;
  });
  if (r.exitCode !== 0) {
    await rm(tmp, { force: true });
    throw new FramemindError("FM_ERR_VIDEO_FFMPEG_FAILED", { exitCode: r.exitCode, reason: r.stderr.trim().split("\n")[0] ?? "" }, { detail: r.stderr.slice(-2000) });
  }
  // Rotation goes into the track header after encoding: ffmpeg 4.x, 5.x and 6+ each take it
  // differently (5.1 silently drops the `rotate` tag), this works the same on all of them.
  if (req.rotation) await setMp4Rotation(tmp, req.rotation, { width: req.width, height: req.height });
  await rename(tmp, req.out);
  return req.out;
}
