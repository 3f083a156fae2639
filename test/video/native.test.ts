/**
 * The in-process libav fast path (native/libav) against the ffmpeg CLI path on the same requests:
 * same frames (index read back from the pixels), same timestamps, same sizes, pixels within a
 * rounding difference; fallbacks to the CLI, cancellation, and a free event loop. Skipped when
 * the optional addon is not installed (the rest of the suite then covers the CLI path alone).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { binaries, clearFrameCache, decoderStatus, getClip, getFrames, nativeStats, nativeStreamInfo, probe, processStats, setDecoder, type FrameMode, type FramesResult, type Resolution } from "../../src/video/index.js";
import { ffmpegChildren, makeBrokenFiles, readIndex, standardFixtures, tmpDir, VFR_TIMES } from "../helpers/videos.js";

const active = decoderStatus().active;
const low: Resolution = { ladder: "qwen", rung: "low" };
const V: Record<string, string> = {};

/** Mean absolute difference per byte between two frames of the same size. */
function meanAbsDiff(a: Buffer, b: Buffer): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

async function both<T extends FramesResult>(run: () => Promise<T>): Promise<{ cli: T; lib: T }> {
  setDecoder("cli");
  const cli = await run();
  setDecoder(undefined);
  const before = nativeStats();
  const lib = await run();
  // The fast path really decoded it (no silent fallback to the CLI).
  expect(nativeStats().fallbacks).toBe(before.fallbacks);
  expect(nativeStats().calls).toBeGreaterThan(before.calls);
  return { cli, lib };
}

function expectSame(cli: FramesResult, lib: FramesResult, rotation: 0 | 90 = 0): void {
  expect({ w: lib.width, h: lib.height, mode: lib.mode, tokens: lib.tokens }).toEqual({ w: cli.width, h: cli.height, mode: cli.mode, tokens: cli.tokens });
  expect(lib.frames.map((f) => f.timestamp)).toEqual(cli.frames.map((f) => f.timestamp));
  expect(lib.frames.map((f) => f.requested)).toEqual(cli.frames.map((f) => f.requested));
  expect(lib.frames.map((f) => readIndex(f.rgb, f.width, f.height, rotation))).toEqual(cli.frames.map((f) => readIndex(f.rgb, f.width, f.height, rotation)));
  lib.frames.forEach((f, i) => {
    expect(f.rgb.length).toBe(f.width * f.height * 3);
    expect(meanAbsDiff(f.rgb, cli.frames[i]!.rgb)).toBeLessThan(3);
  });
}

describe.skipIf(!active)("in-process libav decoder", () => {
  beforeAll(async () => {
    Object.assign(V, await standardFixtures());
  });

  afterEach(() => {
    setDecoder(undefined);
    expect(processStats().live).toBe(0);
    expect(ffmpegChildren()).toEqual([]);
  });

  afterAll(() => setDecoder(undefined));

  it("reports the stream as ffprobe does", async () => {
    const info = await nativeStreamInfo(V.rot90!);
    const p = await probe(V.rot90!);
    expect(info).toMatchObject({ codec: p.codec, pixFmt: p.pixFmt, codedWidth: p.codedWidth, codedHeight: p.codedHeight, rotation: p.rotation });
    expect(info.fps).toBeCloseTo(p.fps, 3);
  });

  it.each([
    ["h264", "exact", [0, 0.01, 0.5, 1.0, 1.49, 2.0, 2.5, 2.95, 3.2]],
    ["h264", "tolerant", [0.4, 1.6, 2.5, 2.99]],
    ["vp9", "exact", [0.2, 1.0, 1.5, 1.96]],
    ["vp9", "tolerant", [0.2, 1.0, 1.5, 1.96]],
    ["mjpeg", "exact", [0, 0.5, 1.23, 1.9]],
    ["mjpeg", "tolerant", [0.5, 1.23]],
    ["vfr", "exact", [0.05, 0.65, 0.72, 1.0, 1.55, 2.9]],
    ["vfr", "tolerant", [1.55]],
    ["short", "exact", [0, 0.1, 0.2, 0.39]],
  ] as const)("%s %s: same frames, timestamps and sizes as the CLI", async (name, mode, times) => {
    const { cli, lib } = await both(() => getFrames({ video: V[name]!, at: times, resolution: low, mode: mode as FrameMode }, { noCache: true }));
    expectSame(cli, lib);
  });

  it("turns a rotated video upright like the CLI", async () => {
    const { cli, lib } = await both(() => getFrames({ video: V.rot90!, at: [0.1, 0.5, 0.9], resolution: low }, { noCache: true }));
    expect(lib.height).toBeGreaterThan(lib.width);
    expectSame(cli, lib, 90);
  });

  it("gives the same clip at another ladder", async () => {
    const { cli, lib } = await both(() => getClip({ video: V.h264!, start: 0.5, end: 2.5, resolution: { ladder: "tiny", rung: "high" } }, { noCache: true }));
    expectSame(cli, lib);
  });

  it("gives the same typed errors for broken files (the CLI decides them)", async () => {
    const dir = tmpDir();
    const broken = makeBrokenFiles(dir, readFileSync(V.h264!));
    for (const f of Object.values(broken)) {
      setDecoder("cli");
      const cliErr = await getFrames({ video: f, at: [0], resolution: low }, { noCache: true }).catch((e: unknown) => e);
      setDecoder(undefined);
      const libErr = await getFrames({ video: f, at: [0], resolution: low }, { noCache: true }).catch((e: unknown) => e);
      expect((libErr as { code?: string }).code).toBe((cliErr as { code?: string }).code);
    }
  });

  it("leaves raw annex-B h264 (no index, no container timestamps) to the CLI", async () => {
    const dir = tmpDir();
    const raw = join(dir, "raw.h264");
    execFileSync(binaries().ffmpeg.path, ["-v", "error", "-i", V.h264!, "-an", "-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", raw]);
    setDecoder("cli");
    const cli = await getFrames({ video: raw, at: [1.0], resolution: low }, { noCache: true });
    setDecoder(undefined);
    const before = nativeStats().calls;
    const lib = await getFrames({ video: raw, at: [1.0], resolution: low }, { noCache: true });
    // Only indexed containers (mp4/mov, mkv/webm, avi) go in-process; the CLI estimates raw streams' times.
    expect(nativeStats().calls).toBe(before);
    expect(readIndex(lib.frames[0]!.rgb, lib.width, lib.height)).toBe(readIndex(cli.frames[0]!.rgb, cli.width, cli.height));
    expect(lib.frames[0]!.timestamp).toBe(cli.frames[0]!.timestamp);
  });

  it("keeps the event loop free and stops on abort", async () => {
    clearFrameCache();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const ac = new AbortController();
    const many = Array.from({ length: 60 }, (_, k) => (k * 1.9) / 59);
    const run = getFrames({ video: V.vp9!, at: many, resolution: { ladder: "qwen", rung: "high" } }, { noCache: true, signal: ac.signal });
    setTimeout(() => ac.abort(), 1);
    await expect(run).rejects.toMatchObject({ code: "FM_ERR_CANCELLED" });
    const done = await getFrames({ video: V.h264!, at: [0.5, 1.5, 2.5], resolution: low }, { noCache: true });
    clearInterval(timer);
    expect(done.frames).toHaveLength(3);
    expect(ticks).toBeGreaterThan(0);
  });

  it("is switched off by FRAMEMIND_DECODER=cli", () => {
    const old = process.env.FRAMEMIND_DECODER;
    process.env.FRAMEMIND_DECODER = "cli";
    try {
      expect(decoderStatus()).toMatchObject({ active: false, choice: "cli" });
    } finally {
      if (old === undefined) delete process.env.FRAMEMIND_DECODER;
      else process.env.FRAMEMIND_DECODER = old;
    }
    expect(decoderStatus().active).toBe(true);
  });
});
