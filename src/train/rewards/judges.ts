/**
 * The two judgements rewards rest on, bound in ONE place to the project's shared definitions:
 * correctness (src/eval/score.ts) and per-call new evidence / redundancy (src/eval/evidence.ts).
 * PROVISIONAL until src/eval lands: the same rules as DESIGN.md §7 written here; replace the
 * bodies with calls into src/eval and keep the signatures.
 */
import type { DatasetItem } from "../../../datasets/schema.js";
import type { Trajectory } from "../../agent/trajectory.js";
import type { CallJudgement } from "./types.js";

export function isCorrect(item: DatasetItem, given: string | null): boolean {
  if (given === null) return false;
  const norm = (s: string) => s.trim().toLowerCase().replace(/[\s.]+$/g, "");
  if (item.answer_type === "option") return norm(given).replace(/^([a-z])[.):].*$/, "$1") === norm(item.answer);
  if (item.answer_type === "number" || item.answer_type === "time") {
    const tol = typeof item.meta.tolerance === "number" ? item.meta.tolerance : 0;
    const v = Number(given.trim());
    return Number.isFinite(v) && Math.abs(v - Number(item.answer)) <= tol + 1e-9;
  }
  return norm(given) === norm(item.answer);
}

type Seen = Trajectory["framesSeen"][number];

export function judgeCalls(record: Trajectory, item: DatasetItem): CallJudgement[] {
  const intervals = item.evidence ?? [];
  const halfPeriod = record.video.fps > 0 ? 0.5 / record.video.fps : 0.05;
  const covers = (f: Seen, iv: (typeof intervals)[number]) => f.timestamp >= iv.start - 1e-6 && f.timestamp <= iv.end + 1e-6 && f.width * f.height >= iv.min_pixels;
  const byObs = new Map<number, Seen[]>();
  for (const f of record.framesSeen) (byObs.get(f.observation) ?? byObs.set(f.observation, []).get(f.observation)!).push(f);
  // Observation k of framesSeen: 0 = first observation, then one per returned result in turn order.
  const out: CallJudgement[] = [];
  let obs = record.firstObservation ? 1 : 0;
  const before: Seen[] = [...(byObs.get(0) ?? [])];
  for (const t of record.turns) {
    if (t.result === null) {
      if (t.error !== null) obs++; // a rejected or failed call leaves an empty observation
      continue;
    }
    const frames = byObs.get(obs) ?? [];
    const newEvidence = intervals.length === 0 ? null : intervals.some((iv) => frames.some((f) => covers(f, iv)) && !before.some((f) => covers(f, iv)));
    const redundant = frames.length > 0 && frames.every((f) => before.some((b) => Math.abs(b.timestamp - f.timestamp) <= halfPeriod && b.width * b.height >= f.width * f.height));
    out.push({ turn: t.index, tool: t.result.tool, rung: t.result.rung, newEvidence, redundant, tokens: t.result.tokens });
    before.push(...frames);
    obs++;
  }
  return out;
}
