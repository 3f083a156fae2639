/**
 * Markdown tables from GRPO run folders and pipeline summaries (docs/training.md): tool-call
 * statistics of a model (calls per question by tool, rung shares, redundant-call and
 * new-evidence rates, turns, tokens) and one row per run for comparisons / ablations.
 * Usage: node dist/src/train/grpo/report.js stats runs/run-flawed/summary.json
 *        node dist/src/train/grpo/report.js runs runs/ablate/base runs/ablate/kl0 ...
 *        node dist/src/train/grpo/report.js test MODEL_DIR DATASET.jsonl OUT.json [LIMIT]  (greedy, the trainer's evaluate)
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { RolloutStats } from "./metrics.js";
import type { StepMetrics } from "./trainer.js";

const f2 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? "—" : x.toFixed(2));
const f3 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? "—" : x.toFixed(3));

export function statsRow(label: string, s: RolloutStats): string {
  const calls = (t: string) => f2(s.callsPerQuestion[t] ?? 0);
  const rung = (r: string) => f2(s.rungShare[r] ?? 0);
  return `| ${label} | ${f3(s.accuracy)} | ${calls("get_frames")} | ${calls("get_clip")} | ${rung("low")} / ${rung("high")} / ${rung("full")} | ${f2(s.redundantRate)} | ${f2(s.newEvidenceRate)} | ${f2(s.invalidCallsPerQuestion)} | ${f2(s.turns)} | ${f2(s.visualTokensPolicy)} / ${f2(s.visualTokens)} |`;
}

export const STATS_HEADER =
  "| model | accuracy | get_frames / q | get_clip / q | rung share low / high / full | redundant-call rate | new-evidence rate | invalid calls / q | turns | visual tokens (policy / all) |\n|---|---|---|---|---|---|---|---|---|---|";

interface EvalLine {
  step: number;
  accuracy: number;
  items: number;
  stats: RolloutStats;
}

function lines<T>(file: string): T[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as T) : [];
}

/** One row per run: validation at start / best / last, and the last step's training figures. */
export function runsTable(dirs: readonly string[]): string {
  const out = ["| run | steps | val acc (start) | val acc (last) | best (step) | reward (last step) | KL | clip frac | filtered groups | calls / q | redundant | policy tokens | rollout s / step | update s / step |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"];
  for (const d of dirs) {
    const ev = lines<EvalLine>(join(d, "eval.jsonl"));
    const m = lines<StepMetrics>(join(d, "metrics.jsonl"));
    const last = m.at(-1);
    const best = ev.reduce<EvalLine | null>((b, e) => (!b || e.accuracy > b.accuracy ? e : b), null);
    const start = ev.find((e) => e.step === 0);
    const calls = last ? Object.values(last.callsPerQuestion).reduce((a, b) => a + b, 0) : NaN;
    const med = (f: (x: StepMetrics) => number) => {
      const xs = m.map(f).sort((a, b) => a - b);
      return xs.length ? xs[Math.floor(xs.length / 2)]! : NaN;
    };
    out.push(
      `| ${basename(d)} | ${m.length} | ${f3(start?.accuracy)} | ${f3(ev.at(-1)?.accuracy)} | ${best ? `${f3(best.accuracy)} (${best.step})` : "—"} | ${f3(last?.reward.mean)} | ${f3(last?.update.kl)} | ${f3(last?.update.clipFrac)} | ${last ? `${last.filteredGroups}/${last.groups}` : "—"} | ${f2(calls)} | ${f2(last?.redundantRate)} | ${f2(last?.visualTokensPolicy)} | ${f2(med((x) => x.time.rolloutS))} | ${f2(med((x) => x.time.updateS))} |`,
    );
  }
  return out.join("\n");
}

/** SFT vs GRPO on the test split from a pipeline's summary.json. */
export function summaryStats(file: string): string {
  const s = JSON.parse(readFileSync(file, "utf8")) as { test: { sft: { stats: RolloutStats; items: number }; grpo: { stats: RolloutStats } } | null };
  if (!s.test) return "(no test evaluation in this summary)";
  return [STATS_HEADER, statsRow(`SFT (${s.test.sft.items} test items)`, s.test.sft.stats), statsRow("DRFS-GRPO", s.test.grpo.stats)].join("\n");
}

// Run as a script (node dist/src/train/grpo/report.js ..., or vite-node src/train/grpo/report.ts -- ...).
const args = process.argv.slice(2).filter((a) => a !== "--");
if (args[0] === "stats" || args[0] === "runs") {
  const [kind, ...rest] = args;
  console.log(kind === "stats" ? rest.map(summaryStats).join("\n\n") : runsTable(rest));
} else if (args[0] === "test" && args.length >= 4) {
  const [, model, dataset, out, limit] = args as [string, string, string, string, string | undefined];
  const { loadTiny } = await import("../../policy/tiny/checkpoint.js");
  const { loadSplit } = await import("../grpo.js");
  const { parseGrpoConfig } = await import("./config.js");
  const { tinyTrainable } = await import("./tiny.js");
  const { evaluate } = await import("./trainer.js");
  const { writeFileSync } = await import("node:fs");
  const loaded = loadTiny(model);
  const c = parseGrpoConfig({ data: { val: "" } });
  const e = await evaluate(tinyTrainable(loaded, { guided: c.eval.guided }), await loadSplit(dataset, Number(limit ?? 0)), c);
  writeFileSync(out, JSON.stringify({ model, version: loaded.version, dataset, ...e }, null, 2) + "\n");
  console.log([STATS_HEADER, statsRow(model, e.stats)].join("\n"));
  await loaded.model.release();
}
