/** The agent tools: zod schemas as the policy sees them, and run() over the video layer. */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { getClipTool, getFramesTool, POLICY_TOOLS, probeVideoTool } from "../../tools/index.js";
import { processStats } from "../../src/video/index.js";
import { fixtureVideo, readIndex } from "../helpers/videos.js";

let video = "";
beforeAll(async () => {
  video = await fixtureVideo({ width: 320, height: 180, fps: 25, frames: 50, gop: 25 });
});
afterEach(() => expect(processStats().live).toBe(0));

describe("tool schemas", () => {
  const frames = getFramesTool.schema("qwen");
  it.each([
    [{ timestamps: [1, 2], rung: "low" }, true],
    [{ start: 0, end: 2, count: 4, rung: "high" }, true],
    [{ timestamps: [1], start: 0, rung: "low" }, false],
    [{ start: 0, end: 2, rung: "low" }, false],
    [{ timestamps: [1], rung: "ultra" }, false],
    [{ timestamps: [-1], rung: "low" }, false],
    [{ timestamps: [], rung: "low" }, false],
  ])("get_frames %o -> valid %s", (args, ok) => {
    expect(frames.safeParse(args).success).toBe(ok);
  });

  it("rungs follow the ladder", () => {
    expect(getFramesTool.schema("tiny").safeParse({ timestamps: [1], rung: "mid" }).success).toBe(false);
    expect(getClipTool.schema("tiny").safeParse({ start: 0, end: 1, rung: "high" }).success).toBe(true);
    expect(getClipTool.schema("qwen").safeParse({ start: 1, end: 1, rung: "low" }).success).toBe(false);
    expect(POLICY_TOOLS.map((t) => t.name)).toEqual(["get_frames", "get_clip"]);
  });
});

describe("tool runs", () => {
  const ctx = { ladder: "tiny" as const, paths: {} };
  it("get_frames returns frames, timestamps (0.1 s protocol) and tokens", async () => {
    const args = getFramesTool.schema("tiny").parse({ timestamps: [0.44, 1.23], rung: "high" });
    const r = await getFramesTool.run(video, args, ctx);
    // Timestamps are rounded to 0.1 s as the protocol writes them: 0.4 -> frame 10, 1.2 -> frame 30.
    expect(r.frames.map((f) => readIndex(f.rgb, f.width, f.height))).toEqual([10, 30]);
    expect(r.timestamps).toEqual([0.4, 1.2]);
    expect(r.tokens).toBe(2 * (r.width / 28) * (r.height / 28));
    expect(r).toMatchObject({ rung: "high", mode: "exact" });
  });

  it("get_clip and probe_video", async () => {
    const c = await getClipTool.run(video, getClipTool.schema("tiny").parse({ start: 0, end: 1.5, count: 8, rung: "low" }), ctx);
    expect(c.frames).toHaveLength(8);
    const p = await probeVideoTool.run(video, {}, ctx);
    expect(p).toMatchObject({ width: 320, height: 180, fps: 25 });
  });
});
