/**
 * The oracle policy: knows a dataset item's evidence intervals and answer, so it runs in eval
 * (an upper bound) and teacher-data generation (SFT), never on a bare video. Each turn it says
 * what is missing, looks at the first uncovered interval at the smallest rung that makes it
 * legible (min_pixels), and answers once everything is covered or on its last turn. Wording,
 * an optional scouting look and how looks are split vary with the seed, within 1..maxTurns turns.
 *
 * The item may steer its look with `meta.look = {tool?: "get_frames" | "get_clip", frames?: n}`
 * (e.g. a counting task wants a dense clip).
 */
import { z } from "zod";
import { FramemindError } from "../errors.js";
import { LADDERS, targetSize, type LadderName, type Size } from "../video/index.js";
import { Rng } from "../nn/rng.js";
import { callCost, formatTurn } from "../agent/protocol.js";
import { covers } from "../eval/evidence.js";
import type { DatasetItem, EvidenceInterval } from "../../datasets/schema.js";
import type { EvidenceFrame, Policy, PolicyInput, PolicyStep } from "./types.js";

const Look = z.object({ tool: z.enum(["get_frames", "get_clip"]).optional(), frames: z.number().int().min(1).max(20).optional() });

export interface OracleConfig {
  item: Pick<DatasetItem, "id" | "answer" | "evidence" | "meta">;
  seed: number;
}

/**
 * Seen well enough: a frame inside the interval with min_pixels (it *covers* it, DESIGN.md §7),
 * or with the most pixels this video's ladder can give, when even the top rung is below min_pixels.
 */
function seenWell(iv: EvidenceInterval, frames: readonly EvidenceFrame[], bestPixels: number): boolean {
  const reachable = { ...iv, min_pixels: Math.min(iv.min_pixels, bestPixels) };
  return frames.some((f) => covers(f, reachable));
}

/** Smallest rung whose frames have min_pixels on this video (the top rung if none does). */
export function legibleRung(ladder: LadderName, video: Size, minPixels: number): string {
  const rungs = LADDERS[ladder].rungs;
  const ok = rungs.find((r) => {
    const s = targetSize(video, { ladder, rung: r.name });
    return s.width * s.height >= minPixels;
  });
  return (ok ?? rungs[rungs.length - 1]!).name;
}

const r1 = (t: number) => Math.round(t * 10) / 10;
const f1 = (t: number) => t.toFixed(1);

/** `k` timestamps on the 0.1 s grid strictly inside [start, end] where possible. */
function insideTimes(iv: EvidenceInterval, k: number, duration: number): number[] {
  const lo = Math.ceil(iv.start * 10 - 1e-6) / 10;
  const hi = Math.min(Math.floor(iv.end * 10 + 1e-6) / 10, Math.floor(duration * 10) / 10);
  if (hi < lo) return [Math.min(r1((iv.start + iv.end) / 2), Math.floor(duration * 10) / 10)];
  const out = new Set<number>();
  for (let i = 0; i < k; i++) out.add(r1(Math.min(hi, Math.max(lo, iv.start + ((i + 0.5) * (iv.end - iv.start)) / k))));
  return [...out].sort((a, b) => a - b);
}

const MISSING = [
  "The overview does not show the moment around {a}-{b} s clearly enough at {size} to tell.",
  "Nothing I have seen so far resolves the span {a}-{b} s; the frames there are too coarse or missing.",
  "I still need a closer look at {a}-{b} s: the frames I have are too small or miss it.",
  "The part of the video that matters is around {a}-{b} s, and I have not seen it well yet.",
];
const LOOK = [
  "I will fetch {n} frame(s) there at the {rung} rung.",
  "Looking again at {a}-{b} s with {n} frame(s) at {rung}.",
  "Asking for {n} frame(s) at {rung} in that span.",
];
const SCOUT = [
  "First a cheap look around {a}-{b} s at {rung} to place the event.",
  "Before zooming in I will scan {a}-{b} s at {rung}.",
];
const MANY = [
  "Several moments matter ({spans} s) and I have not seen them well yet. One frame in each, {n} in all, at {rung}.",
  "The events at {spans} s are each short; I will look once inside each of them at the {rung} rung.",
];
const ANSWER = [
  "The frames at {ts} s show what the question asks about. The answer is {ans}.",
  "Now the evidence at {ts} s is clear enough. The answer is {ans}.",
  "From the frames at {ts} s I can answer: {ans}.",
];
const GUESS = [
  "This is my last turn, so I answer with what I have seen: {ans}.",
  "No turns are left; answering from the evidence so far: {ans}.",
];

function fill(t: string, v: Record<string, string | number>): string {
  return t.replace(/\{(\w+)\}/g, (_, k: string) => String(v[k]));
}

export function createOraclePolicy(cfg: OracleConfig): Policy {
  const evidence = cfg.item.evidence;
  if (!evidence?.length) throw new FramemindError("FM_ERR_POLICY_CONFIG", { policy: "oracle", reason: `item '${cfg.item.id}' has no evidence intervals` });
  const lookHint = Look.safeParse(cfg.item.meta?.look ?? {});
  const look = lookHint.success ? lookHint.data : {};
  // One stream per (seed, item), so a dataset's trajectories do not depend on their order.
  let itemHash = 0;
  for (const ch of cfg.item.id) itemHash = (Math.imul(itemHash, 31) + ch.charCodeAt(0)) >>> 0;
  const base = new Rng(cfg.seed).fork(itemHash);

  return {
    id: "oracle",
    settings: { seed: cfg.seed },
    // Stateless across calls: everything is derived from the input, so one object can serve many runs.
    async step(input: PolicyInput): Promise<PolicyStep> {
      const rng = base.fork(input.turn.index);
      const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;
      const video = { width: input.video.width, height: input.video.height };
      const top = targetSize(video, { ladder: input.ladder, rung: LADDERS[input.ladder].rungs.at(-1)!.name });
      const seen = input.allEvidence.flat();
      const missing = evidence.filter((iv) => !seenWell(iv, seen, top.width * top.height));
      const turnsLeft = input.turn.max - input.turn.index;
      const answer = (tpl: readonly string[]) => {
        const ts = input.evidence.map((f) => f1(f.timestamp)).join(", ") || "none";
        return { text: formatTurn({ think: fill(pick(tpl), { ts, ans: cfg.item.answer }), answer: cfg.item.answer }) };
      };
      if (missing.length === 0) return answer(ANSWER);
      if (input.turn.mustAnswer || input.tools.length === 0) return answer(GUESS);

      const iv = missing[0]!;
      const a = f1(iv.start);
      const b = f1(iv.end);
      const last = input.evidence[0];
      const think0 = fill(pick(MISSING), { a, b, size: last ? `${last.width}x${last.height}` : "this size" });
      const limits = { ladder: input.ladder, video };
      const left = input.budget.remainingVisualTokens;
      const rungs: string[] = LADDERS[input.ladder].rungs.map((r) => r.name);

      const legible = legibleRung(input.ladder, video, iv.min_pixels);
      const fits = (tool: string, n: number, rung: string) => callCost(tool, n, rung, limits) <= left;

      // Optional scouting look (variety in turn count), only when the lowest rung is not already
      // legible (else the scan would be the look) and turns remain for the real look and the answer.
      if (input.turn.index === 0 && legible !== rungs[0] && turnsLeft >= missing.length + 2 && rng.uniform() < 0.35) {
        const pad = Math.max(0.5, iv.end - iv.start);
        const s = r1(Math.max(0, iv.start - pad));
        const e = r1(Math.min(input.video.duration, iv.end + pad));
        const n = Math.min(4, input.budget.maxFramesPerCall);
        if (e > s && callCost("get_frames", n, rungs[0]!, limits) <= left / 3) {
          const think = `${think0} ${fill(pick(SCOUT), { a: f1(s), b: f1(e), rung: rungs[0]! })}`;
          return { text: formatTurn({ think, call: { name: "get_frames", arguments: { start: s, end: e, count: n, rung: rungs[0]! } } }) };
        }
      }

      // Several separate moments (e.g. counting): one frame in each, in one call, when the turns
      // left cannot take one look each (or, seeded, sometimes anyway).
      if (missing.length > 1 && (turnsLeft - 1 < missing.length || rng.uniform() < 0.5)) {
        let group = missing.slice(0, input.budget.maxFramesPerCall);
        let rung = rungs[Math.max(...group.map((g) => rungs.indexOf(legibleRung(input.ladder, video, g.min_pixels))))]!;
        while (!fits("get_frames", group.length, rung) && group.length > 1) group = group.slice(0, -1);
        while (!fits("get_frames", group.length, rung) && rungs.indexOf(rung) > 0) rung = rungs[rungs.indexOf(rung) - 1]!;
        if (fits("get_frames", group.length, rung)) {
          const timestamps = [...new Set(group.map((g) => insideTimes(g, 1, input.video.duration)[0]!))].sort((x, y) => x - y);
          const spans = group.map((g) => `${f1(g.start)}-${f1(g.end)}`).join(", ");
          const think = fill(pick(MANY), { spans, n: timestamps.length, rung });
          return { text: formatTurn({ think, call: { name: "get_frames", arguments: { timestamps, rung } } }) };
        }
      }

      let rung = legible;
      const span = iv.end - iv.start;
      const maxFrames = input.budget.maxFramesPerCall;
      const tool = maxFrames >= 8 ? (look.tool ?? (span >= 1.5 ? "get_clip" : "get_frames")) : "get_frames";
      const minN = tool === "get_clip" ? 8 : 1;
      let n = Math.min(tool === "get_clip" ? 20 : maxFrames, maxFrames, Math.max(minN, look.frames ?? Math.ceil(span * 4)));
      // Fit the budget: fewer frames first, then a lower rung.
      while (!fits(tool, n, rung) && n > minN) n--;
      while (!fits(tool, n, rung) && rungs.indexOf(rung) > 0) rung = rungs[rungs.indexOf(rung) - 1]!;
      if (!fits(tool, n, rung)) return answer(GUESS);

      const think = `${think0} ${fill(pick(LOOK), { a, b, n, rung })}`;
      if (tool === "get_clip") {
        const lastT = Math.floor(input.video.duration * 10) / 10;
        const start = Math.min(r1(iv.start), r1(lastT - 0.1));
        const end = Math.min(Math.max(r1(iv.end), r1(start + 0.1)), lastT);
        return { text: formatTurn({ think, call: { name: "get_clip", arguments: { start, end, count: n, rung } } }) };
      }
      return { text: formatTurn({ think, call: { name: "get_frames", arguments: { timestamps: insideTimes(iv, n, input.video.duration), rung } } }) };
    },
  };
}
