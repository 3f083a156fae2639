import { describe, expect, it } from "vitest";
import { formatTurn, parseTurn } from "../../src/agent/protocol.js";
import type { Policy, PolicyInput } from "../../src/policy/types.js";
import { flawCounts, NO_FLAWS, withFlaws } from "../../src/train/grpo/flawed-teacher.js";
import { RunConfigSchema, stageConfigs } from "../../src/train/grpo/pipeline.js";
import { parseConfig } from "../../src/train/config.js";

/** A teacher that always asks for one clip around 10-12 s at the high rung. */
const teacher: Policy = {
  id: "t",
  async step() {
    return { text: formatTurn({ think: "The sign shows at 11.0 s. I watch 10.0 to 12.0 s at the high rung.", call: { name: "get_clip", arguments: { start: 10, end: 12, count: 16, rung: "high" } } }) };
  },
};

const input = (turn: number): PolicyInput =>
  ({
    question: "q",
    system: "",
    user: "",
    history: [],
    evidence: [],
    allEvidence: [],
    ladder: "tiny",
    video: { duration: 40, fps: 10, width: 224, height: 224 },
    budget: { maxVisualTokens: 256, usedVisualTokens: 32, remainingVisualTokens: 224, maxFramesPerCall: 16 },
    turn: { index: turn, max: 4, mustAnswer: false },
    tools: [],
  }) as PolicyInput;

const limits = { ladder: "tiny" as const, duration: 40, video: { width: 224, height: 224 }, maxFramesPerCall: 16, remainingVisualTokens: 1000 };

describe("flawed teacher", () => {
  it("moves the look half the video away and drops the rung, at the configured rates, reproducibly", async () => {
    const counts = flawCounts();
    const seen: Array<{ start: number; rung: string }> = [];
    for (let i = 0; i < 40; i++) {
      const p = withFlaws(teacher, `item-${i}`, { wrongMoment: 0.5, lowRung: 1, skipLook: 0, seed: 3 }, (k) => counts[k]++);
      const t = parseTurn(await p.step(input(0), {}), limits);
      expect(t.kind).toBe("call");
      if (t.kind !== "call") continue;
      seen.push({ start: t.call.arguments.start as number, rung: t.call.arguments.rung as string });
      // The think names the window the call looks at.
      expect(t.think).toBe(`The sign shows at 11.0 s. I watch ${(t.call.arguments.start as number).toFixed(1)} to ${(t.call.arguments.end as number).toFixed(1)} s at the low rung.`);
      expect((t.call.arguments.end as number) - (t.call.arguments.start as number)).toBeCloseTo(2);
    }
    expect(counts.lowRung).toBe(40);
    expect(seen.every((s) => s.rung === "low")).toBe(true);
    const moved = seen.filter((s) => s.start === 30).length;
    expect(moved).toBe(counts.wrongMoment);
    expect(moved).toBeGreaterThan(10);
    expect(moved).toBeLessThan(30);
    expect(seen.filter((s) => s.start !== 30 && s.start !== 10)).toEqual([]);
    // same seed, same item: same flaws
    const again = await withFlaws(teacher, "item-0", { wrongMoment: 0.5, lowRung: 1, skipLook: 0, seed: 3 }).step(input(0), {});
    expect(parseTurn(again, limits)).toEqual(parseTurn(await withFlaws(teacher, "item-0", { wrongMoment: 0.5, lowRung: 1, skipLook: 0, seed: 3 }).step(input(0), {}), limits));
  });

  it("rewrites only the think's decision: what the teacher saw stays as written", async () => {
    const reader: Policy = {
      id: "r",
      async step() {
        return { text: formatTurn({ think: "Text shows on the sign at 10.0 s. I read 10.0 s at the full rung.", call: { name: "get_frames", arguments: { timestamps: [10], rung: "full" } } }) };
      },
    };
    const t = parseTurn(await withFlaws(reader, "item-0", { wrongMoment: 1, lowRung: 1, skipLook: 0, seed: 3 }).step(input(1), {}), limits);
    expect(t.kind === "call" && t.call.arguments).toMatchObject({ timestamps: [30], rung: "low" });
    expect(t.think).toBe("Text shows on the sign at 10.0 s. I read 30.0 s at the low rung.");
  });

  it("skips the look in the first turn at the configured rate: answers from the overview, reproducibly", async () => {
    // A teacher that answers when it must and looks otherwise (as the cue teacher does).
    const looker: Policy = {
      id: "l",
      async step(i) {
        return i.turn.mustAnswer ? { text: formatTurn({ think: "The digit on the sign is 7.", answer: "7" }) } : teacher.step(i, {});
      },
    };
    const counts = flawCounts();
    const kinds: string[] = [];
    for (let i = 0; i < 40; i++) {
      const p = withFlaws(looker, `item-${i}`, { ...NO_FLAWS, skipLook: 0.5, seed: 3 }, (k) => counts[k]++);
      const t = parseTurn(await p.step(input(0), {}), limits);
      kinds.push(t.kind);
      // Only the first turn is ever skipped.
      expect(parseTurn(await p.step(input(1), {}), limits).kind).toBe("call");
    }
    expect(kinds.filter((k) => k === "answer")).toHaveLength(counts.skipLook);
    expect(counts.skipLook).toBeGreaterThan(10);
    expect(counts.skipLook).toBeLessThan(30);
    expect(counts.wrongMoment + counts.lowRung).toBe(0);
    const again = async () => (await withFlaws(looker, "item-7", { ...NO_FLAWS, skipLook: 0.5, seed: 3 }).step(input(0), {})).text;
    expect(await again()).toBe(await again());
  });

  it("is the teacher itself when there are no flaws", () => {
    expect(withFlaws(teacher, "x", NO_FLAWS)).toBe(teacher);
  });
});

describe("run pipeline config", () => {
  it("fills each stage's paths from the one config and validates both stages up front", () => {
    const c = parseConfig(RunConfigSchema, { seed: 4, out: "/tmp/r", data: { train: "/d/train.jsonl", val: "/d/val.jsonl", test: "" }, grpo: { update: { beta: 0 } } });
    const s = stageConfigs(c);
    expect(s.sft.data.train).toBe("/tmp/r/teacher.jsonl");
    expect(s.sft.data.valDataset).toBe("/d/val.jsonl");
    expect(s.sft.seed).toBe(4);
    expect(s.grpo.init).toBe("/tmp/r/sft/best");
    expect(s.grpo.run.out).toBe("/tmp/r/grpo");
    expect(s.grpo.update.beta).toBe(0);
    expect(() => stageConfigs(parseConfig(RunConfigSchema, { grpo: { rollout: { groupSize: 0 } } }))).toThrow(/rollout\.groupSize/);
    expect(() => parseConfig(RunConfigSchema, { teacher: { lowRung: 2 } })).toThrow(/teacher\.lowRung.*\(got 2\)/);
  });
});
