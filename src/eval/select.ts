/**
 * Frame-selection strategies without a model (their eval reports evidence recall, not accuracy):
 *  - uniform: N frames at the centres of N equal slices, at one rung;
 *  - content-aware: a cheap low-resolution scan, then N frames placed at equal quantiles of a
 *    density that grows with how much each scanned moment differs from its neighbours and from
 *    the video's typical look (scene changes and unusual segments get more frames);
 *  - oracle: one frame in the middle of each evidence interval, at the lowest rung legible for it.
 */
import type { DatasetItem } from "../../datasets/schema.js";
import { getFrames, LADDERS, pixelsAt, probe, targetSize, tokensFor, uniformTimes, type ExtractOptions, type Frame, type LadderName, type VideoInfo } from "../video/index.js";

export const STRATEGIES = ["uniform", "content-aware", "oracle-select"] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export interface SelectionCall {
  tool: string;
  rung: string;
  frames: Array<Pick<Frame, "timestamp" | "width" | "height" | "tokens">>;
  tokens: number;
  decodeMs: number;
}

export interface Selection {
  /** Observations the strategy looked at, in order. */
  calls: SelectionCall[];
  /** Tokens spent on a pre-scan that no model sees (content-aware), reported apart. */
  scanTokens: number;
  scanDecodeMs: number;
  video: VideoInfo;
}

export interface SelectOptions {
  ladder: LadderName;
  frames: number;
  rung: string;
  extract?: ExtractOptions;
  /**
   * false: do not decode the selected frames; report the frame exact seeking returns (the one
   * shown at t, from the probed constant frame rate) at the rung's size. Same timestamps and
   * sizes as decoding on constant-frame-rate videos (the synthetic suite), in a fraction of the time.
   */
  decode?: boolean;
}

/** The frames exact seeking would return, without decoding them (constant frame rate assumed). */
export function plannedFrames(info: VideoInfo, times: readonly number[], ladder: LadderName, rung: string): SelectionCall["frames"] {
  const size = targetSize(info, { ladder, rung });
  const last = Math.max(0, info.frameCount - 1);
  return times.map((t) => ({ timestamp: Math.round((Math.min(last, Math.floor(t * info.fps + 1e-6)) / info.fps) * 1000) / 1000, ...size, tokens: tokensFor(size) }));
}

async function fetch(video: string, times: number[], ladder: LadderName, rung: string, tool: string, o: SelectOptions, info: VideoInfo): Promise<SelectionCall> {
  if (o.decode === false) {
    const frames = plannedFrames(info, times, ladder, rung);
    return { tool, rung, frames, tokens: frames.reduce((n, f) => n + f.tokens, 0), decodeMs: 0 };
  }
  const r = await getFrames({ video, at: times, resolution: { ladder, rung }, mode: "exact" }, o.extract);
  return { tool, rung, frames: r.frames.map(({ timestamp, width, height, tokens }) => ({ timestamp, width, height, tokens })), tokens: r.tokens, decodeMs: r.decodeMs };
}

export async function uniformSelect(video: string, o: SelectOptions): Promise<Selection> {
  const info = await probe(video, o.extract);
  const call = await fetch(video, uniformTimes(info.duration, o.frames), o.ladder, o.rung, "uniform", o, info);
  return { calls: [call], scanTokens: 0, scanDecodeMs: 0, video: info };
}

/** Scan frames per second of video, capped: cheap enough for long videos. */
const SCAN_PER_S = 2;
const SCAN_MAX = 96;
const SCAN_MIN = 16;

/** Mean absolute difference of two equally sized RGB frames. */
function mad(a: Buffer, b: Buffer): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

/** Times at equal quantiles of a piecewise-constant density over scan cells. */
export function quantileTimes(weights: readonly number[], duration: number, n: number): number[] {
  const cell = duration / weights.length;
  const total = weights.reduce((s, w) => s + w, 0);
  const out: number[] = [];
  let acc = 0, i = 0;
  for (let k = 0; k < n; k++) {
    const target = ((k + 0.5) / n) * total;
    while (i < weights.length - 1 && acc + weights[i]! < target) acc += weights[i++]!;
    const frac = weights[i]! > 0 ? (target - acc) / weights[i]! : 0.5;
    out.push(Math.round(Math.min(duration, (i + Math.max(0, Math.min(1, frac))) * cell) * 1000) / 1000);
  }
  return out;
}

export async function contentAwareSelect(video: string, o: SelectOptions): Promise<Selection> {
  const info = await probe(video, o.extract);
  const duration = info.duration;
  const m = Math.max(SCAN_MIN, Math.min(SCAN_MAX, Math.round(duration * SCAN_PER_S)));
  // The scan uses the smallest rung there is, in keyframe-tolerant mode: cheap by construction.
  const scan = await getFrames({ video, at: uniformTimes(duration, m), resolution: { ladder: "tiny", rung: "low" }, mode: "tolerant" }, o.extract);
  const fr = scan.frames;
  const mean = Buffer.alloc(fr[0]!.rgb.length);
  const acc = new Float64Array(mean.length);
  for (const f of fr) for (let i = 0; i < acc.length; i++) acc[i]! += f.rgb[i]!;
  for (let i = 0; i < acc.length; i++) mean[i] = Math.round(acc[i]! / fr.length);
  const change = fr.map((f, i) => (i > 0 ? mad(f.rgb, fr[i - 1]!.rgb) : 0) + (i + 1 < fr.length ? mad(f.rgb, fr[i + 1]!.rgb) : 0));
  const unusual = fr.map((f) => mad(f.rgb, mean));
  const norm = (xs: number[]) => {
    const s = xs.reduce((a, b) => a + b, 0) / xs.length;
    return xs.map((x) => (s > 0 ? x / s : 1));
  };
  const c = norm(change), u = norm(unusual);
  // A floor keeps some coverage everywhere; squaring concentrates frames on outliers.
  const weights = c.map((ci, i) => 0.3 + (0.5 * ci + 0.5 * u[i]!) ** 2);
  const call = await fetch(video, quantileTimes(weights, duration, o.frames), o.ladder, o.rung, "content-aware", o, info);
  return { calls: [call], scanTokens: scan.tokens, scanDecodeMs: scan.decodeMs, video: info };
}

/** Lowest rung of the ladder whose output has at least `minPixels` (the highest if none does). */
export function legibleRung(ladder: LadderName, src: { width: number; height: number }, minPixels: number): string {
  const rungs = LADDERS[ladder].rungs;
  return (rungs.find((r) => pixelsAt(src, { ladder, rung: r.name }) >= minPixels) ?? rungs[rungs.length - 1]!).name;
}

export async function oracleSelect(video: string, item: Pick<DatasetItem, "evidence">, o: SelectOptions): Promise<Selection> {
  const info = await probe(video, o.extract);
  const calls: SelectionCall[] = [];
  for (const iv of item.evidence ?? []) {
    const rung = legibleRung(o.ladder, info, iv.min_pixels);
    calls.push(await fetch(video, [Math.round(((iv.start + iv.end) / 2) * 1000) / 1000], o.ladder, rung, "oracle", o, info));
  }
  return { calls, scanTokens: 0, scanDecodeMs: 0, video: info };
}
