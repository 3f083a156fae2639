/**
 * Dynamic resolution as Qwen2.5-VL's smart_resize, so token counts match real VLMs:
 * both sides multiples of 28, pixels clamped into [minPixels, maxPixels], aspect kept,
 * Python round-half-even. A rung is a named [minPixels, maxPixels]; a ladder an ordered list.
 */
import { z } from "zod";
import { FramemindError } from "../errors.js";

export const PATCH = 28;
export const PIXELS_PER_TOKEN = PATCH * PATCH;
const MAX_ASPECT = 200;

export interface Rung {
  name: string;
  minPixels: number;
  maxPixels: number;
}

export interface Ladder {
  name: string;
  rungs: readonly Rung[];
}

const tok = (n: number) => n * PIXELS_PER_TOKEN;

export const LADDERS = {
  qwen: {
    name: "qwen",
    rungs: [
      { name: "low", minPixels: tok(4), maxPixels: tok(128) },
      { name: "mid", minPixels: tok(4), maxPixels: tok(384) },
      { name: "high", minPixels: tok(4), maxPixels: tok(768) },
    ],
  },
  tiny: {
    name: "tiny",
    rungs: [
      { name: "low", minPixels: tok(1), maxPixels: tok(4) },
      { name: "high", minPixels: tok(1), maxPixels: tok(16) },
      // Up to 64 patches (224x224). Small text gets 1.3 output pixels per glyph pixel at "high",
      // where the embedded model stays at chance (bench:reading-probe), and ~2.6 here: about the
      // size (2.5) at which it reads a flashed digit at "low".
      { name: "full", minPixels: tok(1), maxPixels: tok(64) },
    ],
  },
} as const satisfies Record<string, Ladder>;

export type LadderName = keyof typeof LADDERS;
export const LadderNameSchema = z.enum(Object.keys(LADDERS) as [LadderName, ...LadderName[]]);

/** Python's round(): half to even. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (Math.abs(d - 0.5) < 1e-9) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}

export interface Size {
  width: number;
  height: number;
}

/** Qwen2.5-VL smart_resize with factor 28. */
export function smartResize(height: number, width: number, minPixels: number, maxPixels: number, factor = PATCH): { height: number; width: number } {
  if (!(height > 0 && width > 0)) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `image size must be positive, got ${width}x${height}` });
  if (!(minPixels > 0 && maxPixels >= minPixels)) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `need 0 < min_pixels <= max_pixels, got ${minPixels}, ${maxPixels}` });
  if (Math.max(height, width) / Math.min(height, width) > MAX_ASPECT) {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `aspect ratio above ${MAX_ASPECT}: ${width}x${height}` });
  }
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return { height: h, width: w };
}

export function tokensFor(size: Size): number {
  return (size.height / PATCH) * (size.width / PATCH);
}

/** A clip's frames are counted in pairs (temporal patch 2), as Qwen2.5-VL does. */
export function clipTokens(frameCount: number, size: Size): number {
  return Math.ceil(frameCount / 2) * tokensFor(size);
}

/** Resolution request: a rung of a ladder, or explicit pixel bounds. */
export type Resolution = { ladder: LadderName; rung: string } | { minPixels: number; maxPixels: number };

export function findRung(ladder: LadderName, rung: string): Rung {
  const found = LADDERS[ladder].rungs.find((r) => r.name === rung);
  if (!found) {
    const names = LADDERS[ladder].rungs.map((r) => r.name).join(", ");
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `unknown rung '${rung}' for ladder '${ladder}' (valid: ${names})` });
  }
  return found;
}

export function rungNames(ladder: LadderName): string[] {
  return LADDERS[ladder].rungs.map((r) => r.name);
}

/**
 * Output size for a source frame. A named rung never upscales beyond the source (above its
 * minPixels), so on a small video two rungs can give the same size; explicit bounds are taken as given.
 */
export function targetSize(src: Size, res: Resolution): Size {
  if ("rung" in res) {
    const r = findRung(res.ladder, res.rung);
    const cap = Math.max(r.minPixels, Math.min(r.maxPixels, src.width * src.height));
    const s = smartResize(src.height, src.width, r.minPixels, cap);
    return { width: s.width, height: s.height };
  }
  const s = smartResize(src.height, src.width, res.minPixels, res.maxPixels);
  return { width: s.width, height: s.height };
}

/** Pixel count of a rung's output for a source size (used for legibility checks). */
export function pixelsAt(src: Size, res: Resolution): number {
  const s = targetSize(src, res);
  return s.width * s.height;
}

/**
 * A region of the frame as fractions of its upright width and height: [x0, y0, x1, y1], corners
 * included, 0 <= x0 < x1 <= 1. A frame asked with a region is that crop, sized at the rung as if it
 * were the whole picture (so a small crop costs few tokens and is never upscaled beyond the source).
 */
export type Region = [number, number, number, number];

/** Smallest side of a region (a fiftieth of the frame): smaller crops would be decoded enormous. */
export const MIN_REGION_SIDE = 0.02;

/** Why a region is unusable, or null. */
export function regionProblem(r: Region): string | null {
  const [x0, y0, x1, y1] = r;
  if (![x0, y0, x1, y1].every((v) => Number.isFinite(v) && v >= 0 && v <= 1)) return `region values must be fractions from 0 to 1, got [${r.join(", ")}]`;
  if (x1 - x0 < MIN_REGION_SIDE - 1e-9 || y1 - y0 < MIN_REGION_SIDE - 1e-9) return `region [${r.join(", ")}] needs x1 - x0 and y1 - y0 of at least ${MIN_REGION_SIDE}`;
  return null;
}

/** How a region is cut: the whole frame decoded at `decode`, the `size` window at (left, top) kept. */
export interface RegionCut {
  size: Size;
  decode: Size;
  left: number;
  top: number;
}

/**
 * The output size of a region at a resolution, and the whole-frame size to decode so that the
 * region comes out at exactly that size (the crop is then a copy of pixels, no second resample).
 */
export function regionCut(src: Size, res: Resolution, region: Region): RegionCut {
  const problem = regionProblem(region);
  if (problem) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: problem });
  const [x0, y0, x1, y1] = region;
  const fw = x1 - x0;
  const fh = y1 - y0;
  const size = targetSize({ width: Math.max(1, fw * src.width), height: Math.max(1, fh * src.height) }, res);
  const decode = { width: Math.max(size.width, Math.round(size.width / fw)), height: Math.max(size.height, Math.round(size.height / fh)) };
  const place = (start: number, side: number, whole: number) => Math.min(whole - side, Math.max(0, Math.round(start * whole)));
  return { size, decode, left: place(x0, size.width, decode.width), top: place(y0, size.height, decode.height) };
}

/** The output size of a frame at a resolution, cropped to `region` when one is given. */
export function frameSize(src: Size, res: Resolution, region?: Region): Size {
  return region ? regionCut(src, res, region).size : targetSize(src, res);
}

/** Copies the cut's window out of a whole frame decoded at `cut.decode` (packed RGB24). */
export function cropRgb(rgb: Buffer, cut: RegionCut): Buffer {
  const { size, decode, left, top } = cut;
  const out = Buffer.allocUnsafe(size.width * size.height * 3);
  const row = size.width * 3;
  for (let y = 0; y < size.height; y++) {
    const from = ((top + y) * decode.width + left) * 3;
    rgb.copy(out, y * row, from, from + row);
  }
  return out;
}
