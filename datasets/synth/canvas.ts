/** An RGB24 frame buffer with the few drawing primitives the synthetic scenes need. */
import { glyph, PITCH } from "./font.js";

export type RGB = readonly [number, number, number];

export class Canvas {
  readonly rgb: Buffer;
  constructor(readonly width: number, readonly height: number) {
    this.rgb = Buffer.alloc(width * height * 3);
  }

  private put(x: number, y: number, c: RGB): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 3;
    this.rgb[o] = c[0];
    this.rgb[o + 1] = c[1];
    this.rgb[o + 2] = c[2];
  }

  rect(x: number, y: number, w: number, h: number, c: RGB): void {
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)), y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.put(xx, yy, c);
  }

  disc(cx: number, cy: number, r: number, c: RGB): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++)
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) if ((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r) this.put(x, y, c);
  }

  /** A five-pointed star (point-in-polygon against its ten vertices). */
  star(cx: number, cy: number, r: number, c: RGB): void {
    const pts = Array.from({ length: 10 }, (_, k) => {
      const a = -Math.PI / 2 + (k * Math.PI) / 5;
      const rr = k % 2 === 0 ? r : r * 0.45;
      return [cx + rr * Math.cos(a), cy + rr * Math.sin(a)] as const;
    });
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++)
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        let inside = false;
        for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
          const [xi, yi] = pts[i]!, [xj, yj] = pts[j]!;
          if (yi > y + 0.5 !== yj > y + 0.5 && x + 0.5 < ((xj - xi) * (y + 0.5 - yi)) / (yj - yi) + xi) inside = !inside;
        }
        if (inside) this.put(x, y, c);
      }
  }

  /** Bitmap text, top-left at (x, y), `cell` source pixels per glyph pixel. */
  text(x: number, y: number, cell: number, s: string, c: RGB): void {
    [...s].forEach((ch, k) => {
      const g = glyph(ch);
      const gx = Math.round(x) + k * PITCH * cell;
      g.forEach((row, yy) => row.forEach((on, xx) => on && this.rect(gx + xx * cell, Math.round(y) + yy * cell, cell, cell, c)));
    });
  }
}
