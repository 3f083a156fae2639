import { describe, expect, it } from "vitest";
import type { DatasetItem } from "../../datasets/schema.js";
import type { Trajectory, TrajectoryTurn } from "../../src/agent/trajectory.js";
import { batchAdvantages, groupAdvantages } from "../../src/train/advantage.js";
import { drfsStarts, rungTokenCap, startFor } from "../../src/train/drfs.js";
import { GrpoConfigSchema, parseGrpoConfig } from "../../src/train/grpo/config.js";
import { resolveConfig } from "../../src/train/config.js";
import { computeReward, RewardsConfigSchema, type RewardsConfig } from "../../src/train/rewards/index.js";
import { rewardContext } from "../../src/train/rewards/context.js";
import { judgeCalls } from "../../src/train/rewards/judges.js";
import { permutation, rolloutSeed, stepQuestions } from "../../src/train/grpo/trainer.js";

const item: DatasetItem = {
  id: "q1",
  video: "v.mp4",
  question: "Which digit flashed?",
  answer: "7",
  answer_type: "number",
  evidence: [{ start: 5, end: 5.4, min_pixels: 3000 }],
  meta: {},
};

type Look = { t: number[]; rung: "low" | "high"; px: number };

/** A record as the loop writes it: first observation, then one turn per look, then an answer. */
function record(looks: Look[], answer: string | null, opts: { issues?: string[]; invalid?: boolean } = {}): Trajectory {
  const first = { tool: "get_frames", timestamps: [0.5, 1.5, 2.5, 3.5, 4.5, 6.5, 7.5, 8.5], width: 56, height: 56, tokens: 32, rung: "low", mode: "tolerant" as const, cached: true, decodeMs: 0 };
  const framesSeen: Trajectory["framesSeen"] = first.timestamps.map((timestamp) => ({ timestamp, width: 56, height: 56, rung: "low", observation: 0 }));
  const turns: TrajectoryTurn[] = [];
  let obs = 1;
  let used = 32;
  const base = { formatIssues: [] as string[], mustAnswer: false, timings: { modelMs: 1, videoMs: 1 }, answer: null, error: null };
  if (opts.invalid) {
    turns.push({ ...base, index: 0, text: "<think>x</think><tool_call>{bad</tool_call>", call: null, result: null, error: { code: "FM_ERR_AGENT_BAD_JSON", message: "bad" } });
    obs++;
  }
  for (const l of looks) {
    const side = Math.sqrt(l.px);
    const tokens = l.t.length * (l.rung === "high" ? 16 : 4);
    used += tokens;
    turns.push({
      ...base,
      index: turns.length,
      text: "<think>look</think><tool_call>{}</tool_call>",
      call: { name: "get_frames", arguments: { timestamps: l.t, rung: l.rung }, source: "text" },
      result: { tool: "get_frames", timestamps: l.t, width: side, height: side, tokens, rung: l.rung, mode: "exact", cached: true, decodeMs: 0 },
    });
    for (const timestamp of l.t) framesSeen.push({ timestamp, width: side, height: side, rung: l.rung, observation: obs });
    obs++;
  }
  if (answer !== null) turns.push({ ...base, index: turns.length, text: `<think>it is</think><answer>${answer}</answer>`, call: null, result: null, answer, formatIssues: opts.issues ?? [] });
  return {
    schema: "framemind.trajectory",
    version: 1,
    id: "r",
    createdAt: "2026-01-01T00:00:00Z",
    video: { path: "/v.mp4", duration: 10, fps: 10, frameCount: 100, width: 224, height: 224, codec: "h264" },
    question: item.question,
    policy: { id: "test" },
    sampling: null,
    settings: { ladder: "tiny", firstObservation: { frames: 8, rung: "low", mode: "tolerant", source: "drfs" }, maxTurns: 4, maxVisualTokens: 256, maxFramesPerCall: 16, timeoutMs: 1000, promptVersion: "v1" },
    versions: { framemind: "0", node: "v20" },
    firstObservation: first,
    turns,
    answer,
    stopReason: answer === null ? "turn_limit" : "answer",
    evidenceCited: [],
    framesSeen,
    tokens: { visual: used, visualFirstObservation: 32, visualToolCalls: used - 32 },
    timings: { totalMs: 1, videoMs: 0, modelMs: 1, overheadMs: 0, decodeMs: 0 },
    calls: { total: looks.length, valid: looks.length, invalid: opts.invalid ? 1 : 0, byTool: looks.length ? { get_frames: looks.length } : {} },
    invalidCalls: opts.invalid ? 1 : 0,
    warnings: [],
    errors: [],
  };
}

const cfg = (over: Record<string, unknown> = {}): RewardsConfig => RewardsConfigSchema.parse(over);
const good: Look = { t: [5.1, 5.2], rung: "high", px: 12544 };
const again: Look = { t: [5.1], rung: "low", px: 3136 };
const elsewhere: Look = { t: [8.0], rung: "high", px: 12544 };

describe("rewards", () => {
  it("pays accuracy through the scorer, format only for a clean answered protocol", () => {
    const r = computeReward(rewardContext(record([good], "7"), item), cfg());
    expect(r.parts.accuracy).toBe(1);
    expect(r.parts.format).toBe(1);
    const wrong = computeReward(rewardContext(record([good], "3"), item), cfg());
    expect(wrong.parts.accuracy).toBe(0);
    expect(computeReward(rewardContext(record([good], "7", { issues: ["no <think> block"] }), item), cfg()).parts.format).toBe(0);
    expect(computeReward(rewardContext(record([good], "7", { invalid: true }), item), cfg()).parts.format).toBe(0);
    expect(computeReward(rewardContext(record([good], null), item), cfg()).parts.format).toBe(0);
  });

  it("judges new evidence and redundancy with the shared definitions", () => {
    const calls = judgeCalls(record([good, again, elsewhere], "7"), item);
    expect(calls.map((c) => [c.newEvidence, c.redundant])).toEqual([
      [true, false], // covers [5, 5.4] at enough pixels for the first time
      [false, true], // 5.1 again at a lower rung: nothing new
      [false, false], // a new moment, but outside the evidence
    ]);
  });

  it("gates the tool reward on a correct answer AND new evidence; the ungated variant pays any call", () => {
    const gated = cfg();
    expect(computeReward(rewardContext(record([good], "7"), item), gated).parts.tool).toBe(1);
    expect(computeReward(rewardContext(record([good], "3"), item), gated).parts.tool).toBe(0);
    expect(computeReward(rewardContext(record([elsewhere], "7"), item), gated).parts.tool).toBe(0);
    const ungated = cfg({ tool: { requireCorrect: false, requireNewEvidence: false } });
    expect(computeReward(rewardContext(record([elsewhere], "3"), item), ungated).parts.tool).toBe(1);
    expect(computeReward(rewardContext(record([], "3"), item), ungated).parts.tool).toBe(0);
  });

  it("charges tool-call tokens above the budget only when right (gated), never the DRFS start's unless asked", () => {
    const c = cfg({ tokens: { budget: 16, perToken: 0.01 } });
    // good: 2 high frames = 32 tool tokens -> 16 over budget
    expect(computeReward(rewardContext(record([good], "7"), item), c).parts.tokens).toBeCloseTo(-0.16);
    expect(computeReward(rewardContext(record([good], "3"), item), c).parts.tokens).toBe(0);
    const ungated = cfg({ tokens: { budget: 16, perToken: 0.01, gated: false } });
    expect(computeReward(rewardContext(record([good], "3"), item), ungated).parts.tokens).toBeCloseTo(-0.16);
    // no calls: the 32-token start costs nothing by default, 16 over budget when charged
    expect(computeReward(rewardContext(record([], "7"), item), c).parts.tokens).toBe(0);
    const charged = cfg({ tokens: { budget: 16, perToken: 0.01, chargeStart: true } });
    expect(computeReward(rewardContext(record([], "7"), item), charged).parts.tokens).toBeCloseTo(-0.16);
  });

  it("gives the turn bonus for 2-3 turns, gated on correctness by default", () => {
    expect(computeReward(rewardContext(record([good], "7"), item), cfg()).parts.turns).toBe(1); // 2 turns
    expect(computeReward(rewardContext(record([], "7"), item), cfg()).parts.turns).toBe(0); // 1 turn
    expect(computeReward(rewardContext(record([good, again, elsewhere], "7"), item), cfg()).parts.turns).toBe(0); // 4 turns
    expect(computeReward(rewardContext(record([good], "3"), item), cfg()).parts.turns).toBe(0);
    expect(computeReward(rewardContext(record([good], "3"), item), cfg({ turns: { gated: false } })).parts.turns).toBe(1);
  });

  it("weights the parts into the total", () => {
    const c = cfg({ weights: { accuracy: 1, format: 0.5, tool: 0.25, turns: 0.125, tokens: 0 } });
    expect(computeReward(rewardContext(record([good], "7"), item), c).total).toBeCloseTo(1 + 0.5 + 0.25 + 0.125);
  });
});

describe("advantages", () => {
  it("normalizes within the group and shares A_i over the trajectory", () => {
    const g = groupAdvantages([1, 0, 0, 1]);
    expect(g.filtered).toBe(false);
    expect(g.mean).toBe(0.5);
    expect(g.advantages.map((a) => Math.round(a * 1e4) / 1e4)).toEqual([1, -1, -1, 1]);
  });

  it("keeps a format-only difference small when not scaled by the group std (Dr. GRPO)", () => {
    const formatOnly = [0.1, 0, 0, 0];
    const scaled = groupAdvantages(formatOnly).advantages;
    const centred = groupAdvantages(formatOnly, false).advantages;
    expect(scaled[0]).toBeCloseTo(Math.sqrt(3), 4); // as large as a correctness difference
    expect(centred[0]).toBeCloseTo(0.075, 9);
    expect(groupAdvantages([1.1, 0, 0, 0], false).advantages[0]).toBeCloseTo(0.825, 9);
  });

  it("filters and counts groups whose rewards are all equal", () => {
    const b = batchAdvantages([[1, 1, 1], [0, 1, 0], [0.3, 0.3, 0.3]]);
    expect(b.filteredGroups).toBe(2);
    expect(b.groups[0]!.advantages).toEqual([0, 0, 0]);
    expect(b.stats.mean).toBeCloseTo(0, 6);
  });
});

describe("DRFS starts", () => {
  it("are (frames, rung) pairs of about equal nominal token cost on the tiny ladder", () => {
    const s = drfsStarts({ ladder: "tiny", mode: "on", fallback: { frames: 8, rung: "low" } });
    expect(s.map((x) => [x.frames, x.rung])).toEqual([[8, "low"], [2, "high"]]);
    for (const x of s) expect(x.frames * rungTokenCap("tiny", x.rung)).toBe(32);
    expect([0, 1, 2, 3, 4].map((i) => startFor(s, i).rung)).toEqual(["low", "high", "low", "high", "low"]);
  });

  it("off = one start for every rollout", () => {
    const s = drfsStarts({ ladder: "tiny", mode: "off", fallback: { frames: 8, rung: "low" } });
    expect(s).toEqual([{ frames: 8, rung: "low", tokens: 32 }]);
  });
});

describe("grpo config", () => {
  it("has a default for every field and applies dotted overrides", () => {
    const c = resolveConfig(GrpoConfigSchema, undefined, { "update.beta": "0", "drfs.mode": "off", "rollout.groupSize": "4" });
    expect(c.update.beta).toBe(0);
    expect(c.drfs.mode).toBe("off");
    expect(c.rollout.groupSize).toBe(4);
    expect(c.update.epsLow).toBe(0.2);
    expect(c.update.epsHigh).toBe(0.28);
    expect(c.rewards.tool.requireCorrect).toBe(true);
  });

  it("throws naming every bad value", () => {
    expect(() => parseGrpoConfig({ rollout: { groupSize: 1 }, drfs: { fallback: { rung: "ultra" } }, update: { epsLow: 0.3, epsHigh: 0.1 } })).toThrow(
      /rollout\.groupSize.*\(got 1\).*drfs\.fallback\.rung: unknown rung 'ultra'.*update\.epsHigh/s,
    );
    expect(() => resolveConfig(GrpoConfigSchema, undefined, { lr: "1e-4" })).toThrow(/optim/); // SFT's alias: not a GRPO field
  });
});

describe("data order and rollout seeds", () => {
  it("depend only on (seed, step): each epoch visits every question once", () => {
    const seen = [0, 1, 2].flatMap((s) => stepQuestions(s, 2, 6, 9).indices);
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(permutation(6, 9, 0)).toEqual(permutation(6, 9, 0));
    expect(rolloutSeed(1, 3, 0, 1)).toBe(rolloutSeed(1, 3, 0, 1));
    expect(new Set([rolloutSeed(1, 3, 0, 0), rolloutSeed(1, 3, 0, 1), rolloutSeed(1, 3, 1, 0), rolloutSeed(1, 4, 0, 0)]).size).toBe(4);
  });
});
