/**
 * Dynamic Resolution Frame Sampling (DESIGN.md §6): the G rollouts of one question start from
 * different (frame count, rung) pairs of about equal visual-token cost — many small frames ...
 * few large ones — so a group compares looking strategies, not just sampling noise.
 * Rollout i starts at starts[i mod |starts|]; `off` gives every rollout the same start (ablation).
 */
import { LADDERS, PIXELS_PER_TOKEN, type LadderName } from "../video/index.js";

export interface DrfsStart {
  frames: number;
  rung: string;
  /** Nominal visual tokens of the start (frames x the rung's token cap). */
  tokens: number;
}

export interface DrfsOptions {
  ladder: LadderName;
  /** 'off': one start (`fallback`) for every rollout. */
  mode: "on" | "off";
  /** Visual tokens every start should cost (default: the fallback's cost). */
  tokenBudget?: number;
  /** The single start used when DRFS is off (also the default first observation). */
  fallback: { frames: number; rung: string };
  /** Largest first observation in frames (model sequence length). */
  maxFrames?: number;
}

/**
 * Nominal tokens per frame of a rung: its pixel cap over the patch area. Real frames can cost
 * less (aspect ratio, small sources); the nominal figure keeps starts identical across videos so
 * a rollout's start depends only on its index.
 */
export function rungTokenCap(ladder: LadderName, rung: string): number {
  const r = LADDERS[ladder].rungs.find((x) => x.name === rung);
  if (!r) throw new Error(`unknown rung '${rung}' for ladder '${ladder}' (valid: ${LADDERS[ladder].rungs.map((x) => x.name).join(", ")})`);
  return Math.max(1, Math.floor(r.maxPixels / PIXELS_PER_TOKEN));
}

/** The DRFS starts, cheapest rung (most frames) first. */
export function drfsStarts(o: DrfsOptions): DrfsStart[] {
  const fallback = { ...o.fallback, tokens: o.fallback.frames * rungTokenCap(o.ladder, o.fallback.rung) };
  if (o.mode === "off") return [fallback];
  const budget = o.tokenBudget ?? fallback.tokens;
  const maxFrames = o.maxFrames ?? 64;
  const starts: DrfsStart[] = [];
  for (const r of LADDERS[o.ladder].rungs) {
    const per = rungTokenCap(o.ladder, r.name);
    const frames = Math.min(maxFrames, Math.max(1, Math.round(budget / per)));
    // A rung whose single frame already costs far more than the budget is not an equal-cost start.
    if (per > budget * 1.5) continue;
    if (!starts.some((s) => s.frames === frames && s.rung === r.name)) starts.push({ frames, rung: r.name, tokens: frames * per });
  }
  return starts.length ? starts : [fallback];
}

/** Start of rollout `i` of a group. */
export function startFor(starts: readonly DrfsStart[], i: number): DrfsStart {
  if (starts.length === 0) throw new Error("no DRFS starts");
  return starts[i % starts.length]!;
}
