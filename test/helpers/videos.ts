/** Test fixtures: videos whose frame index is recoverable from the pixels, and broken files. */
import { mkdtempSync, writeFileSync } from "node:fs";
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

/** Reads the index back from an RGB frame of any size (samples each bar's centre). */
export function readIndex(rgb: Buffer, width: number, height: number): number {
  let n = 0;
  for (let k = 0; k < BITS; k++) {
    const x = Math.floor(((k + 0.5) * width) / BITS);
    const y = Math.floor(height / 2);
    if (rgb[(y * width + x) * 3]! > 128) n |= 1 << k;
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
