/**
 * The two judgements rewards rest on, bound in ONE place to the project's shared definitions:
 * correctness from THE scorer (src/eval/score.ts) and, per call, new evidence / redundancy from
 * THE evidence definitions (src/eval/evidence.ts) — so rewards and eval reports never disagree.
 */
import type { DatasetItem } from "../../../datasets/schema.js";
import type { Trajectory } from "../../agent/trajectory.js";
import { bringsNewEvidence, isRedundant, type SeenFrame } from "../../eval/evidence.js";
import { scoreAnswer } from "../../eval/score.js";
import type { CallJudgement } from "./types.js";

export function isCorrect(item: DatasetItem, given: string | null): boolean {
  return scoreAnswer(item, given).correct;
}

/** Valid calls in turn order, each judged against every frame seen before it (the overview included). */
export function judgeCalls(record: Trajectory, item: DatasetItem): CallJudgement[] {
  const framePeriod = record.video.fps > 0 ? 1 / record.video.fps : 0.1;
  const byObs = new Map<number, SeenFrame[]>();
  for (const f of record.framesSeen) {
    const list = byObs.get(f.observation) ?? [];
    list.push(f);
    byObs.set(f.observation, list);
  }
  // framesSeen observation k: 0 = the first observation, then one per call result; a rejected
  // or failed call takes an (empty) observation slot too, as the loop records it.
  const seen: SeenFrame[] = [...(byObs.get(0) ?? [])];
  const out: CallJudgement[] = [];
  let obs = 1;
  for (const t of record.turns) {
    if (t.result === null) {
      if (t.error !== null) obs++;
      continue;
    }
    const frames = byObs.get(obs) ?? [];
    out.push({
      turn: t.index,
      tool: t.result.tool,
      rung: t.result.rung,
      newEvidence: item.evidence?.length ? bringsNewEvidence(frames, seen, item.evidence) : null,
      redundant: isRedundant(frames, seen, framePeriod),
      tokens: t.result.tokens,
    });
    seen.push(...frames);
    obs++;
  }
  return out;
}
