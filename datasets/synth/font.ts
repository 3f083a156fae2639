/**
 * A 5x7 bitmap font for the synthetic suite: digits and the few letters codes use. Glyphs are
 * drawn as `cell`-sized squares, so text size is set in whole source pixels per glyph pixel.
 */
export const GLYPH_W = 5;
export const GLYPH_H = 7;
/** Glyph pitch in cells (one blank column between glyphs). */
export const PITCH = GLYPH_W + 1;

const ROWS: Record<string, string[]> = {
  "0": ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
  "1": ["00100", "01100", "00100", "00100", "00100", "00100", "01110"],
  "2": ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
  "3": ["11110", "00001", "00001", "01110", "00001", "00001", "11110"],
  "4": ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
  "5": ["11111", "10000", "11110", "00001", "00001", "10001", "01110"],
  "6": ["00110", "01000", "10000", "11110", "10001", "10001", "01110"],
  "7": ["11111", "00001", "00010", "00100", "01000", "01000", "01000"],
  "8": ["01110", "10001", "10001", "01110", "10001", "10001", "01110"],
  "9": ["01110", "10001", "10001", "01111", "00001", "00010", "01100"],
  A: ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
  C: ["01110", "10001", "10000", "10000", "10000", "10001", "01110"],
  E: ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
  H: ["10001", "10001", "10001", "11111", "10001", "10001", "10001"],
  K: ["10001", "10010", "10100", "11000", "10100", "10010", "10001"],
  P: ["11110", "10001", "10001", "11110", "10000", "10000", "10000"],
  R: ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
  X: ["10001", "10001", "01010", "00100", "01010", "10001", "10001"],
};

export const DIGITS = "0123456789";
/** Characters of small codes: a small vocabulary a tiny model can learn. */
export const CODE_ALPHABET = "0123456789ACEHKPRX";

/** glyph(c)[y][x] is true where the glyph is inked. */
export function glyph(c: string): boolean[][] {
  const rows = ROWS[c];
  if (!rows) throw new Error(`no glyph for '${c}'`);
  return rows.map((r) => [...r].map((b) => b === "1"));
}

/** Width and height in source pixels of `n` glyphs at `cell` pixels per glyph pixel. */
export function textSize(n: number, cell: number): { width: number; height: number } {
  return { width: (n * PITCH - 1) * cell, height: GLYPH_H * cell };
}
