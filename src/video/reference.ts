/**
 * Reference extractions for the benchmark only (not used by the tools): what a naive wrapper
 * does (one ffmpeg process per frame, accurate seek, PNG out) and the floor of the ffmpeg CLI
 * (one process that seeks and decodes once). They live here because nothing outside src/video
 * may spawn ffmpeg.
 */
import { FramemindError } from "../errors.js";
import { binaries } from "./binaries.js";
import { runProcess } from "./process.js";

export interface ReferenceOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One ffmpeg spawn per timestamp, sequentially, accurate seek, PNG on stdout. */
export async function naiveFrames(video: string, times: readonly number[], opts: ReferenceOptions = {}): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const t of times) {
    const r = await runProcess(
      binaries().ffmpeg.path,
      ["-hide_banner", "-nostdin", "-v", "error", "-ss", t.toFixed(3), "-i", video, "-frames:v", "1", "-c:v", "png", "-f", "image2pipe", "pipe:1"],
      { timeoutMs: opts.timeoutMs ?? 60_000, signal: opts.signal },
    );
    if (r.exitCode !== 0 || r.stdout.length === 0) throw new FramemindError("FM_ERR_VIDEO_FFMPEG_FAILED", { exitCode: r.exitCode, reason: r.stderr.trim().split("\n")[0] ?? "no output" });
    out.push(r.stdout);
  }
  return out;
}

/**
 * One ffmpeg process that seeks to `start` and decodes `frames` frames (the floor: mostly process
 * start), or every frame of [start, start + length] (the decode cost of a span), to the null muxer.
 */
export async function decodeSpan(video: string, span: { start: number; length?: number; frames?: number }, opts: ReferenceOptions = {}): Promise<void> {
  const args = ["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-ss", span.start.toFixed(3)];
  if (span.length !== undefined) args.push("-t", span.length.toFixed(3));
  args.push("-an", "-i", video);
  if (span.frames !== undefined) args.push("-frames:v", String(span.frames));
  args.push("-f", "null", "-");
  const r = await runProcess(binaries().ffmpeg.path, args, { timeoutMs: opts.timeoutMs ?? 60_000, signal: opts.signal });
  if (r.exitCode !== 0) throw new FramemindError("FM_ERR_VIDEO_FFMPEG_FAILED", { exitCode: r.exitCode, reason: r.stderr.trim().split("\n")[0] ?? "" });
}
