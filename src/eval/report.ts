/**
 * The eval report: per-question results (results.jsonl) and their aggregate (report.json, with
 * a zod schema), rendered as report.md. Accuracy is null for strategies without a model.
 */
import { z } from "zod";

export const REPORT_SCHEMA = "framemind.eval-report";
export const REPORT_VERSION = 1;

const rate = z.number().min(0).max(1);

export const ItemResultSchema = z.object({
  id: z.string(),
  family: z.string(),
  answer: z.string().nullable(),
  expected: z.string(),
  /** null when no model answered (selection strategies). */
  correct: z.boolean().nullable(),
  /** null when the item has no evidence intervals. */
  evidence_recall: z.boolean().nullable(),
  visual_tokens: z.number().int().min(0),
  scan_tokens: z.number().int().min(0),
  frames: z.number().int().min(0),
  turns: z.number().int().min(0),
  calls: z.record(z.string(), z.number().int().min(0)),
  tool_calls: z.number().int().min(0),
  redundant_calls: z.number().int().min(0),
  invalid_calls: z.number().int().min(0),
  new_evidence_calls: z.number().int().min(0),
  latency_ms: z.object({ decode: z.number().min(0), model: z.number().min(0), overhead: z.number().min(0), total: z.number().min(0) }),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** With --votes: every sampled run's answer, in run order (the result is the majority's run, tokens and latency summed). */
  votes: z.array(z.string().nullable()).optional(),
});
export type ItemResult = z.infer<typeof ItemResultSchema>;

const Summary = z.object({
  n: z.number().int().min(0),
  accuracy: rate.nullable(),
  evidence_recall: rate.nullable(),
  visual_tokens: z.number().min(0),
  frames: z.number().min(0),
});

export const ReportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  version: z.literal(REPORT_VERSION),
  created: z.string(),
  dataset: z.object({ path: z.string(), sha256: z.string(), items: z.number().int().min(0) }),
  policy: z.string(),
  /** Short label for plots, e.g. "uniform-8-low". */
  label: z.string(),
  settings: z.object({
    ladder: z.string(),
    frames: z.number().int().positive().nullable(),
    rung: z.string().nullable(),
    budget: z.number().int().positive().nullable(),
    max_turns: z.number().int().positive().nullable(),
    seed: z.number().int(),
    limit: z.number().int().positive().nullable(),
    /** false: selection strategies reported frames without decoding them. */
    decode: z.boolean(),
    /** Tiny policies: tokens chosen under guided decoding (src/agent/guide.ts). Absent in older reports. */
    guided: z.boolean().optional(),
    /** Tiny policies: clip calls followed their think's window (followThink, session 14). Absent in older reports. */
    follow_think: z.boolean().optional(),
    /** Self-consistency: sampled runs per question, their temperature and top-p (absent: one greedy run). */
    votes: z.object({ n: z.number().int().min(2), temperature: z.number().min(0), top_p: z.number().gt(0).max(1) }).optional(),
  }),
  versions: z.object({ framemind: z.string(), node: z.string(), ffmpeg: z.string() }),
  n: z.number().int().min(0),
  failed: z.number().int().min(0),
  accuracy: rate.nullable(),
  evidence_recall: rate.nullable(),
  /** Means per question. */
  visual_tokens: z.number().min(0),
  scan_tokens: z.number().min(0),
  frames: z.number().min(0),
  turns: z.number().min(0),
  calls: z.record(z.string(), z.number().min(0)),
  redundant_call_rate: rate.nullable(),
  invalid_call_rate: rate.nullable(),
  new_evidence_call_rate: rate.nullable(),
  latency_ms: z.object({ decode: z.number().min(0), model: z.number().min(0), overhead: z.number().min(0), total: z.number().min(0) }),
  per_family: z.record(z.string(), Summary),
  wall_s: z.number().min(0),
});
export type Report = z.infer<typeof ReportSchema>;

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
function share(xs: Array<boolean | null>): number | null {
  const v = xs.filter((x): x is boolean => x !== null);
  return v.length ? r4(v.filter(Boolean).length / v.length) : null;
}
const ratio = (a: number, b: number) => (b > 0 ? r4(a / b) : null);

function summarize(rs: ItemResult[]): z.infer<typeof Summary> {
  return { n: rs.length, accuracy: share(rs.map((r) => r.correct)), evidence_recall: share(rs.map((r) => r.evidence_recall)), visual_tokens: r4(mean(rs.map((r) => r.visual_tokens))), frames: r4(mean(rs.map((r) => r.frames))) };
}

export type ReportHead = Pick<Report, "created" | "dataset" | "policy" | "label" | "settings" | "versions" | "wall_s">;

export function aggregate(head: ReportHead, results: ItemResult[]): Report {
  const tools = [...new Set(results.flatMap((r) => Object.keys(r.calls)))].sort();
  const callsTotal = results.reduce((s, r) => s + r.tool_calls, 0);
  const attempted = callsTotal + results.reduce((s, r) => s + r.invalid_calls, 0);
  const families = [...new Set(results.map((r) => r.family))].sort();
  return ReportSchema.parse({
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    ...head,
    failed: results.filter((r) => r.error !== null).length,
    ...summarize(results),
    scan_tokens: r4(mean(results.map((r) => r.scan_tokens))),
    turns: r4(mean(results.map((r) => r.turns))),
    calls: Object.fromEntries(tools.map((t) => [t, r4(mean(results.map((r) => r.calls[t] ?? 0)))])),
    redundant_call_rate: ratio(results.reduce((s, r) => s + r.redundant_calls, 0), callsTotal),
    invalid_call_rate: ratio(results.reduce((s, r) => s + r.invalid_calls, 0), attempted),
    new_evidence_call_rate: ratio(results.reduce((s, r) => s + r.new_evidence_calls, 0), callsTotal),
    latency_ms: {
      decode: r4(mean(results.map((r) => r.latency_ms.decode))),
      model: r4(mean(results.map((r) => r.latency_ms.model))),
      overhead: r4(mean(results.map((r) => r.latency_ms.overhead))),
      total: r4(mean(results.map((r) => r.latency_ms.total))),
    },
    per_family: Object.fromEntries(families.map((f) => [f, summarize(results.filter((r) => r.family === f))])),
  });
}

const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);

export function renderMarkdown(r: Report): string {
  const lines = [
    `# Eval: ${r.label}`,
    "",
    `Dataset \`${r.dataset.path}\` (${r.dataset.items} items, sha256 ${r.dataset.sha256.slice(0, 12)}), policy \`${r.policy}\`, ladder ${r.settings.ladder}, seed ${r.settings.seed}${r.settings.decode ? "" : ", frames not decoded (--no-decode)"}${r.settings.guided === false ? ", unguided decoding (--unguided)" : ""}; framemind ${r.versions.framemind}, node ${r.versions.node}, ffmpeg ${r.versions.ffmpeg}; ${r.created}.`,
    "",
    "| metric | value |",
    "|---|---|",
    `| questions (failed) | ${r.n} (${r.failed}) |`,
    `| accuracy | ${pct(r.accuracy)} |`,
    `| evidence recall | ${pct(r.evidence_recall)} |`,
    `| visual tokens / question | ${r.visual_tokens.toFixed(1)}${r.scan_tokens ? ` (+${r.scan_tokens.toFixed(1)} pre-scan, not seen by a model)` : ""} |`,
    `| frames / question | ${r.frames.toFixed(1)} |`,
    `| turns / question | ${r.turns.toFixed(2)} |`,
    `| calls / question | ${Object.entries(r.calls).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ") || "none"} |`,
    `| redundant-call rate | ${pct(r.redundant_call_rate)} |`,
    `| invalid-call rate | ${pct(r.invalid_call_rate)} |`,
    `| calls bringing new evidence | ${pct(r.new_evidence_call_rate)} |`,
    `| latency / question (decode / model / overhead) | ${r.latency_ms.decode.toFixed(0)} / ${r.latency_ms.model.toFixed(0)} / ${r.latency_ms.overhead.toFixed(0)} ms |`,
    "",
    "| family | n | accuracy | evidence recall | visual tokens | frames |",
    "|---|---|---|---|---|---|",
    ...Object.entries(r.per_family).map(([f, s]) => `| ${f} | ${s.n} | ${pct(s.accuracy)} | ${pct(s.evidence_recall)} | ${s.visual_tokens.toFixed(1)} | ${s.frames.toFixed(1)} |`),
    "",
    "![per family](report.svg)",
    "",
  ];
  return lines.join("\n");
}
