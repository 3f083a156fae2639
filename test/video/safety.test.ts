/**
 * Bad input gets a typed error, never a crash or a hang: broken files, out-of-range times, paths
 * outside the roots or not regular files, timeouts and cancellation; nothing is left running.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { getFrames, probe, processStats, resolveVideoPath, type Resolution } from "../../src/video/index.js";
import { ffmpegChildren, fixtureVideo, makeBrokenFiles, tmpDir } from "../helpers/videos.js";

const low: Resolution = { ladder: "tiny", rung: "low" };
let good = "";
let dir = "";

beforeAll(async () => {
  good = await fixtureVideo({ width: 160, height: 120, fps: 25, frames: 50, gop: 25 });
  dir = tmpDir();
});

afterEach(() => {
  expect(processStats().live).toBe(0);
  expect(ffmpegChildren()).toEqual([]);
});

describe("broken inputs", () => {
  it("gives each broken file its typed error, from probe and from getFrames", async () => {
    const b = makeBrokenFiles(dir, readFileSync(good));
    const expected = { empty: "FM_ERR_VIDEO_NOT_A_VIDEO", text: "FM_ERR_VIDEO_NOT_A_VIDEO", truncated: "FM_ERR_VIDEO_CORRUPT" } as const;
    for (const [name, path] of Object.entries(b)) {
      const code = expected[name as keyof typeof expected];
      await expect(probe(path), name).rejects.toMatchObject({ name: "FramemindError", code });
      await expect(getFrames({ video: path, at: [0], resolution: low }), name).rejects.toMatchObject({ code });
    }
  });

  it("keeps ffmpeg's explanation in the error", async () => {
    const b = makeBrokenFiles(dir, readFileSync(good));
    const e = await probe(b.truncated).catch((x: unknown) => x as { message: string; detail?: string });
    expect(`${e.message} ${e.detail ?? ""}`).toMatch(/truncated|moov|corrupt/i);
  });
});

describe("out-of-range and invalid requests", () => {
  it.each([[[-1]], [[2.6]], [[Number.NaN]], [[Number.POSITIVE_INFINITY]]])("refuses at=%o", async (at) => {
    await expect(getFrames({ video: good, at, resolution: low })).rejects.toMatchObject({ code: "FM_ERR_VIDEO_OUT_OF_RANGE" });
  });

  it("refuses bad spans and too many frames", async () => {
    await expect(getFrames({ video: good, span: { start: 1, end: 0.5, count: 2 }, resolution: low })).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
    await expect(getFrames({ video: good, span: { start: 0, end: 1, count: 0 }, resolution: low })).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
    await expect(getFrames({ video: good, at: [], resolution: low })).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
    await expect(getFrames({ video: good, at: [0.1, 0.2, 0.3], resolution: low }, { maxFrames: 2 })).rejects.toMatchObject({ code: "FM_ERR_VIDEO_LIMIT" });
    await expect(getFrames({ video: good, at: [0], resolution: { ladder: "tiny", rung: "mid" } })).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
  });

  it("accepts a time just past the end as the last frame", async () => {
    const r = await getFrames({ video: good, at: [2.2], resolution: low });
    expect(r.frames[0]!.timestamp).toBeCloseTo(1.96, 2);
  });
});

describe("path policy", () => {
  let root = "";
  let outside = "";
  beforeAll(() => {
    root = join(dir, "root");
    mkdirSync(join(root, "sub"), { recursive: true });
    copyFileSync(good, join(root, "sub", "in.mp4"));
    outside = join(dir, "outside.mp4");
    copyFileSync(good, outside);
    symlinkSync(outside, join(root, "link.mp4"));
    mkdirSync(join(root, "folder.mp4"));
    execFileSync("mkfifo", [join(root, "pipe.mp4")]);
  });

  it("opens files inside the roots, relative to the first root", async () => {
    expect((await resolveVideoPath("sub/in.mp4", { roots: [root] })).size).toBeGreaterThan(0);
    const r = await getFrames({ video: "sub/in.mp4", at: [0.5], resolution: low }, { roots: [root] });
    expect(r.frames).toHaveLength(1);
  });

  it.each([
    ["an absolute path outside", () => outside, "FM_ERR_PATH_DENIED"],
    ["a .. escape", () => "sub/../../outside.mp4", "FM_ERR_PATH_DENIED"],
    ["a symlink escape", () => "link.mp4", "FM_ERR_PATH_DENIED"],
    ["a directory", () => "folder.mp4", "FM_ERR_VIDEO_NOT_A_FILE"],
    ["a FIFO", () => "pipe.mp4", "FM_ERR_VIDEO_NOT_A_FILE"],
    ["a missing file", () => "nope.mp4", "FM_ERR_VIDEO_NOT_FOUND"],
  ])("refuses %s", async (_what, path, code) => {
    await expect(probe(path(), { roots: [root] })).rejects.toMatchObject({ code });
    await expect(getFrames({ video: path(), at: [0], resolution: low }, { roots: [root] })).rejects.toMatchObject({ code });
  });

  it("refuses a size over the cap and a missing root", async () => {
    await expect(probe("sub/in.mp4", { roots: [root], maxBytes: 10 })).rejects.toMatchObject({ code: "FM_ERR_VIDEO_LIMIT" });
    await expect(probe("sub/in.mp4", { roots: [join(dir, "no-such-root")] })).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
  });
});

describe("timeouts and cancellation", () => {
  it("kills ffmpeg on timeout", async () => {
    await probe(good);
    await expect(getFrames({ video: good, at: [0.3, 1.1], resolution: low }, { timeoutMs: 1, noCache: true })).rejects.toMatchObject({ code: "FM_ERR_VIDEO_TIMEOUT" });
  });

  it("cancels a running request on abort", async () => {
    // One long GOP: frames near its end decode every frame before them, so the decode is still
    // running when the 1 ms watch sees it (two frames of a small clip could finish in between).
    const slow = await fixtureVideo({ width: 640, height: 480, fps: 25, frames: 250, gop: 250 });
    await probe(slow);
    const ac = new AbortController();
    // A decode is running: an ffmpeg process, or the in-process decoder on a pool thread (both counted).
    const watch = setInterval(() => processStats().running > 0 && ac.abort(), 1);
    try {
      await expect(getFrames({ video: slow, at: [9.5, 9.9], resolution: low }, { signal: ac.signal, noCache: true })).rejects.toMatchObject({ code: "FM_ERR_CANCELLED" });
    } finally {
      clearInterval(watch);
    }
  });

  it("does not start when already aborted", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(getFrames({ video: good, at: [0.3], resolution: low }, { signal: ac.signal, noCache: true })).rejects.toMatchObject({ code: "FM_ERR_CANCELLED" });
  });
});

describe("no stray files", () => {
  it("writes nothing beside the input", () => {
    writeFileSync(join(dir, "marker"), "");
    expect(execFileSync("ls", [dir], { encoding: "utf8" }).split("\n").filter((f) => /tmp/.test(f))).toEqual([]);
  });
});
