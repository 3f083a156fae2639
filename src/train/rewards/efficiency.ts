/**
 * Efficiency rewards (DESIGN.md §6), two parts logged separately:
 *  - turnBonus: 1 when the trajectory took a number of turns in [minTurns, maxTurns] (the paper's
 *    2-3 turn bonus, lambda_turn scale set by the weight);
 *  - tokenCost: minus the visual tokens the policy asked for above `budget`, per token.
 * Both are gated on a correct answer by default: an ungated token cost taught a prototype to skip
 * looking and guess. The DRFS start's tokens are not the policy's choice and are not charged
 * (charging them gave every group spurious variance) unless `chargeStart` asks for it.
 */
import type { RewardContext } from "./types.js";

export interface TurnBonusOptions {
  minTurns: number;
  maxTurns: number;
  gated: boolean;
}

export interface TokenCostOptions {
  /** Visual tokens per question the policy may spend for free. */
  budget: number;
  /** Reward per token above the budget (a positive number; the part is <= 0). */
  perToken: number;
  gated: boolean;
  chargeStart: boolean;
}

export function turnBonus(ctx: RewardContext, o: TurnBonusOptions): number {
  if (o.gated && !ctx.correct) return 0;
  const n = ctx.record.turns.length;
  return n >= o.minTurns && n <= o.maxTurns ? 1 : 0;
}

/** Visual tokens the policy is charged for. */
export function chargedTokens(ctx: RewardContext, chargeStart: boolean): number {
  return chargeStart ? ctx.record.tokens.visual : ctx.record.tokens.visualToolCalls;
}

export function tokenCost(ctx: RewardContext, o: TokenCostOptions): number {
  if (o.gated && !ctx.correct) return 0;
  const over = Math.max(0, chargedTokens(ctx, o.chargeStart) - o.budget);
  return over === 0 ? 0 : -o.perToken * over;
}
