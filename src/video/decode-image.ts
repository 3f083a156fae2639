/**
 * Decodes still images (JPEG, PNG) into packed RGB24 at a chosen size, through ffmpeg inside the
 * video layer's process pool and timeouts. The OpenAI-compatible route receives frames back this
 * way (`image_url` parts), so the embedded model can read what a client sends.
 *
 * Headers are read in TypeScript first: unsupported types, empty or oversized pictures are refused
 * before a process starts. Images of one type share one ffmpeg run (image2pipe splits the
 * concatenated stream), scaled the way frames are (`flags=area`, square pixels).
 */
import { FramemindError } from "../errors.js";
import { binaries, ffmpegVersion, passthroughArgs } from "./binaries.js";
import type { RgbImage } from "./images.js";
import { runProcess } from "./process.js";
import type { Size } from "./resize.js";

export type ImageType = "jpeg" | "png";

export interface ImageHeader extends Size {
  type: ImageType;
}

export const IMAGE_LIMITS = {
  /** Encoded bytes of one image. */
  maxBytes: 20 * 1024 * 1024,
  /** Source pixels of one image (decoding cost and ffmpeg's memory grow with it). */
  maxPixels: 40_000_000,
} as const;

export interface DecodeImagesOptions {
  /** Output size of every image; default: each at its own size. */
  size?: Size;
  maxBytes?: number;
  maxPixels?: number;
  /** Per ffmpeg run. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How errors name each image (default "image 1", "image 2", ...). */
  labels?: readonly string[];
}

export interface DecodedImage extends RgbImage {
  type: ImageType;
  /** The encoded picture's own size. */
  source: Size;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A name for bytes we do not decode, so the 415 says what was sent. */
function sniffOther(b: Buffer): string {
  const ascii = b.subarray(0, 12).toString("latin1");
  if (ascii.startsWith("GIF8")) return "gif";
  if (ascii.startsWith("RIFF") && ascii.slice(8, 12) === "WEBP") return "webp";
  if (ascii.startsWith("BM")) return "bmp";
  if (ascii.slice(4, 8) === "ftyp") return "heif/avif or mp4";
  return "unknown";
}

const corrupt = (image: string, reason: string) => new FramemindError("FM_ERR_IMAGE_CORRUPT", { image, reason });

function jpegHeader(b: Buffer, image: string): ImageHeader {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw corrupt(image, `no JPEG marker at byte ${i}`);
    const m = b[i + 1]!;
    if (m === 0xff) {
      i++; // fill byte
      continue;
    }
    // Standalone markers carry no length.
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      i += 2;
      continue;
    }
    if (m === 0xd9 || m === 0xda) throw corrupt(image, "no frame header before the image data");
    const len = b.readUInt16BE(i + 2);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      // Baseline, extended, progressive and lossless are what ffmpeg's decoder reads.
      if (m > 0xc3) throw new FramemindError("FM_ERR_IMAGE_UNSUPPORTED", { image, type: `JPEG (SOF${m - 0xc0}: hierarchical or arithmetic-coded)` });
      if (i + 9 > b.length) break;
      return { type: "jpeg", height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + len;
  }
  throw corrupt(image, "truncated before the frame header");
}

/** Type and size from the first bytes; throws typed errors for anything not a JPEG or PNG. */
export function readImageHeader(b: Buffer, image = "image"): ImageHeader {
  if (b.length === 0) throw corrupt(image, "no bytes");
  let h: ImageHeader;
  if (b[0] === 0xff && b[1] === 0xd8) h = jpegHeader(b, image);
  else if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) {
    if (b.length < 24 || b.toString("latin1", 12, 16) !== "IHDR") throw corrupt(image, "PNG without an IHDR chunk");
    h = { type: "png", width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  } else throw new FramemindError("FM_ERR_IMAGE_UNSUPPORTED", { image, type: sniffOther(b) });
  if (h.width === 0 || h.height === 0) throw corrupt(image, `size ${h.width}x${h.height}`);
  return h;
}

interface Job {
  index: number;
  bytes: Buffer;
  header: ImageHeader;
  out: Size;
  label: string;
}

/** One ffmpeg run over same-type, same-output-size images; any error or short output is corruption. */
async function runBatch(jobs: readonly Job[], opts: DecodeImagesOptions): Promise<Buffer> {
  const { type } = jobs[0]!.header;
  const { width, height } = jobs[0]!.out;
  const frameBytes = width * height * 3;
  const version = await ffmpegVersion();
  const args = ["-hide_banner", "-nostdin", "-v", "error", "-f", "image2pipe", "-c:v", type === "jpeg" ? "mjpeg" : "png", "-i", "pipe:0"];
  args.push("-vf", `scale=${width}:${height}:flags=area,setsar=1,format=rgb24`, ...passthroughArgs(version), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1");
  const r = await runProcess(binaries().ffmpeg.path, args, {
    timeoutMs: opts.timeoutMs ?? 30_000,
    signal: opts.signal,
    stdin: Buffer.concat(jobs.map((j) => j.bytes)),
    maxOutputBytes: frameBytes * (jobs.length + 1),
  });
  // The decoders report damage on stderr yet often exit 0 with a grey-filled picture.
  const err = r.stderr.trim();
  if (r.exitCode !== 0 || err || r.stdout.length !== frameBytes * jobs.length) {
    const label = jobs.length === 1 ? jobs[0]!.label : `one of ${jobs.map((j) => j.label).join(", ")}`;
    throw new FramemindError("FM_ERR_IMAGE_CORRUPT", { image: label, reason: err.split("\n")[0] || `decoded ${r.stdout.length / frameBytes} of ${jobs.length} pictures` }, { detail: err.slice(-2000) });
  }
  return r.stdout;
}

async function decodeGroup(jobs: readonly Job[], opts: DecodeImagesOptions): Promise<Buffer[]> {
  const frameBytes = jobs[0]!.out.width * jobs[0]!.out.height * 3;
  try {
    const all = await runBatch(jobs, opts);
    return jobs.map((_, k) => all.subarray(k * frameBytes, (k + 1) * frameBytes));
  } catch (e) {
    if (jobs.length === 1 || !(e instanceof FramemindError) || e.code !== "FM_ERR_IMAGE_CORRUPT") throw e;
    // Name the damaged image: decode them one by one (error path only).
    const out: Buffer[] = [];
    for (const j of jobs) out.push(await runBatch([j], opts));
    return out;
  }
}

/**
 * Decodes JPEG / PNG bytes into RGB24 at `opts.size` (or each at its own size), in input order.
 * Errors: FM_ERR_IMAGE_UNSUPPORTED (415), FM_ERR_IMAGE_CORRUPT (422), FM_ERR_IMAGE_LIMIT (413),
 * and the pool's FM_ERR_VIDEO_TIMEOUT / FM_ERR_CANCELLED.
 */
export async function decodeImages(images: readonly Buffer[], opts: DecodeImagesOptions = {}): Promise<DecodedImage[]> {
  const maxBytes = opts.maxBytes ?? IMAGE_LIMITS.maxBytes;
  const maxPixels = opts.maxPixels ?? IMAGE_LIMITS.maxPixels;
  const jobs: Job[] = images.map((bytes, index) => {
    const label = opts.labels?.[index] ?? `image ${index + 1}`;
    if (bytes.length > maxBytes) throw new FramemindError("FM_ERR_IMAGE_LIMIT", { image: label, what: "bytes", value: bytes.length, limit: maxBytes });
    const header = readImageHeader(bytes, label);
    if (header.width * header.height > maxPixels) throw new FramemindError("FM_ERR_IMAGE_LIMIT", { image: label, what: `pixels (${header.width}x${header.height})`, value: header.width * header.height, limit: maxPixels });
    const out = opts.size ?? { width: header.width, height: header.height };
    if (!(out.width > 0 && out.height > 0 && Number.isInteger(out.width) && Number.isInteger(out.height))) {
      throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `output size must be positive integers, got ${out.width}x${out.height}` });
    }
    return { index, bytes, header, out, label };
  });
  const groups = new Map<string, Job[]>();
  for (const j of jobs) {
    const key = `${j.header.type}:${j.out.width}x${j.out.height}`;
    groups.set(key, [...(groups.get(key) ?? []), j]);
  }
  // Every run settles before this returns (no ffmpeg outlives the call), then the first error wins.
  const settled = await Promise.allSettled([...groups.values()].map(async (g) => ({ g, rgb: await decodeGroup(g, opts) })));
  const result: DecodedImage[] = new Array<DecodedImage>(jobs.length);
  for (const s of settled) {
    if (s.status === "rejected") throw s.reason;
    const { g, rgb } = s.value;
    g.forEach((j, k) => {
      result[j.index] = { ...j.out, rgb: rgb[k]!, type: j.header.type, source: { width: j.header.width, height: j.header.height } };
    });
  }
  return result;
}
