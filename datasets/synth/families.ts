/**
 * The six task families. Each turns a seeded draw into timed layers plus the question, answer
 * and evidence intervals. Shared rule: the event sits inside the cue segment (tinted background,
 * and usually a sign plate visible at low resolution), while the answer needs a denser look
 * (brief events) or a closer one (text sized to be legible at the `tiny` ladder's high rung only).
 */
import type { Rng } from "../../src/nn/rng.js";
import type { AnswerType, EvidenceInterval } from "../schema.js";
import type { RGB } from "./canvas.js";
import { CODE_ALPHABET, DIGITS, GLYPH_H, textSize } from "./font.js";
import type { Layer } from "./scene.js";

export const FAMILIES = ["flash-digit", "count", "order", "small-code", "change", "when"] as const;
export type Family = (typeof FAMILIES)[number];

export const COLORS = { red: [220, 40, 40], green: [40, 200, 60], blue: [50, 90, 230], yellow: [235, 210, 40], white: [240, 240, 240] } as const satisfies Record<string, RGB>;
type ColorName = keyof typeof COLORS;
const COLOR_NAMES = Object.keys(COLORS) as ColorName[];
const PLATE: RGB = [18, 18, 22];
const INK: RGB = [245, 245, 245];
const STAR: RGB = [250, 220, 30];

/** Frame size, timing and the two rungs' output sizes, as the family needs them. */
export interface Geometry {
  width: number;
  height: number;
  fps: number;
  duration: number;
  /** Source pixels per output pixel at the tiny ladder's low and high rungs (worst axis). */
  srcPerLow: number;
  srcPerHigh: number;
  lowPixels: number;
  highPixels: number;
}

/** A text box drawn in the video, recorded so legibility can be checked on decoded frames. */
export interface TextBox {
  x: number;
  y: number;
  cell: number;
  text: string;
  from: number;
  to: number;
}

/** Where a text box sits and what it says (its time left out). */
export type TextPlace = Pick<TextBox, "x" | "y" | "cell" | "text">;

export interface FamilyDraw {
  layers: Layer[];
  question: string;
  options?: string[];
  answer: string;
  answer_type: AnswerType;
  evidence: EvidenceInterval[];
  text: TextBox[];
  /** Scoring tolerance for number/time answers (seconds for time). */
  tolerance?: number;
}

export interface FamilySpec {
  /** Shortest cue segment (seconds) the event needs. */
  minSegment: number;
  draw(rng: Rng, g: Geometry, cue: { start: number; end: number }): FamilyDraw;
}

const snap = (g: Geometry, t: number) => Math.round(t * g.fps) / g.fps;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
/** Evidence for something drawn over [from, to): from the first frame showing it to half a frame after the last. */
const shown = (g: Geometry, from: number, to: number, minPixels: number, region?: EvidenceInterval["region"]): EvidenceInterval => ({ start: r3(from), end: r3(to - 0.5 / g.fps), min_pixels: minPixels, ...(region ? { region } : {}) });
/** Where text is, as fractions of the picture (rounded outward to 0.001): a crop must hold all of it to show the evidence. */
function where(g: Geometry, boxes: readonly TextPlace[]): [number, number, number, number] {
  const sized = boxes.map((b) => ({ ...b, ...textSize(b.text.length, b.cell) }));
  const lo = (v: number, whole: number) => Math.max(0, Math.floor((v / whole) * 1000) / 1000);
  const hi = (v: number, whole: number) => Math.min(1, Math.ceil((v / whole) * 1000) / 1000);
  return [lo(Math.min(...sized.map((b) => b.x)), g.width), lo(Math.min(...sized.map((b) => b.y)), g.height), hi(Math.max(...sized.map((b) => b.x + b.width)), g.width), hi(Math.max(...sized.map((b) => b.y + b.height)), g.height)];
}
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)]!;
function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
const letter = (k: number) => String.fromCharCode(65 + k);

/** Options from a correct text and distractors, shuffled; returns the options and the answer letter. */
function asOptions(rng: Rng, correct: string, distractors: string[]): { options: string[]; answer: string } {
  const all = shuffle(rng, [correct, ...distractors]);
  return { options: all.map((o, k) => `${letter(k)}. ${o}`), answer: letter(all.indexOf(correct)) };
}

/** A random top-left corner for a w x h box, keeping `margin` pixels from the edges. */
function place(rng: Rng, g: Geometry, w: number, h: number, margin = 4): { x: number; y: number } {
  return { x: margin + rng.int(Math.max(1, g.width - w - 2 * margin)), y: margin + rng.int(Math.max(1, g.height - h - 2 * margin)) };
}

/** A sign: a dark plate for the whole segment (visible at low: says where to look) with text on it. */
function sign(g: Geometry, x: number, y: number, cell: number, chars: number, cue: { start: number; end: number }): { plate: Layer; tx: number; ty: number } {
  const size = textSize(chars, cell);
  const pad = Math.max(2, cell * 1.5);
  // Text starts on a whole pixel, as the canvas draws it.
  return { plate: { from: cue.start, to: cue.end, shape: { kind: "rect", x, y, w: size.width + 2 * pad, h: size.height + 2 * pad, color: PLATE } }, tx: Math.round(x + pad), ty: Math.round(y + pad) };
}

/**
 * Glyph size (source pixels per glyph pixel) for text legible at the high rung and not at low:
 * 1.3 output pixels per glyph pixel at high, so at most 0.65 at low (the rungs differ by 2x or more
 * in each axis). Fractional: glyph pixels are drawn with rounded edges.
 */
export const smallCell = (g: Geometry) => Math.round(1.3 * g.srcPerHigh * 100) / 100;
/** Glyph size for text legible at the low rung. */
export const largeCell = (g: Geometry) => Math.ceil(2.5 * g.srcPerLow);

/** Non-overlapping [on, off) windows of `len` seconds, separated by at least `gap`, inside [a, b]. */
function windows(rng: Rng, g: Geometry, a: number, b: number, n: number, len: number, gap: number): Array<[number, number]> {
  const slack = Math.max(0, b - a - n * len - (n - 1) * gap);
  const cuts = Array.from({ length: n + 1 }, () => rng.uniform()).sort((x, y) => x - y);
  const total = cuts.reduce((s, c) => s + c, 0) || 1;
  const out: Array<[number, number]> = [];
  let t = a;
  for (let i = 0; i < n; i++) {
    t += (slack * cuts[i]!) / total + (i > 0 ? gap : 0);
    const on = snap(g, t);
    const off = snap(g, t + len);
    out.push([on, off]);
    t = off;
  }
  return out;
}

export const FAMILY_SPECS: Record<Family, FamilySpec> = {
  "flash-digit": {
    minSegment: 3,
    draw(rng, g, cue) {
      const cell = largeCell(g);
      const digit = pick(rng, [...DIGITS]);
      const size = textSize(1, cell);
      const at = place(rng, g, size.width + 3 * cell, size.height + 3 * cell);
      const s = sign(g, at.x, at.y, cell, 1, cue);
      const len = 0.3 + 0.15 * rng.uniform();
      const [[on, off]] = windows(rng, g, cue.start + 0.4, cue.end - 0.4, 1, len, 0) as [[number, number]];
      return {
        layers: [s.plate, { from: on, to: off, shape: { kind: "text", x: s.tx, y: s.ty, cell, text: digit, color: INK } }],
        question: "A digit flashed briefly on the dark sign. Which digit was it?",
        answer: digit,
        answer_type: "number",
        tolerance: 0,
        evidence: [shown(g, on, off, g.lowPixels, where(g, [{ x: s.tx, y: s.ty, cell, text: digit }]))],
        text: [{ x: s.tx, y: s.ty, cell, text: digit, from: on, to: off }],
      };
    },
  },
  count: {
    minSegment: 4.5,
    draw(rng, g, cue) {
      const k = 2 + rng.int(4);
      const L = cue.end - cue.start;
      const len = Math.min(1, Math.max(0.3, L / 16));
      const r = 3.5 * g.srcPerLow;
      const cx = r + 4 + rng.uniform() * (g.width - 2 * r - 8), cy = r + 4 + rng.uniform() * (g.height - 2 * r - 8);
      const wins = windows(rng, g, cue.start + 0.3, cue.end - 0.3, k, len, len * 1.2);
      return {
        layers: [
          // A dim ring marks the spot for the whole segment; the flashes fill it.
          { from: cue.start, to: cue.end, shape: { kind: "disc", cx, cy, r: r * 1.15, color: PLATE } },
          ...wins.map(([on, off]): Layer => ({ from: on, to: off, shape: { kind: "disc", cx, cy, r, color: COLORS.white } })),
        ],
        question: "How many times did the white circle flash?",
        answer: String(k),
        answer_type: "number",
        tolerance: 0,
        evidence: wins.map(([on, off]) => shown(g, on, off, g.lowPixels)),
        text: [],
      };
    },
  },
  order: {
    minSegment: 4,
    draw(rng, g, cue) {
      const m = 3 + rng.int(3);
      const seq = shuffle(rng, [...COLOR_NAMES]).slice(0, m);
      // Red is always shown, never last, so "right after red" exists.
      if (!seq.includes("red")) seq[rng.int(m - 1)] = "red";
      else if (seq[m - 1] === "red") [seq[m - 1], seq[m - 2]] = [seq[m - 2]!, "red"];
      const L = cue.end - cue.start;
      const len = Math.min(1.5, Math.max(0.4, L / (2 * m)));
      const r = 4 * g.srcPerLow;
      const cx = r + 4 + rng.uniform() * (g.width - 2 * r - 8), cy = r + 4 + rng.uniform() * (g.height - 2 * r - 8);
      const [[start]] = windows(rng, g, cue.start + 0.3, cue.end - 0.3, 1, m * len, 0) as [[number, number]];
      const wins = seq.map((_, i): [number, number] => [snap(g, start + i * len), snap(g, start + (i + 1) * len)]);
      const iRed = seq.indexOf("red");
      const next = seq[iRed + 1]!;
      const others = shuffle(rng, COLOR_NAMES.filter((c) => c !== "red" && c !== next)).slice(0, 3);
      const o = asOptions(rng, next, others);
      return {
        layers: seq.map((c, i): Layer => ({ from: wins[i]![0], to: wins[i]![1], shape: { kind: "disc", cx, cy, r, color: COLORS[c] } })),
        question: "Coloured circles were shown one after another. Which colour came right after red?",
        ...o,
        answer_type: "option",
        evidence: [shown(g, ...wins[iRed]!, g.lowPixels), shown(g, ...wins[iRed + 1]!, g.lowPixels)],
        text: [],
      };
    },
  },
  "small-code": {
    minSegment: 3,
    draw(rng, g, cue) {
      const cell = smallCell(g);
      const code = Array.from({ length: 3 }, () => pick(rng, [...CODE_ALPHABET])).join("");
      const size = textSize(3, cell);
      const at = place(rng, g, size.width + 3 * cell, size.height + 3 * cell);
      const s = sign(g, at.x, at.y, cell, 3, cue);
      const L = cue.end - cue.start;
      const len = Math.min(2, Math.max(0.8, L / 4));
      const [[on, off]] = windows(rng, g, cue.start + 0.3, cue.end - 0.3, 1, len, 0) as [[number, number]];
      return {
        layers: [s.plate, { from: on, to: off, shape: { kind: "text", x: s.tx, y: s.ty, cell, text: code, color: INK } }],
        question: "A short code was printed on the small dark sign. What was the code?",
        answer: code,
        answer_type: "text",
        evidence: [shown(g, on, off, g.highPixels, where(g, [{ x: s.tx, y: s.ty, cell, text: code }]))],
        text: [{ x: s.tx, y: s.ty, cell, text: code, from: on, to: off }],
      };
    },
  },
  change: {
    minSegment: 3,
    draw(rng, g, cue) {
      const cell = smallCell(g);
      const w = textSize(1, cell).width + 3 * cell;
      const h = GLYPH_H * cell + 3 * cell;
      const y = Math.round(g.height / 2 - h / 2 + (rng.uniform() - 0.5) * (g.height - h) * 0.5);
      const left = sign(g, Math.round(g.width * 0.25 - w / 2), y, cell, 1, cue);
      const right = sign(g, Math.round(g.width * 0.75 - w / 2), y, cell, 1, cue);
      const digits = shuffle(rng, [...DIGITS]);
      const [a, c, b, b2] = digits as [string, string, string, string];
      const side = rng.int(2) === 0 ? "left" : "right";
      const tc = snap(g, cue.start + (0.35 + 0.3 * rng.uniform()) * (cue.end - cue.start));
      const [changing, still] = side === "left" ? [left, right] : [right, left];
      const other = side === "left" ? "right" : "left";
      // Symmetric options (synth/2): each shares its sign and first digit with one other option
      // and its last digit with another, so their text alone cannot pick the answer. synth/1 put
      // a fifth digit on the other sign ("c became c2"), which left the answer the only option
      // sharing with two others; a model answering from the overview alone scored 55% on it. The
      // draws are the same, so every video and every other item is as in synth/1.
      const o = asOptions(rng, `${side} sign: ${a} became ${b}`, [`${side} sign: ${a} became ${b2}`, `${other} sign: ${c} became ${b2}`, `${other} sign: ${c} became ${b}`]);
      const txt = (s: typeof left, d: string, from: number, to: number): Layer => ({ from, to, shape: { kind: "text", x: s.tx, y: s.ty, cell, text: d, color: INK } });
      return {
        layers: [left.plate, right.plate, txt(changing, a, cue.start, tc), txt(changing, b, tc, cue.end), txt(still, c, cue.start, cue.end)],
        question: "Two small signs were shown for a while. What changed on them between their first and last moment?",
        ...o,
        answer_type: "option",
        // Both signs: what changed is only known by reading both.
        evidence: [shown(g, cue.start, tc, g.highPixels, where(g, [{ cell, text: a, x: changing.tx, y: changing.ty }, { cell, text: c, x: still.tx, y: still.ty }])), shown(g, tc, cue.end, g.highPixels, where(g, [{ cell, text: b, x: changing.tx, y: changing.ty }, { cell, text: c, x: still.tx, y: still.ty }]))],
        text: [
          { x: changing.tx, y: changing.ty, cell, text: a, from: cue.start, to: tc },
          { x: changing.tx, y: changing.ty, cell, text: b, from: tc, to: cue.end },
          { x: still.tx, y: still.ty, cell, text: c, from: cue.start, to: cue.end },
        ],
      };
    },
  },
  when: {
    minSegment: 3.5,
    draw(rng, g, cue) {
      const r = 5 * g.srcPerLow;
      const cx = r + 4 + rng.uniform() * (g.width - 2 * r - 8), cy = r + 4 + rng.uniform() * (g.height - 2 * r - 8);
      const ts = snap(g, cue.start + 1.2 + rng.uniform() * (cue.end - cue.start - 2.4));
      const tol = 1;
      return {
        layers: [{ from: ts, to: cue.end, shape: { kind: "star", cx, cy, r, color: STAR } }],
        question: "A yellow star appeared during the video. When did it appear (seconds from the start)?",
        answer: String(Math.round(ts * 10) / 10),
        answer_type: "time",
        tolerance: tol,
        // Bracketing the moment needs one frame without the star and one with it, within the tolerance.
        evidence: [
          { start: r3(Math.max(cue.start, ts - tol)), end: r3(ts - 0.5 / g.fps), min_pixels: g.lowPixels },
          { start: r3(ts), end: r3(Math.min(cue.end, ts + tol) - 0.5 / g.fps), min_pixels: g.lowPixels },
        ],
        text: [],
      };
    },
  },
};
