/**
 * Frames and clips from generated videos whose frame index is drawn in the pixels: exact mode
 * returns the frame shown at t, tolerant a keyframe with its real timestamp, across codecs,
 * odd sizes, rotation, variable frame rate and a sub-second clip.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { getClip, getFrames, probe, processStats, targetSize, clipTokens, type Resolution } from "../../src/video/index.js";
import { callCost } from "../../src/agent/protocol.js";
import { ffmpegChildren, readIndex, standardFixtures, VFR_TIMES } from "../helpers/videos.js";

const low: Resolution = { ladder: "qwen", rung: "low" };
/** The frame shown at t for a constant frame rate (small epsilon against float error). */
const shownAt = (t: number, fps: number) => Math.floor(t * fps + 1e-6);

const V: Record<string, string> = {};
beforeAll(async () => {
  Object.assign(V, await standardFixtures());
});

afterEach(() => {
  expect(processStats().live).toBe(0);
  expect(ffmpegChildren()).toEqual([]);
});

describe("probe", () => {
  it("reports duration, fps, frames, size, codec, keyframes and audio", async () => {
    const i = await probe(V.h264!);
    expect(i).toMatchObject({ codec: "h264", fps: 30, width: 320, height: 240, rotation: 0, hasAudio: true });
    expect(i.duration).toBeCloseTo(3, 1);
    expect(i.frameCount).toBe(90);
    expect(i.keyframeInterval).toBeCloseTo(1, 2);
    const v = await probe(V.vp9!);
    expect(v).toMatchObject({ codec: "vp9", width: 161, height: 121, hasAudio: false });
  });

  it("applies rotation metadata to the display size", async () => {
    const i = await probe(V.rot90!);
    expect(i.rotation).toBe(90);
    expect([i.codedWidth, i.codedHeight]).toEqual([320, 240]);
    expect([i.width, i.height]).toEqual([240, 320]);
  });

  it("measures a sub-second clip", async () => {
    const i = await probe(V.short!);
    expect(i.duration).toBeGreaterThan(0.3);
    expect(i.duration).toBeLessThan(0.5);
  });
});

describe("exact mode returns the frame shown at t", () => {
  it.each([
    ["h264", 30, [0, 0.01, 0.5, 1.0, 1.49, 2.0, 2.95]],
    ["vp9", 25, [0.2, 1.0, 1.5, 1.96]],
    ["mjpeg", 20, [0, 0.5, 1.23, 1.9]],
  ] as const)("%s", async (name, fps, times) => {
    const r = await getFrames({ video: V[name]!, at: times, resolution: low, mode: "exact" });
    expect(r.mode).toBe("exact");
    const info = await probe(V[name]!);
    expect({ width: r.width, height: r.height }).toEqual(targetSize(info, low));
    expect(r.frames.map((f) => readIndex(f.rgb, f.width, f.height))).toEqual(times.map((t) => shownAt(t, fps)));
    expect(r.frames.map((f) => f.timestamp)).toEqual(times.map((t) => Math.round((shownAt(t, fps) / fps) * 1000) / 1000));
    expect(r.frames.map((f) => f.requested)).toEqual([...times]);
    expect(r.tokens).toBe(r.frames.length * (r.width / 28) * (r.height / 28));
  });

  it("keeps the request order for unsorted timestamps", async () => {
    const times = [2.5, 0.2, 1.7];
    const r = await getFrames({ video: V.h264!, at: times, resolution: low });
    expect(r.frames.map((f) => readIndex(f.rgb, f.width, f.height))).toEqual(times.map((t) => shownAt(t, 30)));
  });

  it("spreads count frames over [start, end]", async () => {
    const r = await getFrames({ video: V.h264!, span: { start: 1, end: 2, count: 5 }, resolution: low });
    expect(r.frames.map((f) => f.requested)).toEqual([1, 1.25, 1.5, 1.75, 2]);
    expect(r.frames.map((f) => readIndex(f.rgb, f.width, f.height))).toEqual([30, 37, 45, 52, 60]);
  });

  it("turns frames of a rotated video upright at the display size", async () => {
    const r = await getFrames({ video: V.rot90!, at: [0.5], resolution: low });
    expect(r.height).toBeGreaterThan(r.width);
    expect(r).toMatchObject(targetSize({ width: 240, height: 320 }, low));
    const f = r.frames[0]!;
    expect(readIndex(f.rgb, f.width, f.height, 90)).toBe(15);
  });

  it("follows variable frame rate timestamps", async () => {
    const asks = [0.05, 0.65, 0.72, 1.0, 1.55, 2.9];
    const expected = asks.map((t) => VFR_TIMES.filter((x) => x <= t + 1e-6).length - 1);
    const r = await getFrames({ video: V.vfr!, at: asks, resolution: low });
    expect(r.frames.map((f) => readIndex(f.rgb, f.width, f.height))).toEqual(expected);
    r.frames.forEach((f, i) => expect(f.timestamp).toBeCloseTo(VFR_TIMES[expected[i]!]!, 2));
  });

  it("decodes a sub-second clip, clamping the end onto the last frame", async () => {
    const r = await getFrames({ video: V.short!, span: { start: 0, end: 0.4, count: 4 }, resolution: low });
    expect(r.frames.map((f) => readIndex(f.rgb, f.width, f.height))).toEqual([0, 3, 6, 9]);
    const c = await getClip({ video: V.short!, start: 0, end: 0.36, count: 8, resolution: { ladder: "tiny", rung: "high" } });
    expect(c.frames).toHaveLength(8);
    expect(c.tokens).toBe(clipTokens(8, c));
    const idx = c.frames.map((f) => readIndex(f.rgb, f.width, f.height));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
  });
});

describe("tolerant mode returns keyframes", () => {
  it("lands on the keyframe at or before t and reports its real timestamp", async () => {
    const r = await getFrames({ video: V.h264!, at: [0.4, 1.6, 2.5], resolution: low, mode: "tolerant" });
    expect(r.mode).toBe("tolerant");
    expect(r.frames.map((f) => f.timestamp)).toEqual([0, 1, 2]);
    expect(r.frames.map((f) => readIndex(f.rgb, f.width, f.height))).toEqual([0, 30, 60]);
  });

  it("is exact when every frame is a keyframe (mjpeg)", async () => {
    const r = await getFrames({ video: V.mjpeg!, at: [0.5, 1.23], resolution: low, mode: "tolerant" });
    expect(r.frames.map((f) => readIndex(f.rgb, f.width, f.height))).toEqual([10, 24]);
  });

  it("falls back to exact seeking when keyframes are sparse", async () => {
    const r = await getFrames({ video: V.vfr!, at: [1.55], resolution: low, mode: "tolerant" });
    expect(r.mode).toBe("exact");
    expect(r.warnings.join(" ")).toMatch(/keyframes/);
    expect(readIndex(r.frames[0]!.rgb, r.width, r.height)).toBe(5);
  });
});

describe("clips", () => {
  it("returns count frames over [start, end], tokens in pairs", async () => {
    const c = await getClip({ video: V.h264!, start: 0.5, end: 2.5, resolution: low });
    expect(c.frames).toHaveLength(16);
    expect(c.tokens).toBe(8 * (c.width / 28) * (c.height / 28));
    const idx = c.frames.map((f) => readIndex(f.rgb, f.width, f.height));
    expect(idx[0]).toBe(15);
    expect(idx[15]).toBe(75);
    expect(idx).toEqual(c.frames.map((f) => shownAt(f.requested, 30)));
  });

  it.each([
    [{ count: 7 }, "FM_ERR_ARGS_INVALID"],
    [{ count: 21 }, "FM_ERR_ARGS_INVALID"],
    [{ start: 2, end: 1 }, "FM_ERR_ARGS_INVALID"],
    [{ start: 1, end: 9 }, "FM_ERR_VIDEO_OUT_OF_RANGE"],
  ])("refuses %o", async (over, code) => {
    await expect(getClip({ video: V.h264!, start: 0.5, end: 1.5, resolution: low, ...over })).rejects.toMatchObject({ code });
  });
});

describe("regions", () => {
  // Bars 0-4 (the index's low five bits) fill the left half of the picture, bars 5-9 the right.
  it("crops frames to the region, sized at the rung like a whole frame, at fewer tokens", async () => {
    const whole = await getFrames({ video: V.h264!, at: [1.5], resolution: low });
    const left = await getFrames({ video: V.h264!, at: [0.5, 1.5, 2.9], resolution: low, region: [0, 0, 0.5, 1] });
    const right = await getFrames({ video: V.h264!, at: [1.5], resolution: low, region: [0.5, 0, 1, 1] });
    // 160x240 source pixels at 'low' (128 tokens max): 140x224, against 308x224 for the whole frame.
    expect([left.width, left.height, left.tokens]).toEqual([140, 224, 3 * 40]);
    expect([whole.width, whole.height, whole.tokens]).toEqual([308, 224, 88]);
    expect(left.region).toEqual([0, 0, 0.5, 1]);
    expect(left.frames.map((f) => readIndex(f.rgb, f.width, f.height, 0, 5))).toEqual([15, 45, 87].map((n) => n & 31));
    expect(readIndex(right.frames[0]!.rgb, right.width, right.height, 0, 5)).toBe(45 >> 5);
    expect(callCost("get_frames", 3, "low", { ladder: "qwen", video: { width: 320, height: 240 } }, [0, 0, 0.5, 1])).toBe(left.tokens);
  });

  it("a small region is never upscaled past the source; a clip takes a region too", async () => {
    const r = await getFrames({ video: V.h264!, at: [1], resolution: { ladder: "qwen", rung: "high" }, region: [0.25, 0.25, 0.5, 0.5] });
    expect(r.width * r.height).toBeLessThanOrEqual(80 * 60);
    const c = await getClip({ video: V.h264!, start: 0.5, end: 2.5, count: 8, resolution: low, region: [0.5, 0, 1, 1] });
    expect(c.frames.map((f) => readIndex(f.rgb, f.width, f.height, 0, 5))).toEqual(c.frames.map((f) => shownAt(f.requested, 30) >> 5));
    expect(c.tokens).toBe(4 * (c.width / 28) * (c.height / 28));
  });

  it("crops the upright picture of a rotated video", async () => {
    // Shown rotated 90 degrees clockwise, the bars run top to bottom: the top half holds bars 0-4.
    const r = await getFrames({ video: V.rot90!, at: [0.5], resolution: low, region: [0, 0, 1, 0.5] });
    expect(readIndex(r.frames[0]!.rgb, r.width, r.height, 90, 5)).toBe(15 & 31);
  });

  it.each([
    [[0.6, 0, 0.5, 1], /at least 0.02/],
    [[0, 0, 0.01, 1], /at least 0.02/],
    [[0, 0, 1.2, 1], /fractions from 0 to 1/],
  ])("refuses the region %o with a typed error", async (region, msg) => {
    const p = getFrames({ video: V.h264!, at: [1], resolution: low, region: region as [number, number, number, number] });
    await expect(p).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
    await expect(p).rejects.toThrow(msg);
  });
});
