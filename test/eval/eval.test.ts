import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compareRuns, readReport, runEval } from "../../src/eval/run.js";
import { ItemResultSchema, ReportSchema } from "../../src/eval/report.js";
import { TrajectorySchema } from "../../src/agent/trajectory.js";
import { plannedFrames, quantileTimes } from "../../src/eval/select.js";
import { sameAnswer, scoreAnswer } from "../../src/eval/score.js";
import { withCorrectAnswers } from "../../src/train/sft.js";
import { readDataset, videoPath } from "../../datasets/io.js";
import { getFrames, probe, uniformTimes } from "../../src/video/index.js";
import { tmpDir } from "../helpers/videos.js";

const dataset = join(dirname(fileURLToPath(import.meta.url)), "../../datasets/sample/val.jsonl");
// One item per family (the sample lists the six families in order).
const LIMIT = 6;

describe("eval harness on the sample set", () => {
  const out = tmpDir("fm-eval-");

  it("selection strategies write valid reports; the oracle covers all evidence, a low uniform overview does not", { timeout: 240_000 }, async () => {
    const oracle = await runEval({ dataset, policy: "oracle-select", ladder: "tiny", seed: 0, limit: LIMIT, out: join(out, "oracle") });
    const uniform = await runEval({ dataset, policy: "uniform", frames: 8, rung: "low", ladder: "tiny", seed: 0, limit: LIMIT, out: join(out, "u8low") });
    for (const dir of ["oracle", "u8low"]) {
      for (const f of ["report.json", "report.md", "report.svg", "results.jsonl"]) expect(existsSync(join(out, dir, f))).toBe(true);
      const rep = ReportSchema.parse(JSON.parse(readFileSync(join(out, dir, "report.json"), "utf8")));
      expect(rep.accuracy).toBeNull();
      expect(Object.keys(rep.per_family).sort()).toEqual(["change", "count", "flash-digit", "order", "small-code", "when"]);
      readFileSync(join(out, dir, "results.jsonl"), "utf8").trim().split("\n").forEach((l) => ItemResultSchema.parse(JSON.parse(l)));
    }
    expect(oracle.evidence_recall).toBe(1);
    expect(oracle.failed).toBe(0);
    expect(uniform.evidence_recall!).toBeLessThan(0.5);
    expect(uniform.frames).toBe(8);
    expect(uniform.visual_tokens).toBeGreaterThan(0);
    expect(oracle.calls.get_frames).toBeGreaterThan(0);
    expect(oracle.redundant_call_rate).toBe(0);
    expect(oracle.new_evidence_call_rate).toBe(1);
    expect(uniform.settings).toMatchObject({ frames: 8, rung: "low", ladder: "tiny", seed: 0 });
    expect(uniform.versions.ffmpeg).not.toBe("unknown");

    // Without decoding, the reported frames are those exact seeking returns: same figures.
    const planned = await runEval({ dataset, policy: "uniform", frames: 8, rung: "low", ladder: "tiny", seed: 0, limit: LIMIT, decode: false, out: join(out, "u8low-planned") });
    expect(planned.per_family).toEqual(uniform.per_family);
    expect(planned.settings.decode).toBe(false);
    const a = readFileSync(join(out, "u8low", "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).evidence_recall);
    const b = readFileSync(join(out, "u8low-planned", "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).evidence_recall);
    expect(b).toEqual(a);

    const cmp = await compareRuns([join(out, "oracle"), join(out, "u8low")], join(out, "cmp"));
    expect(cmp.markdown).toContain("uniform-8-low");
    expect(cmp.svg).toMatch(/^<svg[\s\S]*<circle[\s\S]*<\/svg>\n$/);
    expect(existsSync(join(out, "cmp", "compare.svg"))).toBe(true);
  });

  it("an agent policy runs through the agent loop and is graded by the scorer", { timeout: 240_000 }, async () => {
    const rep = await runEval({ dataset, policy: "oracle", ladder: "tiny", seed: 1, limit: 2, maxTurns: 4, out: join(out, "agent-oracle") });
    expect(rep.accuracy).not.toBeNull();
    expect(rep.turns).toBeGreaterThan(0);
    expect(rep.latency_ms.total).toBeGreaterThan(0);
    const lines = readFileSync(join(out, "agent-oracle", "results.jsonl"), "utf8").trim().split("\n").map((l) => ItemResultSchema.parse(JSON.parse(l)));
    expect(lines).toHaveLength(2);
    for (const r of lines) expect(r.correct).not.toBeNull();
    // The whole record of each run sits beside its result (paired by item id; here in order).
    const recs = readFileSync(join(out, "agent-oracle", "trajectories.jsonl"), "utf8").trim().split("\n").map((l) => TrajectorySchema.parse(JSON.parse(l)));
    expect(recs.map((r) => r.item?.id)).toEqual(lines.map((r) => r.id));
    expect(recs.map((r) => r.turns.length)).toEqual(lines.map((r) => r.turns));
  });

  it("--votes: sampled runs of the embedded model vote; the result is a majority run, tokens summed, settings recorded", { timeout: 240_000 }, async () => {
    const one = await runEval({ dataset, policy: "tiny", ladder: "tiny", seed: 3, limit: 2, out: join(out, "tiny-1") });
    const rep = await runEval({ dataset, policy: "tiny", ladder: "tiny", seed: 3, limit: 2, votes: 3, temperature: 1.5, out: join(out, "tiny-votes") });
    expect(rep.settings.votes).toEqual({ n: 3, temperature: 1.5, top_p: 0.95 });
    expect(rep.label).toBe("tiny votes-3");
    const lines = readFileSync(join(out, "tiny-votes", "results.jsonl"), "utf8").trim().split("\n").map((l) => ItemResultSchema.parse(JSON.parse(l)));
    const { items } = await readDataset(dataset);
    for (const r of lines) {
      expect(r.votes).toHaveLength(3);
      const item = items.find((i) => i.item.id === r.id)!.item;
      const support = (a: string | null) => r.votes!.filter((v) => sameAnswer(item, a, v)).length;
      expect(r.votes).toContain(r.answer);
      // No other answer has more runs agreeing with it than the chosen one.
      for (const v of r.votes!) expect(support(r.answer)).toBeGreaterThanOrEqual(support(v));
    }
    // Three runs cost more tokens than one greedy run (each run pays its own looks).
    expect(rep.visual_tokens).toBeGreaterThan(one.visual_tokens * 2);
    // Every sampled run's record is kept, in order; rejection sampling keeps the right ones.
    const all = readFileSync(join(out, "tiny-votes", "vote-trajectories.jsonl"), "utf8").trim().split("\n").map((l) => TrajectorySchema.parse(JSON.parse(l)));
    expect(all.map((t) => t.answer)).toEqual(lines.flatMap((r) => r.votes));
    expect(existsSync(join(out, "tiny-1", "vote-trajectories.jsonl"))).toBe(false);
    const right = lines.flatMap((r) => r.votes!.map((v) => scoreAnswer(items.find((i) => i.item.id === r.id)!.item, v).correct));
    const kept = await withCorrectAnswers(all);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(right.filter(Boolean).length);
    expect(kept.every((t) => right[all.indexOf(t)])).toBe(true);
    // Distinct runs only, and at most maxPerItem per item.
    expect(new Set(kept.map((t) => t.item!.id + JSON.stringify(t.turns.map((x) => x.text)))).size).toBe(kept.length);
    const one1 = await withCorrectAnswers(all, 1);
    expect(one1.length).toBe(new Set(kept.map((t) => t.item!.id)).size);
    await expect(runEval({ dataset, policy: "tiny", ladder: "tiny", seed: 3, limit: 1, votes: 1, out: join(out, "tiny-1b") })).resolves.toMatchObject({ settings: expect.not.objectContaining({ votes: expect.anything() }) });
  });

  it("bad input is a typed error", async () => {
    await expect(runEval({ dataset, policy: "nope", ladder: "tiny", seed: 0, out: join(out, "x") })).rejects.toMatchObject({ code: "FM_ERR_EVAL_POLICY_UNKNOWN" });
    await expect(runEval({ dataset: dataset + ".missing", policy: "uniform", ladder: "tiny", seed: 0, out: join(out, "x") })).rejects.toMatchObject({ code: "FM_ERR_DATA_NOT_FOUND" });
    await expect(readReport(out)).rejects.toMatchObject({ code: "FM_ERR_EVAL_REPORT_INVALID" });
  });

  it("planned frames equal decoded frames (timestamps and sizes) on the sample videos", { timeout: 240_000 }, async () => {
    const { items } = await readDataset(dataset);
    for (const { item } of items.slice(0, 3)) {
      const video = videoPath(dataset, item);
      const info = await probe(video);
      const times = [...uniformTimes(info.duration, 8), 0, info.duration - 0.01, ...(item.evidence ?? []).map((e) => e.start)];
      for (const rung of ["low", "high"]) {
        const got = await getFrames({ video, at: times, resolution: { ladder: "tiny", rung } });
        expect(plannedFrames(info, times, "tiny", rung)).toEqual(got.frames.map(({ timestamp, width, height, tokens }) => ({ timestamp, width, height, tokens })));
      }
    }
  });

  it("content-aware placement puts more frames where the scan changes", () => {
    const t = quantileTimes([1, 1, 10, 1], 8, 8);
    expect(t.filter((x) => x >= 4 && x < 6).length).toBeGreaterThan(4);
    expect(quantileTimes([1, 1, 1, 1], 8, 4)).toEqual([1, 3, 5, 7]);
  });
});
