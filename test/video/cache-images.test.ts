/** Frame cache (memory and disk) and the PNG/JPEG encoders. */
import { copyFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clearFrameCache, encodeJpegs, encodePng, getFrames, probe, processStats, setFrameCacheDir, type Resolution } from "../../src/video/index.js";
import { ffmpegChildren, fixtureVideo, readIndex, tmpDir } from "../helpers/videos.js";

const low: Resolution = { ladder: "qwen", rung: "low" };
let a = "";
let b = "";
let dir = "";

beforeAll(async () => {
  [a, b] = await Promise.all([
    fixtureVideo({ width: 224, height: 168, fps: 25, frames: 50, gop: 25 }),
    fixtureVideo({ width: 224, height: 168, fps: 10, frames: 20, gop: 10 }),
  ]);
  dir = tmpDir();
});

afterEach(() => {
  expect(processStats().live).toBe(0);
  expect(ffmpegChildren()).toEqual([]);
});

afterAll(() => setFrameCacheDir(undefined));

describe("frame cache", () => {
  it("serves a repeated request from memory and re-decodes a rewritten file", async () => {
    const v = join(dir, "v.mp4");
    copyFileSync(a, v);
    const first = await getFrames({ video: v, at: [1.2], resolution: low });
    expect(first.cached).toBe(false);
    expect(readIndex(first.frames[0]!.rgb, first.width, first.height)).toBe(30);
    const again = await getFrames({ video: v, at: [1.2], resolution: low });
    expect(again.cached).toBe(true);
    expect(again.frames[0]!.rgb.equals(first.frames[0]!.rgb)).toBe(true);
    // Same path, new content (10 fps): the frame at 1.2 s is now frame 12.
    copyFileSync(b, v);
    const rewritten = await getFrames({ video: v, at: [1.2], resolution: low });
    expect(rewritten.cached).toBe(false);
    expect(readIndex(rewritten.frames[0]!.rgb, rewritten.width, rewritten.height)).toBe(12);
  });

  it("keys on the request: another mode or size is decoded anew", async () => {
    await getFrames({ video: a, at: [0.6], resolution: low });
    expect((await getFrames({ video: a, at: [0.6], resolution: { ladder: "tiny", rung: "low" } })).cached).toBe(false);
    expect((await getFrames({ video: a, at: [0.6], resolution: low, mode: "tolerant" })).cached).toBe(false);
    // A region is part of the key: each crop is its own entry, and a repeat of one is a hit.
    const left = await getFrames({ video: a, at: [0.6], resolution: low, region: [0, 0, 0.5, 1] });
    expect(left.cached).toBe(false);
    expect((await getFrames({ video: a, at: [0.6], resolution: low, region: [0.5, 0, 1, 1] })).cached).toBe(false);
    const again = await getFrames({ video: a, at: [0.6], resolution: low, region: [0, 0, 0.5, 1] });
    expect([again.cached, again.region, again.width]).toEqual([true, [0, 0, 0.5, 1], left.width]);
  });

  it("persists on disk across a cleared memory cache", async () => {
    const store = join(dir, "store");
    setFrameCacheDir(store);
    const first = await getFrames({ video: a, at: [0.4, 1.64], resolution: low });
    expect(first.cached).toBe(false);
    expect(readdirSync(store).length).toBeGreaterThan(0);
    clearFrameCache();
    const fromDisk = await getFrames({ video: a, at: [0.4, 1.64], resolution: low });
    expect(fromDisk.cached).toBe(true);
    expect(fromDisk.frames.map((f) => f.timestamp)).toEqual(first.frames.map((f) => f.timestamp));
    fromDisk.frames.forEach((f, i) => expect(f.rgb.equals(first.frames[i]!.rgb)).toBe(true));
    expect(fromDisk.video.path).toBe(first.video.path);
    const crop = await getFrames({ video: a, at: [1.64], resolution: low, region: [0, 0.25, 0.5, 0.75] });
    clearFrameCache();
    const cropFromDisk = await getFrames({ video: a, at: [1.64], resolution: low, region: [0, 0.25, 0.5, 0.75] });
    expect([cropFromDisk.cached, cropFromDisk.region, cropFromDisk.width, cropFromDisk.height]).toEqual([true, crop.region, crop.width, crop.height]);
    expect(cropFromDisk.frames[0]!.rgb.equals(crop.frames[0]!.rgb)).toBe(true);
    setFrameCacheDir(undefined);
  });
});

describe("image encoders", () => {
  it("PNG and JPEG decode back to images of the right size and content", async () => {
    const r = await getFrames({ video: a, at: [0.2, 1.0], resolution: low });
    const png = join(dir, "f.png");
    writeFileSync(png, encodePng(r.frames[1]!));
    const jpegs = await encodeJpegs(r.frames, { quality: 90 });
    expect(jpegs).toHaveLength(2);
    const files = jpegs.map((j, i) => {
      expect([j[0], j[1], j[j.length - 2], j[j.length - 1]]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
      const f = join(dir, `f${i}.jpg`);
      writeFileSync(f, j);
      return f;
    });
    for (const [f, codec] of [[png, "png"], [files[0]!, "mjpeg"], [files[1]!, "mjpeg"]] as const) {
      const info = await probe(f);
      expect(info).toMatchObject({ codec, width: r.width, height: r.height });
    }
    // Decoding them again gives the same frame index.
    const exact: Resolution = { minPixels: r.width * r.height, maxPixels: r.width * r.height };
    for (const [f, n] of [[png, 25], [files[0]!, 5], [files[1]!, 25]] as const) {
      const d = await getFrames({ video: f, at: [0], resolution: exact });
      expect({ w: d.width, h: d.height }).toEqual({ w: r.width, h: r.height });
      expect(readIndex(d.frames[0]!.rgb, d.width, d.height)).toBe(n);
    }
  });

  it("refuses a JPEG batch of mixed sizes", async () => {
    const img = (w: number) => ({ width: w, height: 28, rgb: Buffer.alloc(w * 28 * 3) });
    await expect(encodeJpegs([img(28), img(56)])).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
  });
});
