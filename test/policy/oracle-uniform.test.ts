/** The oracle and uniform policies through the real loop on a generated video. */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answer } from "../../src/agent/loop.js";
import { TrajectorySchema, type Trajectory } from "../../src/agent/trajectory.js";
import { createPolicy } from "../../src/policy/index.js";
import { legibleRung } from "../../src/policy/oracle.js";
import { evidenceRecall } from "../../src/eval/evidence.js";
import { processStats } from "../../src/video/index.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { makeIndexVideo, tmpDir } from "../helpers/videos.js";

let video: string;
const servers: FakeOpenAI[] = [];

beforeAll(async () => {
  video = await makeIndexVideo({ out: join(tmpDir(), "index.mp4"), width: 160, height: 90, fps: 10, frames: 60, gop: 5 });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  expect(processStats().live).toBe(0);
});

// On the tiny ladder a 160x90 video gives 56x28 frames at `low` and 140x84 at `high`.
const item = { id: "digit-1", answer: "B", evidence: [{ start: 2.0, end: 2.6, min_pixels: 5000 }], meta: {} };
const question = { question: "Which digit flashes?", options: ["A. 3", "B. 7", "C. 9"] };

/** Some frame the policy saw covers the interval (the one definition, src/eval/evidence.ts). */
const covers = (r: Trajectory, iv: { start: number; end: number; min_pixels: number }) => evidenceRecall(r.framesSeen, [iv]) === true;

async function runOracle(seed: number, settings: Record<string, unknown> = {}, it = item) {
  const policy = await createPolicy("oracle", { item: it, seed });
  const r = await answer({ video, ...question, policy, settings: { ladder: "tiny", ...settings } });
  expect(TrajectorySchema.parse(JSON.parse(JSON.stringify(r.record)))).toEqual(r.record);
  return r.record;
}

describe("oracle policy", () => {
  it("picks the smallest legible rung", () => {
    expect(legibleRung("tiny", { width: 160, height: 90 }, 5000)).toBe("high");
    expect(legibleRung("tiny", { width: 160, height: 90 }, 1000)).toBe("low");
    expect(legibleRung("tiny", { width: 160, height: 90 }, 10 ** 6)).toBe("full"); // no rung reaches it: the top one
  });

  it("looks at the evidence interval at a legible rung and answers the item's answer, for many seeds", async () => {
    const records = [];
    for (let seed = 0; seed < 4; seed++) records.push(await runOracle(seed));
    for (const r of records) {
      expect(r.policy).toEqual({ id: "oracle", settings: { seed: records.indexOf(r) } });
      expect(r.answer).toBe("B");
      expect(r.stopReason).toBe("answer");
      expect(r.invalidCalls).toBe(0);
      expect(r.turns.length).toBeGreaterThanOrEqual(2);
      expect(r.turns.length).toBeLessThanOrEqual(4);
      // The overview (low, 1568 px) cannot cover the interval; the oracle's look does.
      expect(r.firstObservation!.width * r.firstObservation!.height).toBeLessThan(5000);
      expect(covers(r, item.evidence[0]!)).toBe(true);
      const looks = r.turns.filter((t) => t.call);
      expect(looks.at(-1)!.call!.arguments.rung).toBe("high");
      expect(r.evidenceCited.some((t) => t >= 2.0 && t <= 2.6)).toBe(true);
      for (const t of r.turns) expect(t.formatIssues).toEqual([]);
      expect(r.turns.at(-1)!.text).toMatch(/^<think>.+<\/think>\n<answer>B<\/answer>$/s);
    }
    // Wording and turn counts vary with the seed...
    expect(new Set(records.map((r) => r.turns[0]!.text)).size).toBeGreaterThan(1);
    // ...and repeat exactly for the same seed.
    const again = await runOracle(3);
    expect(again.turns.map((t) => t.text)).toEqual(records[3]!.turns.map((t) => t.text));
  });

  it("answers at once when it must (one turn) and when the overview already covers the evidence", async () => {
    const forced = await runOracle(1, { maxTurns: 1 });
    expect(forced.turns).toHaveLength(1);
    expect(forced.answer).toBe("B");
    expect(forced.turns[0]!.mustAnswer).toBe(true);
    const easy = await runOracle(1, {}, { ...item, evidence: [{ start: 0, end: 6, min_pixels: 100 }] });
    expect(easy.turns).toHaveLength(1);
    expect(easy.answer).toBe("B");
  });

  it("with more separate moments than turns, looks inside each of them in one call", async () => {
    const many = { ...item, evidence: [0.5, 2.0, 3.2, 4.5].map((s) => ({ start: s, end: s + 0.4, min_pixels: 5000 })) };
    const r = await runOracle(4, { maxTurns: 3 }, many);
    expect(r.turns).toHaveLength(2);
    expect(r.turns[0]!.call).toEqual({ name: "get_frames", arguments: { timestamps: [0.7, 2.2, 3.4, 4.7], rung: "high", mode: "exact" }, source: "text" });
    for (const iv of many.evidence) expect(covers(r, iv)).toBe(true);
    expect(r.answer).toBe("B");
  });

  it("needs an item with evidence", async () => {
    await expect(createPolicy("oracle", {})).rejects.toMatchObject({ code: "FM_ERR_POLICY_CONFIG" });
    await expect(createPolicy("oracle", { item: { ...item, evidence: [] } })).rejects.toMatchObject({ code: "FM_ERR_POLICY_CONFIG" });
  });
});

describe("uniform policy", () => {
  it("without an answering model: N frames at one rung, one turn, a placeholder answer", async () => {
    const policy = await createPolicy("uniform", { frames: 4, rung: "high" });
    const { record } = await answer({ video, ...question, policy, settings: { ladder: "tiny" } });
    TrajectorySchema.parse(record);
    expect(record.policy.id).toBe("uniform");
    expect(record.settings.firstObservation).toEqual({ frames: 4, rung: "high", mode: "tolerant", source: "policy" });
    expect(record.settings.maxTurns).toBe(1);
    expect(record.firstObservation).toMatchObject({ width: 140, height: 84, tokens: 60 });
    expect(record.turns).toHaveLength(1);
    expect(record.answer).toBe("unknown");
    expect(record.warnings).toContain("turn 0: uniform policy without an answering model: the answer is a placeholder");
  });

  it("with an OpenAI-compatible answerer: one request with every frame and no tools", async () => {
    const server = await startFakeOpenAI([{ content: "<think>The digit looks like a 7.</think><answer>B</answer>" }]);
    servers.push(server);
    const policy = await createPolicy("uniform", { frames: 6, rung: "low", openai: { baseUrl: server.url, model: "fake-vlm-1" } });
    const { record } = await answer({ video, ...question, policy, settings: { ladder: "qwen" } });
    TrajectorySchema.parse(record);
    expect(record.policy).toMatchObject({ id: "uniform+openai:fake-vlm-1", modelVersion: "fake-vlm-1", settings: { frames: 6, rung: "low", model: "fake-vlm-1" } });
    expect(record.answer).toBe("B");
    expect(record.turns).toHaveLength(1);
    expect(record.tokens.visual).toBe(6 * 18);
    expect(server.requests).toHaveLength(1);
    const body = server.requests[0]!.body;
    expect(body.tools).toBeUndefined();
    const parts = body.messages[1]!.content as Array<{ type: string; text?: string }>;
    expect(parts.filter((p) => p.type === "image_url")).toHaveLength(6);
    expect(parts[0]!.text).toContain("This is your last turn: answer now");
  });
});
