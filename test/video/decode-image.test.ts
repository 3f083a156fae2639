/** Image decoding in the video layer: real ffmpeg, PNG exact, JPEG close, resizing, typed refusals. */
import { afterAll, describe, expect, it, vi } from "vitest";
import { decodeImages, encodeJpegs, encodePng, processStats, readImageHeader } from "../../src/video/index.js";
import { indexFrame, readIndex } from "../helpers/videos.js";

vi.setConfig({ testTimeout: 60_000 });

afterAll(() => expect(processStats().live).toBe(0));

const W = 160;
const H = 96;
const img = (n: number) => ({ width: W, height: H, rgb: indexFrame(n, W, H) });
const meanAbsDiff = (a: Buffer, b: Buffer) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

describe("decodeImages", () => {
  it("reads sizes from headers", async () => {
    const [jpeg] = await encodeJpegs([img(5)]);
    expect(readImageHeader(jpeg!)).toEqual({ type: "jpeg", width: W, height: H });
    expect(readImageHeader(encodePng(img(5)))).toEqual({ type: "png", width: W, height: H });
  });

  it("decodes PNG exactly and a JPEG batch closely, in input order, one run per type", async () => {
    const jpegs = await encodeJpegs([img(1), img(700), img(3)], { quality: 90 });
    const out = await decodeImages([jpegs[0]!, encodePng(img(42)), jpegs[1]!, jpegs[2]!]);
    expect(out.map((o) => o.type)).toEqual(["jpeg", "png", "jpeg", "jpeg"]);
    expect(out[1]!.rgb.equals(img(42).rgb)).toBe(true);
    expect(out.map((o) => readIndex(o.rgb, o.width, o.height))).toEqual([1, 42, 700, 3]);
    expect(meanAbsDiff(out[2]!.rgb, img(700).rgb)).toBeLessThan(6);
  });

  it("resizes to a requested size (the tiny ladder's rung)", async () => {
    const [o] = await decodeImages([encodePng(img(513))], { size: { width: 56, height: 28 } });
    expect(o).toMatchObject({ width: 56, height: 28, source: { width: W, height: H } });
    expect(o!.rgb.length).toBe(56 * 28 * 3);
  });

  it("refuses other types, damage and oversized pictures with typed errors", async () => {
    await expect(decodeImages([Buffer.from("GIF89a......")])).rejects.toMatchObject({ code: "FM_ERR_IMAGE_UNSUPPORTED", status: 415 });
    await expect(decodeImages([Buffer.from("hello, not an image")])).rejects.toMatchObject({ code: "FM_ERR_IMAGE_UNSUPPORTED" });
    const [jpeg] = await encodeJpegs([img(9)]);
    await expect(decodeImages([jpeg!.subarray(0, 40)])).rejects.toMatchObject({ code: "FM_ERR_IMAGE_CORRUPT", status: 422 });
    // The header is whole, the picture data cut short: ffmpeg's complaint becomes the error.
    const good = encodePng(img(7));
    const err = await decodeImages([good, jpeg!.subarray(0, Math.floor(jpeg!.length * 0.6))], { labels: ["a", "b"] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "FM_ERR_IMAGE_CORRUPT" });
    expect((err as Error).message).toMatch(/^b could not be decoded/);
    await expect(decodeImages([good], { maxPixels: 100 })).rejects.toMatchObject({ code: "FM_ERR_IMAGE_LIMIT", status: 413 });
    await expect(decodeImages([good], { maxBytes: 10 })).rejects.toMatchObject({ code: "FM_ERR_IMAGE_LIMIT" });
  });
});
