/**
 * Format reward: the protocol was followed — the loop ended with an answer, no turn had format
 * issues (missing <think>, text outside the tags, ...) and no call was rejected (parser or tool).
 */
import type { RewardContext } from "./types.js";

export function formatReward(ctx: RewardContext): number {
  const r = ctx.record;
  if (r.stopReason !== "answer") return 0;
  const clean = r.turns.every((t) => t.formatIssues.length === 0 && t.error === null);
  return clean ? 1 : 0;
}
