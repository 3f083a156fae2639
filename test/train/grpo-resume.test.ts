/**
 * Resume is bit-for-bit: a run stopped at any moment (SIGTERM-style abort with an exit
 * checkpoint, or SIGKILL with no warning) and resumed logs the same metrics, step by step, as
 * the uninterrupted run with the same seed — timing fields excepted.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseGrpoConfig, runGrpo, type GrpoConfig } from "../../src/train/grpo.js";
import { tmpDir } from "../helpers/videos.js";
import { grpoFixture, type GrpoFixture } from "./grpo-fixture.js";

let fx: GrpoFixture;
let work: string;
beforeAll(async () => {
  fx = await grpoFixture();
  work = tmpDir("fm-grpo-resume-");
}, 300_000);

const raw = (out: string) => ({
  seed: 5,
  init: fx.init,
  data: { train: fx.train, val: "" },
  rollout: { questionsPerStep: 1, groupSize: 4, concurrency: 4, frameCacheDir: join(work, "frames"), prewarm: false },
  update: { epochs: 2 },
  // The barely trained fixture model is rarely right; charging the DRFS start's (unequal) tokens
  // guarantees reward variance on non-square videos, so updates run and must be reproduced too.
  rewards: { tokens: { chargeStart: true, gated: false, budget: 0, perToken: 0.001 } },
  eval: { every: 0, atStart: false },
  run: { out, steps: 3, checkpointEvery: 2 },
});
const cfg = (out: string): GrpoConfig => parseGrpoConfig(raw(out));

/** metrics.jsonl without the wall-clock fields. */
function metrics(dir: string): unknown[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const { time: _t, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });
}

describe("GRPO resume", () => {
  let reference: unknown[];

  it("an uninterrupted run completes its folder", async () => {
    const out = join(work, "a");
    const r = await runGrpo({ config: cfg(out) });
    expect(r.steps).toBe(3);
    reference = metrics(out);
    expect(reference).toHaveLength(3);
    for (const f of ["config.json", "metrics.jsonl", "samples.jsonl", "plot.svg", "checkpoints/step-000003/model.safetensors", "checkpoints/step-000003/vocab.json"]) expect(existsSync(join(out, f)), f).toBe(true);
    // The update ran on real signal at least once, with sampled log-probs matching a fresh forward pass.
    const rows = reference as Array<{ update: { rows: number; logprobGap: number | null } }>;
    expect(rows.some((m) => m.update.rows > 0)).toBe(true);
    for (const m of rows) if (m.update.logprobGap !== null) expect(m.update.logprobGap).toBeLessThan(1e-3);
    expect(readFileSync(join(out, "plot.svg"), "utf8")).toContain("<svg");
  }, 300_000);

  it("abort mid-step (SIGINT/SIGTERM path): exit checkpoint, then resume reproduces the metrics", async () => {
    const out = join(work, "b");
    const ac = new AbortController();
    // Stop during step 2's rollouts: the first step's metrics trigger it.
    const r1 = await runGrpo({ config: cfg(out), signal: ac.signal, onStep: (_m, done) => done === 1 && setTimeout(() => ac.abort(), 300) });
    expect(r1.interrupted).toBe(true);
    expect(r1.steps).toBeLessThan(3);
    expect(existsSync(join(out, "checkpoints", `step-${String(r1.steps).padStart(6, "0")}`))).toBe(true);
    const r2 = await runGrpo({ config: cfg(out), resume: out });
    expect(r2.steps).toBe(3);
    expect(metrics(out)).toEqual(reference);
  }, 300_000);

  it("SIGKILL at an arbitrary moment: resume from the last checkpoint reproduces the metrics", async () => {
    const out = join(work, "c");
    const file = join(work, "c.json");
    writeFileSync(file, JSON.stringify(raw(out)));
    const child = spawn(join(process.cwd(), "node_modules/.bin/vite-node"), [join(process.cwd(), "test/train/grpo-child.ts"), file], { stdio: "ignore" });
    // Kill once step 1 is logged, i.e. somewhere inside step 2 (no checkpoint yet: checkpointEvery 2).
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const f = join(out, "metrics.jsonl");
        if (existsSync(f) && readFileSync(f, "utf8").split("\n").filter(Boolean).length >= 1) {
          clearInterval(timer);
          child.kill("SIGKILL");
        }
      }, 50);
      child.on("exit", () => {
        clearInterval(timer);
        resolve();
      });
      child.on("error", reject);
    });
    expect(metrics(out).length).toBeLessThan(3);
    const r = await runGrpo({ config: cfg(out), resume: out });
    expect(r.steps).toBe(3);
    expect(metrics(out)).toEqual(reference);
  }, 300_000);
});
