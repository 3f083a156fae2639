import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateSuite, itemSeed, makeItem, SPLITS } from "../../datasets/synth/index.js";
import { getFrames, uniformTimes } from "../../src/video/index.js";
import { tmpDir } from "../helpers/videos.js";

describe("synthetic suite: seeds", () => {
  it("splits never share item seeds (the split is in the seed's low bits)", () => {
    for (const seed of [0, 1, 2026])
      for (let i = 0; i < 50; i++) {
        const s = SPLITS.map((split) => itemSeed(seed, split, i));
        expect(new Set(s).size).toBe(3);
        s.forEach((x, k) => expect(x & 3).toBe(k));
      }
  });

  it("items are a pure function of (seed, split, index) and differ across splits", () => {
    expect(makeItem(9, "train", 3)).toEqual(makeItem(9, "train", 3));
    expect(makeItem(9, "train", 3).item.meta.seed).not.toBe(makeItem(9, "val", 3).item.meta.seed);
    const fams = Array.from({ length: 6 }, (_, i) => makeItem(1, "val", i).item.meta.family);
    expect(new Set(fams).size).toBe(6);
  });

  it("every item keeps its event inside the cue segment, which is at least the 8-frame overview spacing long", () => {
    for (let i = 0; i < 60; i++) {
      const { item } = makeItem(77, "train", i);
      const m = item.meta as { duration: number; cue: { start: number; end: number } };
      expect(m.cue.end - m.cue.start).toBeGreaterThanOrEqual(m.duration / 8);
      expect(m.cue.start).toBeGreaterThanOrEqual(0);
      expect(m.cue.end).toBeLessThanOrEqual(m.duration);
      for (const e of item.evidence ?? []) {
        // Evidence bounds are rounded to the millisecond.
        expect(e.start).toBeGreaterThanOrEqual(m.cue.start - 1e-3);
        expect(e.end).toBeLessThanOrEqual(m.cue.end + 1e-3);
        expect(e.end).toBeGreaterThanOrEqual(e.start);
      }
    }
  });
});

describe("synthetic suite: option texts", () => {
  it("change options cannot be told apart by their text: each shares its sign and first digit with one option and its last digit with one", () => {
    let n = 0;
    for (let i = 0; n < 40; i++) {
      const { item } = makeItem(7, "test", i);
      if (item.meta?.family !== "change") continue;
      n++;
      const parts = item.options!.map((o) => /^[A-D]\. (left|right) sign: (\d) became (\d)$/.exec(o)!.slice(1));
      for (const [side, from, to] of parts) {
        expect(parts.filter((p) => p[0] === side && p[1] === from)).toHaveLength(2);
        expect(parts.filter((p) => p[2] === to)).toHaveLength(2);
        expect(parts.filter((p) => p[0] === side)).toHaveLength(2);
      }
    }
  });
});

describe("synthetic suite: generation", () => {
  it("the same seed gives the identical JSONL and identical decoded frames", { timeout: 240_000 }, async () => {
    const [a, b] = [tmpDir("fm-synth-a-"), tmpDir("fm-synth-b-")];
    const ra = await generateSuite({ split: "val", n: 2, seed: 5, out: a });
    const rb = await generateSuite({ split: "val", n: 2, seed: 5, out: b });
    expect(readFileSync(ra.jsonl, "utf8")).toBe(readFileSync(rb.jsonl, "utf8"));
    for (const item of ra.items) {
      const d = item.meta.duration as number;
      const at = [...uniformTimes(d, 4), ...(item.evidence ?? []).map((e) => (e.start + e.end) / 2)];
      const fa = await getFrames({ video: join(a, item.video), at, resolution: { ladder: "tiny", rung: "high" } });
      const fb = await getFrames({ video: join(b, item.video), at, resolution: { ladder: "tiny", rung: "high" } });
      fa.frames.forEach((f, k) => expect(f.rgb.equals(fb.frames[k]!.rgb)).toBe(true));
    }
    const other = await generateSuite({ split: "val", n: 1, seed: 6, out: tmpDir("fm-synth-c-") });
    expect(other.items[0]!.meta.seed).not.toBe(ra.items[0]!.meta.seed);
    const manifest = JSON.parse(readFileSync(ra.manifest, "utf8"));
    expect(manifest).toMatchObject({ generator: "synth/2", split: "val", n: 2, seed: 5, encoder: { codec: "h264", keyframe_interval_s: 1 } });
  });
});
