/**
 * Builds the RewardContext of a finished trajectory once: correctness from THE scorer and, per
 * valid call, new-evidence / redundancy from THE evidence definitions (both via judges.ts), so
 * every reward part is a pure function of the same facts the eval reports.
 */
import type { DatasetItem } from "../../../datasets/schema.js";
import type { Trajectory } from "../../agent/trajectory.js";
import { judgeCalls, isCorrect } from "./judges.js";
import type { RewardContext } from "./types.js";

export function rewardContext(record: Trajectory, item: DatasetItem): RewardContext {
  return { record, item, correct: isCorrect(item, record.answer), calls: judgeCalls(record, item) };
}
