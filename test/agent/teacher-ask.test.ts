/** Teacher trajectories and `framemind ask`, end to end on a generated dataset (real ffmpeg). */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TrajectorySchema } from "../../src/agent/trajectory.js";
import { command as ask } from "../../src/cli/commands/ask.js";
import { letterOptions } from "../../src/agent/protocol.js";
import { processStats } from "../../src/video/index.js";
import { writeTeacherTrajectories } from "../../datasets/teacher.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { makeIndexVideo, tmpDir } from "../helpers/videos.js";

let dir: string;
let dataset: string;
const servers: FakeOpenAI[] = [];

const items = [
  { id: "q1", video: "v.mp4", question: "Which digit?", options: ["A. 3", "B. 7"], answer: "A", answer_type: "option", evidence: [{ start: 1.0, end: 1.6, min_pixels: 5000 }], meta: {} },
  { id: "q2", video: "v.mp4", question: "How many flashes?", answer: "3", answer_type: "number", evidence: [{ start: 3.0, end: 5.0, min_pixels: 5000 }], meta: { look: { tool: "get_clip", frames: 8 } } },
  { id: "q3", video: "v.mp4", question: "No evidence known", answer: "x", answer_type: "word", meta: {} },
];

beforeAll(async () => {
  dir = tmpDir();
  await makeIndexVideo({ out: join(dir, "v.mp4"), width: 160, height: 90, fps: 10, frames: 60, gop: 5 });
  dataset = join(dir, "set.jsonl");
  writeFileSync(dataset, items.map((i) => JSON.stringify(i)).join("\n") + "\n");
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  expect(processStats().live).toBe(0);
});

describe("writeTeacherTrajectories", () => {
  it("runs the oracle through the loop for each item with evidence and writes one record a line", async () => {
    const out = join(dir, "out", "teacher.jsonl");
    const progress: Array<[number, number]> = [];
    const r = await writeTeacherTrajectories(dataset, out, { seed: 7, ladder: "tiny", onProgress: (d, t) => progress.push([d, t]) });
    expect(r).toEqual({ count: 2, skipped: 1, answered: 2 });
    expect(progress.at(-1)).toEqual([2, 2]);
    const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => TrajectorySchema.parse(JSON.parse(l)));
    expect(lines.map((l) => [l.item?.id, l.answer, l.stopReason])).toEqual([["q1", "A", "answer"], ["q2", "3", "answer"]]);
    expect(lines[0]!.meta).toEqual({ teacher: { seed: 7, dataset, answerType: "option" } });
    expect(lines[0]!.settings.ladder).toBe("tiny");
    // The item's look hint chose a dense clip.
    const clip = lines[1]!.turns.find((t) => t.call)!;
    expect(clip.call!.name).toBe("get_clip");
    expect(clip.result!.timestamps).toHaveLength(8);
  });
});

describe("writeTeacherTrajectories failures", () => {
  it("a broken video fails the run with its typed error, stops the other workers and writes nothing", async () => {
    writeFileSync(join(dir, "bad.mp4"), "this is not a video\n");
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, [{ ...items[0], id: "ok" }, { ...items[0], id: "broken", video: "bad.mp4" }].map((i) => JSON.stringify(i)).join("\n"));
    const out = join(dir, "bad-out.jsonl");
    await expect(writeTeacherTrajectories(bad, out, { seed: 1, ladder: "tiny" })).rejects.toMatchObject({ code: expect.stringMatching(/^FM_ERR_VIDEO_(NOT_A_VIDEO|CORRUPT)$/) });
    expect(processStats().live).toBe(0);
    expect(() => readFileSync(out)).toThrow();
  });
});

async function runAsk(argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void (out += a.join(" ") + "\n"));
  const write = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  try {
    return { code: await ask.run(argv), out };
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}

describe("framemind ask", () => {
  it("letters bare options", () => {
    expect(letterOptions(["red", "B. blue"])).toEqual(["A. red", "B. blue"]);
  });

  it("oracle with --item prints the turns and the answer, and saves the trajectory", async () => {
    const traj = join(dir, "ask.json");
    const { code, out } = await runAsk(["--policy", "oracle", "--item", `${dataset}:q1`, "--ladder", "tiny", "--seed", "2", "--trajectory", traj]);
    expect(code).toBe(0);
    expect(out).toMatch(/^video .*v\.mp4 \(6\.0 s, 160x90, 10 fps\) \| policy oracle \| ladder tiny \| 4 turns, 256 visual tokens$/m);
    expect(out).toMatch(/^\[overview\] saw 8 frame\(s\) at rung low, 56x28, 16 tokens/m);
    expect(out).toMatch(/^\[turn 1\] think: /m);
    expect(out).toMatch(/^\[turn \d\] call get_frames \{"timestamps":\[[\d.,]+\],"rung":"high","mode":"exact"\}$/m);
    expect(out).toMatch(/^\[turn \d\] got \d frame\(s\) at rung high, 140x84/m);
    expect(out).toMatch(/\nanswer: A\n$/);
    const rec = TrajectorySchema.parse(JSON.parse(readFileSync(traj, "utf8")));
    expect(rec.item).toEqual({ id: "q1", file: dataset });
    expect(rec.options).toEqual(["A. 3", "B. 7"]);
  });

  it("openai against a local server with --json prints the record", async () => {
    const server = await startFakeOpenAI([{ content: "<think>It is red.</think><answer>A</answer>" }]);
    servers.push(server);
    const { code, out } = await runAsk([join(dir, "v.mp4"), "What colour?", "--options", "red,blue", "--base-url", server.url, "--model", "m1", "--frames", "4", "--rung", "mid", "--budget", "1000", "--json"]);
    expect(code).toBe(0);
    const rec = TrajectorySchema.parse(JSON.parse(out));
    expect(rec.answer).toBe("A");
    expect(rec.options).toEqual(["A. red", "B. blue"]);
    expect(rec.settings).toMatchObject({ ladder: "qwen", maxVisualTokens: 1000, firstObservation: { frames: 4, rung: "mid", source: "settings" } });
  });

  it("--checkpoint answers with that model folder (the record names its version); a missing folder is a typed error", async () => {
    const { code, out } = await runAsk([join(dir, "v.mp4"), "Which digit?", "--checkpoint", "models/framemind-tiny/uniform", "--max-turns", "1", "--json"]);
    expect(code).toBe(0);
    const rec = TrajectorySchema.parse(JSON.parse(out));
    expect(rec.policy).toMatchObject({ id: "tiny", modelVersion: expect.stringMatching(/-uniform\.\d+\+[0-9a-f]{12}$/) });
    await expect(ask.run([join(dir, "v.mp4"), "q?", "--checkpoint", join(dir, "no-model")])).rejects.toMatchObject({ code: "FM_ERR_MODEL_NOT_FOUND" });
  });

  it("bad flags and unknown policies are typed errors", async () => {
    await expect(ask.run(["v.mp4", "q?", "--policy", "oracle"])).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
    await expect(ask.run(["v.mp4", "q?", "--frames", "4"])).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
    await expect(ask.run([join(dir, "v.mp4"), "q?", "--policy", "nope"])).rejects.toMatchObject({ code: "FM_ERR_POLICY_UNKNOWN" });
  });
});
