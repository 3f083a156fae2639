/**
 * A deliberately imperfect teacher (issue 7: "RL must fix what imitation got wrong"). It wraps
 * the cue teacher and, part of the time, spoils its look: the call goes to the wrong moment
 * (the window moved half the video away) or to too low a rung (high -> low), or it skips the
 * look and answers from the overview (answer-only demonstrations). The answer stays the
 * teacher's, so SFT on these trajectories learns to look badly (or not at all) and then guess;
 * the outcome reward of GRPO can tell the looks apart. Call parsing and formatting go through the
 * one protocol module. Seeded per (seed, item, turn), so the data set is reproducible.
 */
import { z } from "zod";
import { formatTurn, parseTurn } from "../../agent/protocol.js";
import { hashString, Rng } from "../../nn/index.js";
import { LADDERS } from "../../video/index.js";
import type { Policy, PolicyInput, PolicyStep } from "../../policy/types.js";

/** The flaw switches, one schema for the SFT drills and the `run` pipeline's teacher. */
export const FlawRatesSchema = z.object({
  /** Probability that a teacher call looks at the wrong moment (the window moved half the video away). */
  wrongMoment: z.number().min(0).max(1).default(0),
  /** Probability that a high-rung teacher call is made at the lowest rung instead. */
  lowRung: z.number().min(0).max(1).default(0),
  /**
   * Probability that the teacher answers in its first turn, from the overview alone (its answer is
   * still the item's): demonstrations that never show the look the answer needed.
   */
  skipLook: z.number().min(0).max(1).default(0),
});
export type FlawRates = z.infer<typeof FlawRatesSchema>;
export type FlawKind = keyof FlawRates;
export const FLAW_KINDS = Object.keys(FlawRatesSchema.shape) as readonly FlawKind[];
export type TeacherFlaws = FlawRates & { seed: number };

const perKind = (value: (k: FlawKind) => number): FlawRates => Object.fromEntries(FLAW_KINDS.map((k) => [k, value(k)])) as FlawRates;
/** Just the flaw rates of a config object that holds them among other fields. */
export const flawRates = (o: FlawRates): FlawRates => perKind((k) => o[k]);
/** Zero counts per flaw kind. */
export const flawCounts = (): Record<FlawKind, number> => perKind(() => 0);
export const NO_FLAWS: TeacherFlaws = { ...flawCounts(), seed: 0 };
export const hasFlaws = (f: FlawRates): boolean => FLAW_KINDS.some((k) => f[k] > 0);

const r1 = (t: number) => Math.round(t * 10) / 10;

/** Moves t half the video away (wrapping), so the look misses the cue segment. */
function away(t: number, duration: number): number {
  const last = Math.floor(duration * 10) / 10;
  return Math.min(last, r1((t + duration / 2) % duration));
}

/**
 * Rewrites the think's decision (its last sentence starting "I ": "I watch 6.0 to 11.0 s
 * closely.", "I read it at the full rung.") and leaves what it saw as written. A teacher whose
 * words name one look and whose call makes another teaches the model to copy its words: measured,
 * the flaw did not survive SFT (docs/model.md, "Session 6").
 */
function decide(think: string, edit: (clause: string) => string): string {
  const k = Math.max(think.lastIndexOf(" I "), think.startsWith("I ") ? 0 : -1);
  return k < 0 ? think : think.slice(0, k) + edit(think.slice(k));
}

export function withFlaws(inner: Policy, itemId: string, f: TeacherFlaws, onFlaw?: (kind: FlawKind) => void): Policy {
  if (!hasFlaws(f)) return inner;
  const base = hashString(`${f.seed}:${itemId}`);
  return {
    id: `${inner.id}+flawed`,
    async step(input: PolicyInput, opts): Promise<PolicyStep> {
      // Its own stream, so adding the switch left the other flaws' draws (and data sets) as they were.
      if (input.turn.index === 0 && !input.turn.mustAnswer && f.skipLook > 0 && new Rng(hashString(`${base}:skip`)).uniform() < f.skipLook) {
        onFlaw?.("skipLook");
        return inner.step({ ...input, turn: { ...input.turn, mustAnswer: true } }, opts);
      }
      const out = await inner.step(input, opts);
      const limits = { ladder: input.ladder, duration: input.video.duration, video: { width: input.video.width, height: input.video.height }, maxFramesPerCall: 64, remainingVisualTokens: Number.MAX_SAFE_INTEGER };
      const t = parseTurn(out, limits);
      if (t.kind !== "call") return out;
      const rng = new Rng(hashString(`${base}:${input.turn.index}`));
      const args: Record<string, unknown> = { ...t.call.arguments };
      const d = input.video.duration;
      let changed = false;
      let think = t.think ?? "";
      if (rng.uniform() < f.wrongMoment) {
        const moved = new Map<string, string>();
        const move = (from: number, to: number) => (moved.set(from.toFixed(1), to.toFixed(1)), to);
        if (Array.isArray(args.timestamps)) args.timestamps = (args.timestamps as number[]).map((x) => move(x, away(x, d)));
        if (typeof args.start === "number" && typeof args.end === "number") {
          const len = args.end - args.start;
          const s = away(args.start, d);
          const start = r1(Math.max(0, Math.min(s, Math.floor(d * 10) / 10 - len)));
          args.end = move(args.end, r1(start + len));
          args.start = move(args.start, start);
        }
        think = decide(think, (clause) => clause.replace(/\d+\.\d\b/g, (x) => moved.get(x) ?? x));
        changed = true;
        onFlaw?.("wrongMoment");
      }
      if (rng.uniform() < f.lowRung && args.rung !== undefined) {
        const low = LADDERS[input.ladder].rungs[0]!.name;
        if (args.rung !== low) {
          const high = String(args.rung);
          think = decide(think, (clause) => clause.replace(new RegExp(`\\b${high}\\b`, "g"), low));
          args.rung = low;
          changed = true;
          onFlaw?.("lowRung");
        }
      }
      if (!changed) return out;
      delete args.mode; // the parser's default; the teacher never writes it
      return { ...out, text: formatTurn({ think, call: { name: t.call.name, arguments: args } }) };
    },
  };
}
