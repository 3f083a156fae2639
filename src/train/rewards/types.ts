/**
 * What every reward function sees: the finished trajectory record, its dataset item, and the
 * two judgements computed once by THE shared definitions (src/eval/score.ts for correctness,
 * src/eval/evidence.ts for new evidence / redundancy), so rewards and eval never disagree.
 */
import type { DatasetItem } from "../../../datasets/schema.js";
import type { Trajectory } from "../../agent/trajectory.js";

export interface CallJudgement {
  /** Turn index of the call. */
  turn: number;
  tool: string;
  rung: string;
  /** It covered an evidence interval not covered before (null: the item has no intervals). */
  newEvidence: boolean | null;
  /** Every frame it returned had been seen before at the same or a higher rung. */
  redundant: boolean;
  /** Visual tokens it returned. */
  tokens: number;
}

export interface RewardContext {
  record: Trajectory;
  item: DatasetItem;
  /** The scorer's verdict on the final answer (false when there is none). */
  correct: boolean;
  /** Valid calls that returned frames, in order. */
  calls: CallJudgement[];
}

/** A reward part: a pure function of the context; null = not applicable (logged as such, adds 0). */
export type RewardFn<C> = (ctx: RewardContext, cfg: C) => number | null;
