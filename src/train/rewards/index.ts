/**
 * Reward composition (TRL style): each part is a pure named function returning a number or null
 * (not applicable), weighted from the config; the total is the weighted sum of the non-null
 * parts and every part is logged by name.
 */
import { z } from "zod";
import type { Reward } from "../../agent/trajectory.js";
import { accuracyReward } from "./accuracy.js";
import { tokenCost, turnBonus } from "./efficiency.js";
import { formatReward } from "./format.js";
import { toolReward } from "./tool.js";
import type { RewardContext } from "./types.js";

export type { RewardContext, CallJudgement } from "./types.js";
export { accuracyReward, formatReward, toolReward, turnBonus, tokenCost };

export const RewardsConfigSchema = z
  .object({
    /** Weight of each part in the total; 0 switches a part off (it is still logged). */
    weights: z
      .object({
        accuracy: z.number().min(0).default(1),
        format: z.number().min(0).default(0.1),
        tool: z.number().min(0).default(0.1),
        /** The paper's lambda_turn = 0.5 scale, kept small against accuracy. */
        turns: z.number().min(0).default(0.1),
        tokens: z.number().min(0).default(1),
      })
      .strict()
      .prefault({}),
    tool: z
      .object({
        /** Gated (default): pay only for a correct answer. false = the paper's variant. */
        requireCorrect: z.boolean().default(true),
        /** Pay only when a call brought new evidence (false = any valid call). */
        requireNewEvidence: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    turns: z
      .object({
        minTurns: z.number().int().min(1).default(2),
        maxTurns: z.number().int().min(1).default(3),
        /** Bonus only when the answer is right. */
        gated: z.boolean().default(true),
      })
      .strict()
      .prefault({})
      .refine((t) => t.maxTurns >= t.minTurns, { message: "turns.maxTurns must be >= turns.minTurns" }),
    tokens: z
      .object({
        /** Tool-call visual tokens per question that cost nothing. */
        budget: z.number().int().min(0).default(64),
        /** Reward per visual token above the budget (subtracted). */
        perToken: z.number().min(0).default(0.005),
        /** Cost only when the answer is right (an ungated cost teaches guessing). */
        gated: z.boolean().default(true),
        /** Also charge the DRFS start's tokens (the prototype's mistake; for the ablation only). */
        chargeStart: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type RewardsConfig = z.infer<typeof RewardsConfigSchema>;

/** Part names in logging order. */
export const REWARD_PARTS = ["accuracy", "format", "tool", "turns", "tokens"] as const;
export type RewardPart = (typeof REWARD_PARTS)[number];

export function computeReward(ctx: RewardContext, cfg: RewardsConfig): Reward & { parts: Record<RewardPart, number | null> } {
  const parts: Record<RewardPart, number | null> = {
    accuracy: accuracyReward(ctx),
    format: formatReward(ctx),
    tool: toolReward(ctx, cfg.tool),
    turns: turnBonus(ctx, cfg.turns),
    tokens: tokenCost(ctx, cfg.tokens),
  };
  let total = 0;
  for (const k of REWARD_PARTS) total += (parts[k] ?? 0) * cfg.weights[k];
  return { total, parts, grader: "framemind.score" };
}
