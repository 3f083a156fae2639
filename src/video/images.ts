/**
 * Encodes RGB frames for people and remote models: PNG in-process (zlib), JPEG through ffmpeg
 * (one process for a whole batch).
 */
import { deflateSync, crc32 } from "node:zlib";
import { binaries } from "./binaries.js";
import { runProcess } from "./process.js";
import { FramemindError } from "../errors.js";

export type ImageFormat = "png" | "jpeg";

export interface RgbImage {
  width: number;
  height: number;
  rgb: Buffer;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

export function encodePng(img: RgbImage): Buffer {
  const { width, height, rgb } = img;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type RGB
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) rgb.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

/** JPEG-encodes same-sized frames in one ffmpeg run; splits the MJPEG stream at SOI/EOI markers. */
export async function encodeJpegs(imgs: readonly RgbImage[], opts: { quality?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Buffer[]> {
  if (imgs.length === 0) return [];
  const { width, height } = imgs[0]!;
  if (imgs.some((i) => i.width !== width || i.height !== height)) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "JPEG batch frames must share one size" });
  const q = Math.round(2 + ((100 - (opts.quality ?? 85)) / 100) * 29);
  const r = await runProcess(
    binaries().ffmpeg.path,
    ["-hide_banner", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${width}x${height}`, "-i", "pipe:0", "-c:v", "mjpeg", "-q:v", String(q), "-pix_fmt", "yuvj444p", "-f", "image2pipe", "pipe:1"],
    { timeoutMs: opts.timeoutMs ?? 30_000, signal: opts.signal, stdin: Buffer.concat(imgs.map((i) => i.rgb)) },
  );
  if (r.exitCode !== 0) throw new FramemindError("FM_ERR_VIDEO_FFMPEG_FAILED", { exitCode: r.exitCode, reason: r.stderr.trim().split("\n")[0] ?? "" });
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 2; i + 1 < r.stdout.length; i++) {
    // EOI (FFD9) followed by SOI (FFD8), or the end of the stream, closes one picture.
    if (r.stdout[i] === 0xff && r.stdout[i + 1] === 0xd9 && (i + 2 === r.stdout.length || (r.stdout[i + 2] === 0xff && r.stdout[i + 3] === 0xd8))) {
      out.push(r.stdout.subarray(start, i + 2));
      start = i + 2;
      i++;
    }
  }
  if (out.length !== imgs.length) throw new FramemindError("FM_ERR_VIDEO_FFMPEG_FAILED", { exitCode: 0, reason: `expected ${imgs.length} JPEGs, got ${out.length}` });
  return out;
}

export async function encodeImages(imgs: readonly RgbImage[], format: ImageFormat, opts: { signal?: AbortSignal } = {}): Promise<Buffer[]> {
  return format === "png" ? imgs.map(encodePng) : encodeJpegs(imgs, opts);
}

export function mimeType(format: ImageFormat): string {
  return format === "png" ? "image/png" : "image/jpeg";
}
