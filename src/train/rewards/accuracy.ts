/** Accuracy reward: 1 when THE scorer (src/eval/score.ts, via the context) accepts the answer. */
import type { RewardContext } from "./types.js";

export function accuracyReward(ctx: RewardContext): number {
  return ctx.correct ? 1 : 0;
}
