/** The loop with scripted in-process policies: what the policy is given, input errors, extras. */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { answer, resolveSettings, type AgentEvent } from "../../src/agent/loop.js";
import { formatTurn } from "../../src/agent/protocol.js";
import { TrajectorySchema } from "../../src/agent/trajectory.js";
import type { Policy, PolicyInput, PolicyStep } from "../../src/policy/types.js";
import { makeIndexVideo, readIndex, tmpDir } from "../helpers/videos.js";

let dir: string;
let video: string;
const FPS = 10;

beforeAll(async () => {
  dir = tmpDir();
  video = await makeIndexVideo({ out: join(dir, "index.mp4"), width: 160, height: 90, fps: FPS, frames: 60, gop: 5 });
});

/** A policy that replays texts and keeps what it was given. */
function scripted(steps: Array<string | PolicyStep | (() => never)>): Policy & { inputs: PolicyInput[] } {
  const inputs: PolicyInput[] = [];
  return {
    id: "scripted",
    modelVersion: "v0",
    inputs,
    async step(input) {
      inputs.push(input);
      const s = steps[inputs.length - 1];
      if (s === undefined) throw new Error("script exhausted");
      if (typeof s === "function") return s();
      return typeof s === "string" ? { text: s } : s;
    },
  };
}

const look = (args: Record<string, unknown>) => formatTurn({ think: "closer", call: { name: "get_frames", arguments: args } });

describe("answer()", () => {
  it("gives the policy real frames, the rendered prompt, history and budget; extras stay out of the record", async () => {
    const policy = scripted([
      { text: look({ timestamps: [1.3, 4.2], rung: "high" }), tokenIds: [5, 6, 7], logprobs: [-0.1, -0.2, -0.3] },
      { text: formatTurn({ think: "seen", answer: "42" }), tokenIds: [8], logprobs: [-0.5] },
    ]);
    const { record, extras } = await answer({ video, question: "What number?", policy, settings: { ladder: "tiny", maxTurns: 3 } });
    TrajectorySchema.parse(record);
    expect(record.answer).toBe("42");
    expect(extras).toEqual([
      { turn: 0, tokenIds: [5, 6, 7], logprobs: [-0.1, -0.2, -0.3] },
      { turn: 1, tokenIds: [8], logprobs: [-0.5] },
    ]);
    expect(JSON.stringify(record)).not.toContain("logprobs");
    expect(record.policy).toEqual({ id: "scripted", modelVersion: "v0" });
    expect(record.sampling).toBeNull();

    const [i0, i1] = policy.inputs;
    expect(i0!.system).toContain("<tool_call>");
    expect(i0!.system).toContain("get_clip");
    expect(i0!.system).toContain("low (56x28, 2 tokens per frame) < high (140x84, 15 tokens per frame)");
    expect(i0!.user.startsWith("Question: What number?\n<frames source=\"overview\" rung=\"low\" size=\"56x28\" tokens=\"16\">8 frames")).toBe(true);
    expect(i0!.evidence).toHaveLength(8);
    expect(i0!.allEvidence).toEqual([i0!.evidence]);
    expect(i0!.history).toEqual([]);
    expect(i0!.budget).toEqual({ maxVisualTokens: 256, usedVisualTokens: 16, remainingVisualTokens: 240, maxFramesPerCall: 16 });
    expect(i0!.turn).toEqual({ index: 0, max: 3, mustAnswer: false });
    expect(i0!.tools.map((t) => t.name)).toEqual(["get_frames", "get_clip"]);
    expect(i0!.video).toEqual({ duration: 6, fps: 10, width: 160, height: 90 });

    // The frames are the ones asked for: the pixels encode the frame index.
    expect(i1!.evidence.map((f) => f.timestamp)).toEqual([1.3, 4.2]);
    for (const f of i1!.evidence) {
      expect(f).toMatchObject({ width: 140, height: 84, tokens: 15, rung: "high" });
      expect(readIndex(f.rgb, f.width, f.height)).toBe(Math.round(f.timestamp * FPS));
    }
    expect(i1!.allEvidence).toHaveLength(2);
    expect(i1!.history).toHaveLength(1);
    expect(i1!.history[0]!.call).toEqual({ name: "get_frames", arguments: { timestamps: [1.3, 4.2], rung: "high", mode: "exact" }, source: "text" });
    expect(i1!.history[0]!.observation).toMatchObject({ kind: "frames", text: expect.stringContaining("Turns left: 2. Visual tokens left: 210.") });
    expect(i1!.budget.usedVisualTokens).toBe(46);
    expect(record.framesSeen.filter((f) => f.observation === 1)).toEqual([
      { timestamp: 1.3, width: 140, height: 84, rung: "high", observation: 1 },
      { timestamp: 4.2, width: 140, height: 84, rung: "high", observation: 1 },
    ]);
  });

  it("a zoom on a region: the crop's pixels, its cost, and the region in the observation and the record", async () => {
    const policy = scripted([look({ timestamps: [3.1], rung: "high", region: [0, 0, 0.5, 1] }), formatTurn({ think: "seen", answer: "31" })]);
    const events: AgentEvent[] = [];
    const { record } = await answer({ video, question: "What number?", policy, settings: { ladder: "tiny", maxTurns: 3 }, onEvent: (e) => events.push(e) });
    TrajectorySchema.parse(record);
    const [f] = policy.inputs[1]!.evidence;
    // The left half (80x90 source pixels) at 'high': bars 0-4 hold the index's low five bits.
    expect(f).toMatchObject({ width: 84, height: 84, tokens: 9 });
    expect(readIndex(f!.rgb, f!.width, f!.height, 0, 5)).toBe(31 & 31);
    expect(policy.inputs[1]!.history[0]!.observation.text).toContain('region="0,0,0.5,1" size="84x84" tokens="9"');
    expect(policy.inputs[1]!.budget.usedVisualTokens).toBe(16 + 9);
    expect(record.framesSeen.filter((s) => s.observation === 1)).toEqual([{ timestamp: 3.1, width: 84, height: 84, rung: "high", observation: 1, region: [0, 0, 0.5, 1] }]);
    expect(TrajectorySchema.parse(JSON.parse(JSON.stringify(record))).turns[0]!.result).toMatchObject({ width: 84, tokens: 9, region: [0, 0, 0.5, 1] });
    expect(events.filter((e) => e.type === "frames").map((e) => (e as { region?: number[] }).region)).toEqual([undefined, [0, 0, 0.5, 1]]);
  });

  it("the last turn has no tools and says so", async () => {
    const policy = scripted([look({ timestamps: [1], rung: "low" }), formatTurn({ think: "ok", answer: "1" })]);
    const { record } = await answer({ video, question: "q?", options: ["red", "B. blue"], policy, settings: { ladder: "tiny", maxTurns: 2 } });
    expect(record.options).toEqual(["A. red", "B. blue"]);
    expect(policy.inputs[0]!.user).toContain("Options:\nA. red\nB. blue\n");
    expect(policy.inputs[1]!.turn.mustAnswer).toBe(true);
    expect(policy.inputs[1]!.tools).toEqual([]);
    expect(policy.inputs[1]!.history[0]!.observation.text).toContain("This is your last turn");
    expect(record.turns.map((t) => t.mustAnswer)).toEqual([false, true]);
  });

  it("rejects what cannot start, with typed errors", async () => {
    const policy = scripted([]);
    await expect(answer({ video, question: "  ", policy })).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
    await expect(answer({ video, question: "q?", options: ["A. only one"], policy })).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
    await expect(answer({ video, question: "q?", policy, settings: { ladder: "tiny", firstObservation: { frames: 4, rung: "mid" } } })).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID", message: expect.stringContaining("valid: low, high") });
    await expect(answer({ video: join(dir, "missing.mp4"), question: "q?", policy })).rejects.toMatchObject({ code: "FM_ERR_VIDEO_NOT_FOUND" });
    await expect(answer({ video, question: "q?", policy, settings: { paths: { roots: [tmpDir()] } } })).rejects.toMatchObject({ code: "FM_ERR_PATH_DENIED" });
    expect(policy.inputs).toEqual([]);
  });

  it("a policy that throws ends the question with the error in the record; a throwing listener is ignored", async () => {
    const policy = scripted([look({ timestamps: [2], rung: "low" }), () => { throw new Error("boom"); }]);
    const r = await answer({ video, question: "q?", policy, settings: { ladder: "tiny" }, onEvent: () => { throw new Error("listener"); } });
    TrajectorySchema.parse(r.record);
    expect(r.record.stopReason).toBe("error");
    expect(r.error?.code).toBe("FM_ERR_INTERNAL");
    expect(r.record.errors).toEqual([{ turn: 1, code: "FM_ERR_INTERNAL", message: "internal error: boom" }]);
    expect(r.record.turns).toHaveLength(1);
  });

  it("settings: ladder defaults, explicit values and policy overrides", () => {
    expect(resolveSettings({ ladder: "tiny" })).toMatchObject({ maxVisualTokens: 256, maxTurns: 4, firstObservation: { frames: 8, rung: "low", mode: "tolerant", source: "default" } });
    expect(resolveSettings({ firstObservation: { frames: 2, rung: "high", source: "drfs" } }).firstObservation).toEqual({ frames: 2, rung: "high", mode: "tolerant", source: "drfs" });
    expect(resolveSettings({}, { overrides: { maxTurns: 1, firstObservation: { frames: 16, rung: "mid" } } })).toMatchObject({ maxTurns: 1, firstObservation: { frames: 16, rung: "mid", source: "policy" } });
    expect(() => resolveSettings({ maxTurns: 0 })).toThrow(/settings.maxTurns/);
  });
});
