/** The built CLI (`npm test` builds first): documented JSON on success (exit 0), {"error"} with exit 2. */
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fixtureVideo, tmpDir } from "../helpers/videos.js";

const BIN = resolve("dist/src/cli/framemind.js");

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; json: Record<string, unknown> }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env }, (err, stdout) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      done({ code: typeof code === "number" ? code : 1, json: stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {} });
    });
  });
}

let video = "";
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` (npm test does) first`);
  video = await fixtureVideo({ width: 320, height: 180, fps: 25, frames: 50, gop: 25 });
});

describe("framemind doctor", () => {
  it("reports the frame decoder, and FRAMEMIND_DECODER=cli turns the in-process one off", async () => {
    const r = await cli(["doctor", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json.decoder).toMatchObject({ active: expect.any(Boolean), reason: expect.any(String) });
    // The shipped model's card and experts, each expert's folder present (no warning).
    expect(r.json.model).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), experts: expect.any(Array) });
    expect((r.json.warnings as string[]).filter((w) => !w.includes("is recommended"))).toEqual([]);
    const off = await cli(["doctor", "--json"], { ...process.env, FRAMEMIND_DECODER: "cli" });
    expect(off.json.decoder).toMatchObject({ active: false, choice: "cli" });
  });
});

describe("framemind probe / frames", () => {
  it("probe --json prints the video description", async () => {
    const r = await cli(["probe", video, "--json"]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ path: video, codec: "h264", width: 320, height: 180, fps: 25, frameCount: 50, hasAudio: false });
  });

  it("frames --json prints {video, frames: [{timestamp, width, height, tokens, file}], tokens}", async () => {
    const out = tmpDir();
    const r = await cli(["frames", video, "--at", "0.5,1.5", "--rung", "mid", "--out", out, "--json"]);
    expect(r.code).toBe(0);
    const frames = r.json.frames as Array<Record<string, unknown>>;
    expect(r.json.video).toBe(video);
    // 25 fps: the frames shown at 0.5 s and 1.5 s are 12 and 37.
    expect(frames.map((f) => f.timestamp)).toEqual([0.48, 1.48]);
    for (const f of frames) {
      expect(f).toMatchObject({ width: expect.any(Number), height: expect.any(Number), tokens: expect.any(Number), file: expect.stringMatching(/\.png$/) });
      expect(existsSync(f.file as string)).toBe(true);
    }
    expect(r.json.tokens).toBe(frames.reduce((n, f) => n + (f.tokens as number), 0));
    expect(readdirSync(out)).toHaveLength(2);
  });

  it("frames --region crops to that part of the picture and says so", async () => {
    const r = await cli(["frames", video, "--at", "1", "--rung", "high", "--region", "0.5,0,1,0.5", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json.region).toEqual([0.5, 0, 1, 0.5]);
    const whole = await cli(["frames", video, "--at", "1", "--rung", "high", "--json"]);
    expect(r.json.tokens as number).toBeLessThan(whole.json.tokens as number);
    const bad = await cli(["frames", video, "--at", "1", "--region", "0.5,0,1", "--json"]);
    expect(bad.code).toBe(2);
    expect(bad.json).toMatchObject({ error: { code: "FM_ERR_ARGS_INVALID", message: expect.stringContaining("region") } });
  });

  it("frames over an interval with explicit pixels, tolerant", async () => {
    const r = await cli(["frames", video, "--start", "0", "--end", "1.9", "--count", "3", "--min-pixels", "3136", "--max-pixels", "12544", "--tolerant", "--json"]);
    expect(r.code).toBe(0);
    expect(r.json.mode).toBe("tolerant");
    expect((r.json.frames as Array<{ timestamp: number; tokens: number }>).map((f) => f.timestamp)).toEqual([0, 0, 1]);
  });

  it.each([
    [["frames", "/no/such/video.mp4", "--at", "1", "--json"], "FM_ERR_VIDEO_NOT_FOUND"],
    [["frames", "VIDEO", "--at", "99", "--json"], "FM_ERR_VIDEO_OUT_OF_RANGE"],
    [["frames", "VIDEO", "--rung", "huge", "--at", "1"], "FM_ERR_ARGS_INVALID"],
    [["frames", "VIDEO", "--exact", "--tolerant", "--at", "1"], "FM_ERR_ARGS_INVALID"],
    [["probe", "VIDEO", "--roots", "/proc/self", "--json"], "FM_ERR_PATH_DENIED"],
    [["probe", "VIDEO", "--bogus"], "FM_ERR_ARGS_INVALID"],
  ])("%o prints {error: {code, message}} and exits 2", async (args, code) => {
    const r = await cli(args.map((a) => (a === "VIDEO" ? video : a)));
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ error: { code, message: expect.any(String) } });
  });
});
