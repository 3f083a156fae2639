/**
 * Measurable versions of the suite's claims, checked on decoded frames:
 *  - legibility: text is legible at a size when a glyph-cell reader (below) reads every
 *    character right;
 *  - cue: a frame shows the cue when its median pixel leans towards the cue tint.
 */
import type { RgbImage } from "../../src/video/index.js";
import { glyph, GLYPH_H, GLYPH_W, PITCH } from "./font.js";
import { CUE_ALPHA, CUE_TINT } from "./scene.js";

export interface TextLocation {
  x: number;
  y: number;
  cell: number;
  length: number;
}

const luma = (img: RgbImage, x: number, y: number) => {
  const o = (y * img.width + x) * 3;
  return 0.299 * img.rgb[o]! + 0.587 * img.rgb[o + 1]! + 0.114 * img.rgb[o + 2]!;
};

/**
 * Reads `loc.length` characters of `alphabet` from a frame of a `srcWidth` x `srcHeight` video:
 * the luminance at each glyph cell's centre (bilinear) is thresholded halfway between the
 * darkest and brightest cell of the character, and the nearest glyph bitmap (Hamming) wins.
 * A reader that needs about one output pixel per glyph pixel, as any sampled reader does.
 * A character counts as read when its nearest glyph is within MAX_CELL_ERRORS cells.
 */
/** Most glyph cells (of 35) a character may get wrong and still count as read. */
export const MAX_CELL_ERRORS = 5;

/** Per character: the nearest glyph and how many of its 35 cells disagree. */
export function readGlyphs(frame: RgbImage, loc: TextLocation, srcWidth: number, srcHeight: number, alphabet: string): Array<{ c: string; errors: number }> {
  const sx = frame.width / srcWidth, sy = frame.height / srcHeight;
  const masks = [...alphabet].map((c) => ({ c, g: glyph(c) }));
  const sample = (x: number, y: number) => {
    const fx = Math.min(frame.width - 1, Math.max(0, x - 0.5)), fy = Math.min(frame.height - 1, Math.max(0, y - 0.5));
    const x0 = Math.floor(fx), y0 = Math.floor(fy), x1 = Math.min(frame.width - 1, x0 + 1), y1 = Math.min(frame.height - 1, y0 + 1);
    const tx = fx - x0, ty = fy - y0;
    return (luma(frame, x0, y0) * (1 - tx) + luma(frame, x1, y0) * tx) * (1 - ty) + (luma(frame, x0, y1) * (1 - tx) + luma(frame, x1, y1) * tx) * ty;
  };
  const out: Array<{ c: string; errors: number }> = [];
  for (let k = 0; k < loc.length; k++) {
    const ox = loc.x + k * PITCH * loc.cell;
    const cells: number[] = [];
    for (let gy = 0; gy < GLYPH_H; gy++) for (let gx = 0; gx < GLYPH_W; gx++) cells.push(sample((ox + (gx + 0.5) * loc.cell) * sx, (loc.y + (gy + 0.5) * loc.cell) * sy));
    const mid = (Math.min(...cells) + Math.max(...cells)) / 2;
    const bits = cells.map((v) => v > mid);
    let best = { c: "?", dist: Number.POSITIVE_INFINITY };
    for (const { c, g } of masks) {
      let dist = 0;
      for (let i = 0; i < bits.length; i++) if (bits[i] !== g[Math.floor(i / GLYPH_W)]![i % GLYPH_W]) dist++;
      if (dist < best.dist) best = { c, dist };
    }
    out.push({ c: best.c, errors: best.dist });
  }
  return out;
}

/** The text as read; characters whose nearest glyph is more than MAX_CELL_ERRORS cells off read as "?". */
export function readText(frame: RgbImage, loc: TextLocation, srcWidth: number, srcHeight: number, alphabet: string): string {
  return readGlyphs(frame, loc, srcWidth, srcHeight, alphabet)
    .map((g) => (g.errors <= MAX_CELL_ERRORS ? g.c : "?"))
    .join("");
}

/** How strongly a frame leans towards the cue tint: median of (R + B) / 2 - G. */
export function cueStrength(frame: RgbImage): number {
  const v: number[] = [];
  for (let i = 0; i < frame.width * frame.height; i++) v.push((frame.rgb[i * 3]! + frame.rgb[i * 3 + 2]!) / 2 - frame.rgb[i * 3 + 1]!);
  v.sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)]!;
}

/** Half of the tint's push on a neutral background: far from both plain and tinted frames. */
export const CUE_THRESHOLD = (CUE_ALPHA * ((CUE_TINT[0] + CUE_TINT[2]) / 2 - CUE_TINT[1])) / 2;

export const cueVisible = (frame: RgbImage) => cueStrength(frame) > CUE_THRESHOLD;
