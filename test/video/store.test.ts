/**
 * The per-video frame store (enableFrameStore): the whole video decoded once per size, then
 * lookups that give the same frames and timestamps as a normal decode. Needs the in-process decoder.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decoderStatus, enableFrameStore, frameStoreStats, getClip, getFrames, type FrameMode, type Resolution } from "../../src/video/index.js";
import { fixtureVideo, readIndex, VFR_TIMES } from "../helpers/videos.js";

const low: Resolution = { ladder: "qwen", rung: "low" };
const V: Record<string, string> = {};

describe.skipIf(!decoderStatus().active)("frame store", () => {
  beforeAll(async () => {
    V.h264 = await fixtureVideo({ width: 320, height: 240, fps: 30, frames: 90, gop: 30, audio: true });
    V.vfr = await fixtureVideo({ width: 320, height: 240, fps: 30, frames: VFR_TIMES.length, gop: 100, frameTimes: VFR_TIMES });
    V.rot90 = await fixtureVideo({ width: 320, height: 240, fps: 30, frames: 30, gop: 30, rotation: 90 });
  });
  afterAll(() => enableFrameStore(false));

  it.each([
    ["h264", "exact", [0, 0.01, 0.5, 1.0, 1.49, 2.0, 2.95, 3.2]],
    ["h264", "tolerant", [0.4, 1.6, 2.5, 2.99]],
    ["vfr", "exact", [0.05, 0.65, 0.72, 1.0, 1.55, 2.9]],
    ["rot90", "exact", [0.1, 0.5, 0.9]],
  ] as const)("%s %s: the same frames as a decode", async (name, mode, times) => {
    enableFrameStore(false);
    const ref = await getFrames({ video: V[name]!, at: times, resolution: low, mode: mode as FrameMode }, { noCache: true });
    enableFrameStore({ maxDurationS: 10 });
    const got = await getFrames({ video: V[name]!, at: times, resolution: low, mode: mode as FrameMode }, { noCache: true });
    expect(frameStoreStats().decodes).toBe(1);
    const rot = name === "rot90" ? 90 : 0;
    expect(got.frames.map((f) => f.timestamp)).toEqual(ref.frames.map((f) => f.timestamp));
    expect(got.frames.map((f) => readIndex(f.rgb, f.width, f.height, rot))).toEqual(ref.frames.map((f) => readIndex(f.rgb, f.width, f.height, rot)));
    expect([got.width, got.height, got.tokens]).toEqual([ref.width, ref.height, ref.tokens]);
  });

  it("decodes a video once per size; later requests are lookups", async () => {
    enableFrameStore({ maxDurationS: 10 });
    await getFrames({ video: V.h264!, at: [0.5], resolution: low }, { noCache: true });
    await getClip({ video: V.h264!, start: 0.5, end: 2.5, resolution: low }, { noCache: true });
    await getFrames({ video: V.h264!, span: { start: 0, end: 3, count: 8 }, resolution: low, mode: "tolerant" }, { noCache: true });
    expect(frameStoreStats().decodes).toBe(1);
    await getFrames({ video: V.h264!, at: [0.5], resolution: { ladder: "tiny", rung: "high" } }, { noCache: true });
    expect(frameStoreStats()).toMatchObject({ enabled: true, decodes: 2 });
  });

  it("leaves longer videos to the normal decode", async () => {
    enableFrameStore({ maxDurationS: 1 });
    const r = await getFrames({ video: V.h264!, at: [2.0], resolution: low }, { noCache: true });
    expect(readIndex(r.frames[0]!.rgb, r.width, r.height)).toBe(60);
    expect(frameStoreStats().decodes).toBe(0);
  });
});
