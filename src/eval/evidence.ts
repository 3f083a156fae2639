/**
 * The definitions of DESIGN.md §7, in one place (eval, trainer rewards and reports use these):
 *  - a frame COVERS an evidence interval when its timestamp lies inside the interval and its
 *    pixels are at least the interval's min_pixels (a crop: when it holds the interval's region,
 *    its pixels scaled to the whole picture);
 *  - EVIDENCE RECALL of a question: every interval is covered by some frame seen;
 *  - a call is REDUNDANT when every frame it returned was already seen within half a frame
 *    period at the same or a higher resolution (pixels);
 *  - a call BRINGS NEW EVIDENCE when it covers an interval no earlier frame covered.
 */
import type { EvidenceInterval } from "../../datasets/schema.js";

/** A frame as far as evidence is concerned: when, how many pixels, and whether it is a crop. */
export interface SeenFrame {
  timestamp: number;
  width: number;
  height: number;
  region?: readonly number[];
}

/** Timestamps are compared at millisecond precision (the video layer rounds to 1 ms). */
const EPS = 1e-3;

export const pixels = (f: SeenFrame) => f.width * f.height;

/**
 * A crop covers an interval only when the interval says where its evidence is and the crop holds
 * all of it; its pixels then count as the whole picture's at that scale (pixels / the crop's area).
 */
export function covers(frame: SeenFrame, interval: EvidenceInterval): boolean {
  if (!(frame.timestamp >= interval.start - EPS && frame.timestamp <= interval.end + EPS)) return false;
  if (!frame.region) return pixels(frame) >= interval.min_pixels;
  const box = interval.region;
  const [x0, y0, x1, y1] = frame.region as [number, number, number, number];
  if (!box || !(box[0]! >= x0 - EPS && box[1]! >= y0 - EPS && box[2]! <= x1 + EPS && box[3]! <= y1 + EPS)) return false;
  return pixels(frame) / ((x1 - x0) * (y1 - y0)) >= interval.min_pixels;
}

/** Which intervals the frames cover (by index). */
export function coveredIntervals(frames: readonly SeenFrame[], intervals: readonly EvidenceInterval[]): boolean[] {
  return intervals.map((iv) => frames.some((f) => covers(f, iv)));
}

/** All intervals covered; null when the question has no evidence intervals. */
export function evidenceRecall(frames: readonly SeenFrame[], intervals: readonly EvidenceInterval[] | undefined): boolean | null {
  if (!intervals || intervals.length === 0) return null;
  return coveredIntervals(frames, intervals).every(Boolean);
}

/** A frame already seen: within half a frame period, at the same or more pixels (a crop: of the same region). */
export function alreadySeen(frame: SeenFrame, seen: readonly SeenFrame[], framePeriod: number): boolean {
  const sameView = (s: SeenFrame) => String(s.region ?? "") === String(frame.region ?? "");
  return seen.some((s) => sameView(s) && Math.abs(s.timestamp - frame.timestamp) <= framePeriod / 2 + EPS && pixels(s) >= pixels(frame));
}

/** A call whose every frame was already seen. A call that returned no frame is not redundant (it failed). */
export function isRedundant(callFrames: readonly SeenFrame[], seenBefore: readonly SeenFrame[], framePeriod: number): boolean {
  return callFrames.length > 0 && callFrames.every((f) => alreadySeen(f, seenBefore, framePeriod));
}

/** The call covers an interval that the frames seen before it did not. */
export function bringsNewEvidence(callFrames: readonly SeenFrame[], seenBefore: readonly SeenFrame[], intervals: readonly EvidenceInterval[] | undefined): boolean {
  if (!intervals || intervals.length === 0) return false;
  const before = coveredIntervals(seenBefore, intervals);
  return intervals.some((iv, i) => !before[i] && callFrames.some((f) => covers(f, iv)));
}

/** Per-call statistics of a sequence of observations (the first may be an overview, not a call). */
export interface CallStats {
  calls: number;
  redundant: number;
  newEvidence: number;
}

export function callStats(observations: readonly SeenFrame[][], firstIsCall: boolean, framePeriod: number, intervals: readonly EvidenceInterval[] | undefined): CallStats {
  const stats: CallStats = { calls: 0, redundant: 0, newEvidence: 0 };
  const seen: SeenFrame[] = [];
  observations.forEach((obs, i) => {
    if (i > 0 || firstIsCall) {
      stats.calls++;
      if (isRedundant(obs, seen, framePeriod)) stats.redundant++;
      if (bringsNewEvidence(obs, seen, intervals)) stats.newEvidence++;
    }
    seen.push(...obs);
  });
  return stats;
}
