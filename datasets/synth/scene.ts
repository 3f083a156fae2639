/**
 * A synthetic video as data: a scrolling textured background, a cue tint over one segment,
 * drifting distractor shapes, and timed shapes/text. Rendering frame k is a pure function of
 * the scene, so the same seed always gives the same pixels.
 */
import { Rng } from "../../src/nn/rng.js";
import { Canvas, type RGB } from "./canvas.js";

export type Shape =
  | { kind: "disc"; cx: number; cy: number; r: number; color: RGB }
  | { kind: "rect"; x: number; y: number; w: number; h: number; color: RGB }
  | { kind: "star"; cx: number; cy: number; r: number; color: RGB }
  | { kind: "text"; x: number; y: number; cell: number; text: string; color: RGB };

/** A shape drawn on frames whose time t satisfies from <= t < to. */
export interface Layer {
  from: number;
  to: number;
  shape: Shape;
}

export interface Mover {
  kind: "disc" | "rect";
  size: number;
  color: RGB;
  x0: number;
  y0: number;
  /** Pixels per second; movers bounce off the frame edges. */
  vx: number;
  vy: number;
}

export interface Scene {
  width: number;
  height: number;
  fps: number;
  frameCount: number;
  textureSeed: number;
  /** Background scroll speed (pixels per second). */
  scroll: number;
  cue: { start: number; end: number };
  movers: Mover[];
  layers: Layer[];
}

/** The cue colour: one tint for the whole suite, so "tinted = look here" can be learned. */
export const CUE_TINT: RGB = [205, 40, 200];
export const CUE_ALPHA = 0.5;
const BASE: RGB = [55, 66, 86];

/** Horizontally tileable value-noise texture (two octaves), so scrolling is a row rotation. */
function texture(width: number, height: number, seed: number): Buffer {
  const rng = new Rng(seed);
  const buf = Buffer.alloc(width * height * 3);
  const octaves = [
    { cell: 24, amp: 18 },
    { cell: 6, amp: 9 },
  ];
  const grids = octaves.map((o) => {
    const gw = Math.ceil(width / o.cell), gh = Math.ceil(height / o.cell) + 1;
    return { ...o, gw, gh, v: Float32Array.from({ length: gw * gh }, () => rng.uniform() * 2 - 1) };
  });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let d = 0;
      for (const g of grids) {
        // Cells are stretched to a whole number per row, so the texture wraps without a seam.
        const fx = (x * g.gw) / width, fy = y / g.cell;
        const x0 = Math.floor(fx), y0 = Math.floor(fy), tx = fx - x0, ty = fy - y0;
        const at = (i: number, j: number) => g.v[(j % g.gh) * g.gw + (i % g.gw)]!;
        const top = at(x0, y0) * (1 - tx) + at(x0 + 1, y0) * tx;
        const bot = at(x0, y0 + 1) * (1 - tx) + at(x0 + 1, y0 + 1) * tx;
        d += g.amp * (top * (1 - ty) + bot * ty);
      }
      const o = (y * width + x) * 3;
      buf[o] = clamp(BASE[0] + d);
      buf[o + 1] = clamp(BASE[1] + d);
      buf[o + 2] = clamp(BASE[2] + d * 1.2);
    }
  return buf;
}

function tinted(tex: Buffer): Buffer {
  const out = Buffer.alloc(tex.length);
  for (let i = 0; i < tex.length; i++) out[i] = clamp(tex[i]! * (1 - CUE_ALPHA) + CUE_TINT[i % 3]! * CUE_ALPHA);
  return out;
}

const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));

/** Position on a bouncing path: reflect the free motion into [0, span]. */
function bounce(p0: number, v: number, t: number, span: number): number {
  if (span <= 0) return 0;
  const p = (((p0 + v * t) % (2 * span)) + 2 * span) % (2 * span);
  return p <= span ? p : 2 * span - p;
}

/** Time of frame k (frames are evenly spaced from 0). */
export const frameTime = (scene: Pick<Scene, "fps">, k: number) => k / scene.fps;

/** Frame k of the scene, rendered on demand (the background tiles are made once per scene). */
export function sceneRenderer(scene: Scene): (k: number) => Buffer {
  const { width: W, height: H } = scene;
  const plain = texture(W, H, scene.textureSeed);
  const tint = tinted(plain);
  const row = W * 3;
  return (k) => {
    const t = frameTime(scene, k);
    const c = new Canvas(W, H);
    const bg = t >= scene.cue.start && t < scene.cue.end ? tint : plain;
    const shift = Math.round(scene.scroll * t) % W;
    for (let y = 0; y < H; y++) {
      // Row rotation by `shift` pixels (the texture tiles horizontally).
      bg.copy(c.rgb, y * row, y * row + shift * 3, y * row + row);
      bg.copy(c.rgb, y * row + row - shift * 3, y * row, y * row + shift * 3);
    }
    for (const m of scene.movers) {
      const x = bounce(m.x0, m.vx, t, W - m.size), y = bounce(m.y0, m.vy, t, H - m.size);
      if (m.kind === "disc") c.disc(x + m.size / 2, y + m.size / 2, m.size / 2, m.color);
      else c.rect(x, y, m.size, m.size, m.color);
    }
    for (const l of scene.layers) if (t >= l.from && t < l.to) draw(c, l.shape);
    return c.rgb;
  };
}

/** Renders frames in order. */
export function* renderFrames(scene: Scene): Generator<Buffer> {
  const frame = sceneRenderer(scene);
  for (let k = 0; k < scene.frameCount; k++) yield frame(k);
}

function draw(c: Canvas, s: Shape): void {
  if (s.kind === "disc") c.disc(s.cx, s.cy, s.r, s.color);
  else if (s.kind === "rect") c.rect(s.x, s.y, s.w, s.h, s.color);
  else if (s.kind === "star") c.star(s.cx, s.cy, s.r, s.color);
  else c.text(s.x, s.y, s.cell, s.text, s.color);
}
