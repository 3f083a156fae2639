/**
 * Per-step statistics of a batch of graded rollouts: reward parts, accuracy (overall and per
 * DRFS start), turns, visual tokens, calls per tool, rungs chosen, redundant / new-evidence
 * rates — the tool-use figures FrameMind's reviewers asked for. Timing lives apart (`time`) so
 * resume comparisons can drop it.
 */
import { REWARD_PARTS, type RewardContext, type RewardPart } from "../rewards/index.js";

export interface GradedRollout {
  ctx: RewardContext;
  reward: { total: number; parts: Record<RewardPart, number | null> };
  /** "8xlow" style label of the DRFS start. */
  start: string;
}

export interface RolloutStats {
  rollouts: number;
  reward: { mean: number; std: number; parts: Record<RewardPart, number | null> };
  accuracy: number;
  accuracyByStart: Record<string, number>;
  /**
   * Rollouts that made a valid call vs those that answered from the start's frames: their share
   * and accuracy (null when none). Whether looking pays in the rollouts is what RL learns from.
   */
  byLook: { lookedShare: number; looked: number | null; guessed: number | null };
  answerRate: number;
  turns: number;
  visualTokens: number;
  /** Tool-call tokens only (what the policy chose; the start excluded). */
  visualTokensPolicy: number;
  /** Valid calls per question, by tool. */
  callsPerQuestion: Record<string, number>;
  /** Share of valid calls at each rung. */
  rungShare: Record<string, number>;
  /** Share of valid calls whose frames had all been seen before. */
  redundantRate: number;
  /** Share of valid calls that covered an evidence interval not covered before. */
  newEvidenceRate: number;
  invalidCallsPerQuestion: number;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

export function rolloutStats(rs: readonly GradedRollout[]): RolloutStats {
  const n = rs.length;
  const totals = rs.map((r) => r.reward.total);
  const m = mean(totals);
  const parts = {} as Record<RewardPart, number | null>;
  for (const k of REWARD_PARTS) {
    const vals = rs.map((r) => r.reward.parts[k]).filter((v): v is number => v !== null);
    parts[k] = vals.length ? r4(mean(vals)) : null;
  }
  const byStart: Record<string, number[]> = {};
  for (const r of rs) (byStart[r.start] ??= []).push(r.ctx.correct ? 1 : 0);
  const calls = rs.flatMap((r) => r.ctx.calls);
  const perTool: Record<string, number> = {};
  const perRung: Record<string, number> = {};
  for (const c of calls) {
    perTool[c.tool] = (perTool[c.tool] ?? 0) + 1;
    perRung[c.rung] = (perRung[c.rung] ?? 0) + 1;
  }
  const judged = calls.filter((c) => c.newEvidence !== null);
  const accuracyOf = (xs: readonly GradedRollout[]) => (xs.length ? r4(mean(xs.map((r) => (r.ctx.correct ? 1 : 0)))) : null);
  const looked = rs.filter((r) => r.ctx.calls.length > 0);
  return {
    rollouts: n,
    reward: { mean: r4(m), std: r4(Math.sqrt(mean(totals.map((t) => (t - m) ** 2)))), parts },
    accuracy: accuracyOf(rs) ?? 0,
    accuracyByStart: Object.fromEntries(Object.entries(byStart).map(([k, v]) => [k, r4(mean(v))])),
    byLook: { lookedShare: r4(looked.length / Math.max(1, n)), looked: accuracyOf(looked), guessed: accuracyOf(rs.filter((r) => r.ctx.calls.length === 0)) },
    answerRate: r4(mean(rs.map((r) => (r.ctx.record.answer !== null ? 1 : 0)))),
    turns: r4(mean(rs.map((r) => r.ctx.record.turns.length))),
    visualTokens: r4(mean(rs.map((r) => r.ctx.record.tokens.visual))),
    visualTokensPolicy: r4(mean(rs.map((r) => r.ctx.record.tokens.visualToolCalls))),
    callsPerQuestion: Object.fromEntries(Object.entries(perTool).sort().map(([k, v]) => [k, r4(v / Math.max(1, n))])),
    rungShare: Object.fromEntries(Object.entries(perRung).sort().map(([k, v]) => [k, r4(v / Math.max(1, calls.length))])),
    redundantRate: r4(calls.length ? calls.filter((c) => c.redundant).length / calls.length : 0),
    newEvidenceRate: r4(judged.length ? judged.filter((c) => c.newEvidence).length / judged.length : 0),
    invalidCallsPerQuestion: r4(mean(rs.map((r) => r.ctx.record.calls.invalid))),
  };
}
