import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseGrpoConfig, runGrpo } from "../../src/train/grpo.js";
import { tmpDir } from "../helpers/videos.js";
import { grpoFixture } from "./grpo-fixture.js";

describe("GRPO validation", () => {
  it("decodes guided by default, as ask / eval / the servers do, and unguided on request", async () => {
    const fx = await grpoFixture();
    const work = tmpDir("fm-grpo-eval-");
    const stats: Array<{ answerRate: number; turns: number; invalidCallsPerQuestion: number }> = [];
    for (const guided of [true, false]) {
      const out = join(work, String(guided));
      const config = parseGrpoConfig({ seed: 5, init: fx.init, data: { train: fx.train, val: fx.val }, rollout: { questionsPerStep: 1, groupSize: 2, prewarm: false }, eval: { every: 0, atStart: true, ...(guided ? {} : { guided }) }, run: { out, steps: 1, checkpointEvery: 5 } });
      expect(config.eval.guided).toBe(guided);
      await runGrpo({ config });
      const first = JSON.parse(readFileSync(join(out, "eval.jsonl"), "utf8").split("\n")[0]!) as { step: number; stats: { answerRate: number; turns: number; invalidCallsPerQuestion: number } };
      expect(first.step).toBe(0);
      stats.push(first.stats);
    }
    // The barely trained fixture model writes turns the guide changes: the two validations differ.
    expect(stats[0]).not.toEqual(stats[1]);
    expect(stats[0]!.invalidCallsPerQuestion).toBeLessThanOrEqual(stats[1]!.invalidCallsPerQuestion);
  }, 300_000);

  it("rollouts decode guided on request: fewer rejected calls, and the update scores the guided distribution they sampled", async () => {
    const fx = await grpoFixture();
    const work = tmpDir("fm-grpo-rollout-");
    type Row = { invalidCallsPerQuestion: number; accuracy: number; byLook: { lookedShare: number; looked: number | null; guessed: number | null }; update: { logprobGap: number } };
    const rows: Row[] = [];
    for (const guided of [true, false]) {
      const out = join(work, String(guided));
      const config = parseGrpoConfig({ seed: 5, init: fx.init, data: { train: fx.train, val: "" }, rollout: { questionsPerStep: 2, groupSize: 4, prewarm: false, ...(guided ? { guided } : {}) }, eval: { every: 0, atStart: false }, run: { out, steps: 1, checkpointEvery: 5 } });
      expect(config.rollout.guided).toBe(guided);
      await runGrpo({ config });
      rows.push(JSON.parse(readFileSync(join(out, "metrics.jsonl"), "utf8").split("\n")[0]!) as Row);
    }
    const [g, u] = rows as [Row, Row];
    expect(u.invalidCallsPerQuestion).toBeGreaterThan(0); // the fixture model does break calls unguided
    expect(g.invalidCallsPerQuestion).toBeLessThan(u.invalidCallsPerQuestion);
    // Sampled (guided, masked) log-probs equal the update's recomputed ones under the same masks.
    expect(Math.abs(g.update.logprobGap)).toBeLessThan(1e-3);
    // Accuracy split by whether the rollout looked adds back up to the step's accuracy.
    for (const r of rows) {
      const { lookedShare: s, looked, guessed } = r.byLook;
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
      expect(Math.abs(r.accuracy - (s * (looked ?? 0) + (1 - s) * (guessed ?? 0)))).toBeLessThan(1e-3);
    }
  }, 300_000);
});
