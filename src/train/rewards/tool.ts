/**
 * Tool reward. Default (gated, DESIGN.md §6): only when the answer is correct AND at least one
 * call brought new evidence — the paper rewarded any call, which its reviewers showed pays for
 * redundant calls. Both conditions are switches so the paper's ungated variant can be measured.
 */
import type { RewardContext } from "./types.js";

export interface ToolRewardOptions {
  /** Pay only when the answer is correct. */
  requireCorrect: boolean;
  /** Pay only when a call covered an evidence interval not covered before. */
  requireNewEvidence: boolean;
}

export function toolReward(ctx: RewardContext, o: ToolRewardOptions): number | null {
  if (ctx.calls.length === 0) return 0;
  if (o.requireCorrect && !ctx.correct) return 0;
  if (!o.requireNewEvidence) return 1;
  // Without evidence intervals "new evidence" is undefined: not applicable rather than a guess.
  if (ctx.calls.every((c) => c.newEvidence === null)) return null;
  return ctx.calls.some((c) => c.newEvidence === true) ? 1 : 0;
}
