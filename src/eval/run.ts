/**
 * The eval harness: runs one policy or selection strategy over a dataset and writes
 * results.jsonl, report.json, report.md and report.svg (and trajectories.jsonl: each agent run's record). Policies go through the agent loop
 * (src/agent/loop.ts); selection strategies fetch frames directly and report evidence recall only.
 * Coverage, redundancy and new evidence come from ./evidence.ts; answers are graded by ./score.ts.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { loadDataset, videoPath } from "../../datasets/io.js";
import type { DatasetItem } from "../../datasets/schema.js";
import type { Trajectory } from "../agent/trajectory.js";
import type { Sampling } from "../policy/types.js";
import { asFramemindError, FramemindError, throwIfAborted } from "../errors.js";
import { binaries, binaryVersion, type LadderName } from "../video/index.js";
import { packageVersion } from "../../prompts/index.js";
import { callStats, evidenceRecall, type SeenFrame } from "./evidence.js";
import { comparePlot, familyBars } from "./plot.js";
import { aggregate, ReportSchema, renderMarkdown, type ItemResult, type Report } from "./report.js";
import { sameAnswer, scoreAnswer } from "./score.js";
import { contentAwareSelect, oracleSelect, STRATEGIES, uniformSelect, type Selection, type StrategyName } from "./select.js";

export interface EvalOptions {
  dataset: string;
  /** A selection strategy (uniform, content-aware, oracle-select) or a registered policy name. */
  policy: string;
  ladder: LadderName;
  /** Frames and rung: of the strategy, or of the agent's first observation. */
  frames?: number;
  rung?: string;
  /** Visual-token budget per question (agent policies). */
  budget?: number;
  maxTurns?: number;
  /** Policy that answers after a `uniform` observation (makes uniform a model run). */
  answerer?: string;
  /** Embedded-model checkpoint folder for tiny policies. */
  checkpoint?: string;
  /** Tiny policies decode guided by the protocol (default true; false measures the model's own calls). */
  guided?: boolean;
  /** Tiny policies: a clip call follows its think's window (GuideOptions.followThink; default true since 0.7.0). */
  followThink?: boolean;
  seed: number;
  /**
   * Self-consistency (agent policies): this many runs per question, sampled at `temperature` /
   * `topP` with seeds seed*1000+k; the answer most runs agree with wins (as the scorer grades
   * alike: sameAnswer; ties: the earliest run). Tokens and latency are the sum over the runs.
   * trajectories.jsonl keeps the chosen run's record; vote-trajectories.jsonl every run's.
   */
  votes?: number;
  temperature?: number;
  topP?: number;
  /** Selection strategies: false reports the frames exact seeking returns without decoding them (see select.ts). */
  decode?: boolean;
  /** Evaluate only the first N items. */
  limit?: number;
  out: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

const isStrategy = (p: string, answerer: string | undefined): p is StrategyName => (STRATEGIES as readonly string[]).includes(p) && !(p === "uniform" && answerer);

export function runLabel(o: Pick<EvalOptions, "policy" | "frames" | "rung" | "answerer" | "guided" | "followThink" | "votes">): string {
  return baseLabel(o) + (o.guided === false ? " unguided" : "") + (o.followThink === false ? " no-follow-think" : "") + ((o.votes ?? 1) > 1 ? ` votes-${o.votes}` : "");
}

/** Sampling of a voted run (defaults: a moderate temperature, a wide nucleus). */
const voteSampling = (o: Pick<EvalOptions, "temperature" | "topP">) => ({ temperature: o.temperature ?? 0.7, topP: o.topP ?? 0.95 });

function baseLabel(o: Pick<EvalOptions, "policy" | "frames" | "rung" | "answerer">): string {
  if (o.policy === "uniform") return `uniform-${o.frames ?? 8}-${o.rung ?? "low"}${o.answerer ? `+${o.answerer}` : ""}`;
  if (o.policy === "content-aware") return `content-aware-${o.frames ?? 8}-${o.rung ?? "low"}`;
  return o.frames || o.rung ? `${o.policy}(${o.frames ?? 8}-${o.rung ?? "low"})` : o.policy;
}

const family = (item: DatasetItem) => String(item.meta.family ?? item.meta.task ?? item.meta.source ?? "all");

function emptyResult(item: DatasetItem): ItemResult {
  return { id: item.id, family: family(item), answer: null, expected: item.answer, correct: null, evidence_recall: null, visual_tokens: 0, scan_tokens: 0, frames: 0, turns: 0, calls: {}, tool_calls: 0, redundant_calls: 0, invalid_calls: 0, new_evidence_calls: 0, latency_ms: { decode: 0, model: 0, overhead: 0, total: 0 }, error: null };
}

async function runStrategy(name: StrategyName, item: DatasetItem, file: string, o: EvalOptions): Promise<ItemResult> {
  const t0 = performance.now();
  const sel = { ladder: o.ladder, frames: o.frames ?? 8, rung: o.rung ?? "low", extract: { signal: o.signal }, decode: o.decode };
  const video = videoPath(file, item);
  const s: Selection = name === "uniform" ? await uniformSelect(video, sel) : name === "content-aware" ? await contentAwareSelect(video, sel) : await oracleSelect(video, item, sel);
  const obs: SeenFrame[][] = s.calls.map((c) => c.frames);
  const all = obs.flat();
  // The oracle's looks are calls; uniform and content-aware make one overview, not a call.
  const st = callStats(obs, name === "oracle-select", 1 / s.video.fps, item.evidence);
  const decode = s.calls.reduce((n, c) => n + c.decodeMs, 0) + s.scanDecodeMs;
  const total = performance.now() - t0;
  const calls: Record<string, number> = name === "oracle-select" ? { get_frames: s.calls.length } : {};
  return {
    ...emptyResult(item),
    evidence_recall: evidenceRecall(all, item.evidence),
    visual_tokens: s.calls.reduce((n, c) => n + c.tokens, 0),
    scan_tokens: s.scanTokens,
    frames: all.length,
    calls,
    tool_calls: st.calls,
    redundant_calls: st.redundant,
    new_evidence_calls: st.newEvidence,
    latency_ms: { decode, model: 0, overhead: Math.max(0, total - decode), total },
  };
}

/** Loaded on demand: model-free runs never load the agent, prompts or onnxruntime. */
async function runPolicy(item: DatasetItem, file: string, o: EvalOptions, sampling: Sampling = { temperature: 0, topP: 1, seed: o.seed }): Promise<{ result: ItemResult; record: Trajectory }> {
  const [{ answer }, policies] = await Promise.all([import("../agent/loop.js"), import("../policy/index.js")]);
  const config = { ladder: o.ladder, seed: o.seed, item, frames: o.frames, rung: o.rung, options: { ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}), ...(o.guided === false ? { guided: false } : {}), ...(o.followThink === false ? { followThink: false } : {}) } };
  const answerer = o.answerer ? await policies.createPolicy(o.answerer, config) : undefined;
  const policy = await policies.createPolicy(o.policy, { ...config, answerer });
  const r = await answer({
    video: videoPath(file, item),
    question: item.question,
    options: item.options,
    policy,
    settings: { ladder: o.ladder, maxTurns: o.maxTurns, maxVisualTokens: o.budget, ...(o.frames || o.rung ? { firstObservation: { frames: o.frames ?? 8, rung: o.rung ?? "low" } } : {}) },
    sampling,
    signal: o.signal,
    item: { id: item.id, file },
    // The record names its family, as the teacher's do (SFT's data filters count kept runs by it).
    meta: { family: family(item) },
  });
  const rec = r.record;
  const byObs = new Map<number, SeenFrame[]>();
  for (const f of rec.framesSeen) byObs.set(f.observation, [...(byObs.get(f.observation) ?? []), f]);
  const obs = [...byObs.keys()].sort((a, b) => a - b).map((k) => byObs.get(k)!);
  const firstIsCall = rec.firstObservation === null || !byObs.has(0);
  const st = callStats(obs, firstIsCall, rec.video.fps > 0 ? 1 / rec.video.fps : 0.04, item.evidence);
  const g = scoreAnswer(item, r.answer);
  const result: ItemResult = {
    ...emptyResult(item),
    answer: r.answer,
    correct: g.correct,
    evidence_recall: evidenceRecall(rec.framesSeen, item.evidence),
    visual_tokens: rec.tokens.visual,
    frames: rec.framesSeen.length,
    turns: rec.turns.length,
    calls: rec.calls.byTool,
    tool_calls: st.calls,
    redundant_calls: st.redundant,
    invalid_calls: rec.invalidCalls,
    new_evidence_calls: st.newEvidence,
    latency_ms: { decode: rec.timings.videoMs, model: rec.timings.modelMs, overhead: rec.timings.overheadMs, total: rec.timings.totalMs },
    error: r.error ? { code: r.error.code, message: r.error.message } : null,
  };
  return { result, record: rec };
}

/** Self-consistency over `o.votes` sampled runs (see EvalOptions.votes). */
async function runVoted(item: DatasetItem, file: string, o: EvalOptions): Promise<{ result: ItemResult; record: Trajectory; all: Trajectory[] }> {
  const runs: Array<{ result: ItemResult; record: Trajectory }> = [];
  for (let k = 0; k < o.votes!; k++) runs.push(await runPolicy(item, file, o, { ...voteSampling(o), seed: o.seed * 1000 + k }));
  // A run's support: the runs whose answer the scorer would grade alike (same option or text; numbers and times within tolerance).
  const support = runs.map((r) => runs.filter((s) => sameAnswer(item, r.result.answer, s.result.answer)).length);
  const best = support.reduce((b, n, i) => (n > support[b]! ? i : b), 0);
  const sum = (f: (r: ItemResult) => number) => runs.reduce((n, r) => n + f(r.result), 0);
  const chosen = runs[best]!;
  const result: ItemResult = {
    ...chosen.result,
    visual_tokens: sum((r) => r.visual_tokens),
    latency_ms: { decode: sum((r) => r.latency_ms.decode), model: sum((r) => r.latency_ms.model), overhead: sum((r) => r.latency_ms.overhead), total: sum((r) => r.latency_ms.total) },
    votes: runs.map((r) => r.result.answer),
  };
  return { result, record: chosen.record, all: runs.map((r) => r.record) };
}

function versions(): Report["versions"] {
  let ffmpeg = "unknown";
  try {
    ffmpeg = binaryVersion(binaries().ffmpeg).version;
  } catch {
    // doctor reports a missing ffmpeg; the run itself will fail with a typed error.
  }
  return { framemind: packageVersion(), node: process.version, ffmpeg };
}

export async function runEval(o: EvalOptions): Promise<Report> {
  const t0 = performance.now();
  const sampling = voteSampling(o);
  const voted = (o.votes ?? 1) > 1 ? { votes: { n: o.votes!, temperature: sampling.temperature, top_p: sampling.topP } } : {};
  const known = [...STRATEGIES, ...(await import("../policy/index.js").then((p) => p.policyNames()).catch(() => [] as string[]))];
  if (!known.includes(o.policy)) throw new FramemindError("FM_ERR_EVAL_POLICY_UNKNOWN", { name: o.policy, valid: known.join(", ") });
  const file = resolve(o.dataset);
  const items = (await loadDataset(file)).slice(0, o.limit);
  const sha256 = createHash("sha256").update(await readFile(file)).digest("hex");
  await mkdir(o.out, { recursive: true });
  const results: ItemResult[] = [];
  // Every agent run's whole record (turn texts, calls, frames seen), to read why an answer was wrong.
  const records: Trajectory[] = [];
  // With votes: every sampled run, in order (rejection-sampling fine-tuning reads them: data.requireCorrect).
  const voteRecords: Trajectory[] = [];
  o.onProgress?.(0, items.length);
  for (const item of items) {
    throwIfAborted(o.signal);
    let r: ItemResult;
    try {
      if (isStrategy(o.policy, o.answerer)) r = await runStrategy(o.policy, item, file, o);
      else {
        const p = (o.votes ?? 1) > 1 ? await runVoted(item, file, o) : { ...(await runPolicy(item, file, o)), all: [] };
        r = p.result;
        records.push(p.record);
        voteRecords.push(...p.all);
      }
    } catch (e) {
      const err = asFramemindError(e);
      if (err.code === "FM_ERR_CANCELLED") throw err;
      // One broken item is a recorded failure, not the end of the run.
      r = { ...emptyResult(item), error: { code: err.code, message: err.message } };
    }
    results.push(r);
    o.onProgress?.(results.length, items.length);
  }
  const report = aggregate(
    {
      created: new Date().toISOString(),
      dataset: { path: o.dataset, sha256, items: items.length },
      policy: o.policy,
      label: runLabel(o),
      settings: { ladder: o.ladder, frames: o.frames ?? null, rung: o.rung ?? null, budget: o.budget ?? null, max_turns: o.maxTurns ?? null, seed: o.seed, limit: o.limit ?? null, decode: o.decode ?? true, guided: o.guided ?? true, follow_think: o.followThink ?? true, ...voted },
      versions: versions(),
      wall_s: Math.round((performance.now() - t0) / 100) / 10,
    },
    results,
  );
  await writeFile(join(o.out, "results.jsonl"), results.map((r) => JSON.stringify(r)).join("\n") + "\n");
  // Paired with results.jsonl by item id (an item whose run threw has a result and no record).
  const jsonl = (recs: readonly Trajectory[]) => recs.map((r) => JSON.stringify(r) + "\n").join("");
  if (!isStrategy(o.policy, o.answerer)) await writeFile(join(o.out, "trajectories.jsonl"), jsonl(records));
  if (voteRecords.length) await writeFile(join(o.out, "vote-trajectories.jsonl"), jsonl(voteRecords));
  await writeFile(join(o.out, "report.json"), JSON.stringify(report, null, 2) + "\n");
  await writeFile(join(o.out, "report.md"), renderMarkdown(report));
  await writeFile(join(o.out, "report.svg"), familyBars(report));
  return report;
}

export async function readReport(dir: string): Promise<Report> {
  const path = join(dir, "report.json");
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, "utf8"));
  } catch (e) {
    throw new FramemindError("FM_ERR_EVAL_REPORT_INVALID", { path, reason: (e as Error).message });
  }
  const r = ReportSchema.safeParse(value);
  if (!r.success) throw new FramemindError("FM_ERR_EVAL_REPORT_INVALID", { path, reason: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
  return r.data;
}

const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);

/** The comparison table (markdown) of several runs, sorted by visual tokens. */
export function compareTable(reports: Report[]): string {
  const rows = [...reports].sort((a, b) => a.visual_tokens - b.visual_tokens || a.label.localeCompare(b.label));
  const fams = [...new Set(rows.flatMap((r) => Object.keys(r.per_family)))].sort();
  return [
    `| run | visual tokens | frames | evidence recall | accuracy | ${fams.map((f) => `${f} recall`).join(" | ")} |`,
    `|---|---|---|---|---|${fams.map(() => "---|").join("")}`,
    ...rows.map((r) => `| ${r.label} | ${r.visual_tokens.toFixed(1)}${r.scan_tokens ? ` (+${r.scan_tokens.toFixed(0)} scan)` : ""} | ${r.frames.toFixed(1)} | ${pct(r.evidence_recall)} | ${pct(r.accuracy)} | ${fams.map((f) => pct(r.per_family[f]?.evidence_recall ?? null)).join(" | ")} |`),
  ].join("\n");
}

/** Reads runs and writes compare.md + compare.svg into `out`. */
export async function compareRuns(dirs: string[], out: string): Promise<{ reports: Report[]; markdown: string; svg: string }> {
  const reports = await Promise.all(dirs.map(readReport));
  const datasets = [...new Set(reports.map((r) => r.dataset.sha256))];
  const note = datasets.length > 1 ? "\n\nWarning: these runs used different datasets.\n" : "";
  const markdown = `# Comparison\n\nDataset \`${reports[0]?.dataset.path ?? ""}\` (${reports[0]?.dataset.items ?? 0} items).${note}\n\n${compareTable(reports)}\n\n![accuracy and evidence recall vs visual tokens](compare.svg)\n`;
  const svg = comparePlot(reports);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "compare.md"), markdown);
  await writeFile(join(out, "compare.svg"), svg);
  return { reports, markdown, svg };
}
