/**
 * Group-relative advantages (DESIGN.md §6): A_i = (r_i - mean) / (std + 1e-6) within the G
 * rollouts of one question, shared by every generated token of the trajectory. A group whose
 * rewards are all equal carries no signal (every A_i would be 0) and is filtered out and counted.
 * With `scaleByStd` false the advantage is only centred (Dr. GRPO): dividing by the group's std
 * blows a group that differs only in the 0.1-weighted format part up to the same size as one
 * that differs in correctness, which measured here pushed the policy toward format, not answers.
 */

export const ADV_EPS = 1e-6;
/** Rewards closer than this count as equal (float noise from weighted sums). */
export const EQUAL_TOL = 1e-9;

export interface GroupAdvantages {
  /** One advantage per rollout (0 for a filtered group). */
  advantages: number[];
  mean: number;
  std: number;
  /** All rewards equal: the group is left out of the update. */
  filtered: boolean;
}

/** Population std, as GRPO implementations use for the group baseline. */
export function groupAdvantages(rewards: readonly number[], scaleByStd = true): GroupAdvantages {
  const n = rewards.length;
  if (n === 0) return { advantages: [], mean: 0, std: 0, filtered: true };
  const mean = rewards.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / n);
  const filtered = rewards.every((r) => Math.abs(r - rewards[0]!) <= EQUAL_TOL);
  return { advantages: rewards.map((r) => (filtered ? 0 : scaleByStd ? (r - mean) / (std + ADV_EPS) : r - mean)), mean, std, filtered };
}

export interface BatchAdvantages {
  groups: GroupAdvantages[];
  filteredGroups: number;
  /** Stats over the rollouts of kept groups. */
  stats: { mean: number; std: number; min: number; max: number; absMean: number };
}

export function batchAdvantages(groupRewards: readonly (readonly number[])[], scaleByStd = true): BatchAdvantages {
  const groups = groupRewards.map((g) => groupAdvantages(g, scaleByStd));
  const kept = groups.filter((g) => !g.filtered).flatMap((g) => g.advantages);
  const n = kept.length;
  const mean = n ? kept.reduce((a, b) => a + b, 0) / n : 0;
  const std = n ? Math.sqrt(kept.reduce((a, x) => a + (x - mean) ** 2, 0) / n) : 0;
  return {
    groups,
    filteredGroups: groups.filter((g) => g.filtered).length,
    stats: {
      mean,
      std,
      min: n ? Math.min(...kept) : 0,
      max: n ? Math.max(...kept) : 0,
      absMean: n ? kept.reduce((a, x) => a + Math.abs(x), 0) / n : 0,
    },
  };
}
