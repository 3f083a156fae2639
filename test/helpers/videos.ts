/** Test fixtures: videos whose frame index is recoverable from the pixels, and broken files. */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeVideo, type VideoCodec } from "../../src/video/index.js";

export const BITS = 10;

export function tmpDir(prefix = "fm-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Frame n: BITS vertical bars, bar k bright when bit k of n is set. */
export function indexFrame(n: number, width: number, height: number): Buffer {
  const buf = Buffer.alloc(width * height * 3);
  for (let x = 0; x < width; x++) {
    const k = Math.floor((x * BITS) / width);
    const v = (n >> k) & 1 ? 235 : 16;
    for (let y = 0; y < height; y++) buf.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return buf;
}

/**
 * Reads the index back from an RGB frame of any size (samples each bar's centre). `rotation` is
 * the clockwise display rotation the frame was shown with: bars then run along another axis.
 * `bars` < BITS reads a crop that holds that many bars (the first half: the low bits).
 */
export function readIndex(rgb: Buffer, width: number, height: number, rotation: 0 | 90 | 180 | 270 = 0, bars = BITS): number {
  let n = 0;
  for (let k = 0; k < bars; k++) {
    const along = (k + 0.5) / bars;
    // Where the centre of source bar k lands after a clockwise rotation.
    const [x, y] =
      rotation === 0 ? [along * width, height / 2] : rotation === 90 ? [width / 2, along * height] : rotation === 180 ? [(1 - along) * width, height / 2] : [width / 2, (1 - along) * height];
    const px = Math.min(width - 1, Math.floor(x));
    const py = Math.min(height - 1, Math.floor(y));
    if (rgb[(py * width + px) * 3]! > 128) n |= 1 << k;
  }
  return n;
}

export interface IndexVideo {
  out: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  codec?: VideoCodec;
  gop?: number;
  rotation?: 0 | 90 | 180 | 270;
  frameTimes?: number[];
  audio?: boolean;
}

export async function makeIndexVideo(v: IndexVideo): Promise<string> {
  function* frames() {
    for (let n = 0; n < v.frames; n++) yield indexFrame(n, v.width, v.height);
  }
  return encodeVideo({ out: v.out, width: v.width, height: v.height, fps: v.fps, codec: v.codec, gop: v.gop, rotation: v.rotation, frameTimes: v.frameTimes, audio: v.audio, frames: frames() });
}

/**
 * A generated index video, cached across test files and runs under the OS temp folder (keyed by
 * its spec, and the ffmpeg it was made with through the file itself being probed by the tests).
 */
/** Bump when the way fixtures are made changes, so stale cached files are not reused. */
const FIXTURE_VERSION = 2;

export async function fixtureVideo(spec: Omit<IndexVideo, "out">, ext = "mp4"): Promise<string> {
  const dir = join(tmpdir(), "framemind-test-fixtures");
  mkdirSync(dir, { recursive: true });
  const key = createHash("sha256").update(JSON.stringify({ FIXTURE_VERSION, spec })).digest("hex").slice(0, 16);
  const out = join(dir, `${spec.codec ?? "h264"}-${spec.width}x${spec.height}-${key}.${ext}`);
  if (existsSync(out)) return out;
  return makeIndexVideo({ ...spec, out });
}

/** Broken inputs: empty, text renamed .mp4, a truncated copy of a real video. */
export function makeBrokenFiles(dir: string, good: Buffer): { empty: string; text: string; truncated: string } {
  const empty = join(dir, "empty.mp4");
  const text = join(dir, "notes.mp4");
  const truncated = join(dir, "truncated.mp4");
  writeFileSync(empty, "");
  writeFileSync(text, "1\n00:00:01,000 --> 00:00:02,000\nthis is a subtitle, not a video\n");
  writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 3)));
  return { empty, text, truncated };
}

/** ffmpeg children of this process still running (ps), for "nothing left behind" assertions. */
export function ffmpegChildren(): string[] {
  const out = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
  return out.split("\n").filter((l) => /ffmpeg|ffprobe/.test(l));
}

/** Frame indices (at 30 fps) of the variable-frame-rate fixture, and their times. */
export const VFR_FRAMES = [0, 3, 6, 21, 22, 45, 48, 72, 90];
export const VFR_TIMES = VFR_FRAMES.map((n) => n / 30);

/** The video-layer fixtures both decoders are tested on: codecs, odd sizes, rotation, VFR, a sub-second clip. */
export async function standardFixtures(): Promise<Record<"h264" | "vp9" | "mjpeg" | "rot90" | "vfr" | "short", string>> {
  const [h264, vp9, mjpeg, rot90, vfr, short] = await Promise.all([
    fixtureVideo({ width: 320, height: 240, fps: 30, frames: 90, gop: 30, audio: true }),
    fixtureVideo({ width: 161, height: 121, fps: 25, frames: 50, gop: 25, codec: "vp9" }, "webm"),
    fixtureVideo({ width: 176, height: 144, fps: 20, frames: 40, codec: "mjpeg" }, "avi"),
    fixtureVideo({ width: 320, height: 240, fps: 30, frames: 30, gop: 30, rotation: 90 }),
    fixtureVideo({ width: 320, height: 240, fps: 30, frames: VFR_TIMES.length, gop: 100, frameTimes: VFR_TIMES }),
    fixtureVideo({ width: 192, height: 144, fps: 25, frames: 10, gop: 5 }),
  ]);
  return { h264, vp9, mjpeg, rot90, vfr, short };
}
