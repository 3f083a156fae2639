/**
 * SFT drills: extra teacher turns on synthetic items rendered in-process (no encode, no decode).
 *
 * Why: the embedded model's weak skill is reading (a digit, a colour order, a count, a code) from
 * frames it has never seen; a few thousand encoded videos give a few hundred instances per family,
 * and the model then fits its training clips instead of learning to read. Rendering only the frames
 * a trajectory looks at costs ~60-90 ms instead of ~2 s per video (render, encode, teacher), so a run can add thousands of items.
 *
 * Each drill runs the cue teacher over a fresh item exactly as the agent loop would (the first
 * observation: 8 low frames, keyframe-tolerant; calls parsed and validated by the agent's protocol
 * module; clips spread as the video layer spreads them; frames shown at t) and yields one example
 * per turn, built by the same sequence code as every other example. Items come from
 * makeItem(seed, "train", i): the split bits keep them apart from any validation or test item.
 */
import { inputLimits, parseTurn } from "../agent/protocol.js";
import { makeItem } from "../../datasets/synth/generate.js";
import { FAMILIES, type Family, type TextPlace } from "../../datasets/synth/families.js";
import { renderAt } from "../../datasets/synth/render.js";
import { sceneRenderer } from "../../datasets/synth/scene.js";
import { toolSpecs } from "../../prompts/index.js";
import { CHANGE_ZOOM_TURNS, CLOSE_RUNG, createCueTeacher, readZoom, type CueTeacherOptions } from "../policy/tiny/teacher.js";
import { contextFromInput, exampleLength, turnExample, type Example, type TurnContext } from "../policy/tiny/sequence.js";
import type { DatasetItem } from "../../datasets/schema.js";
import type { Scene } from "../../datasets/synth/scene.js";
import type { Tokenizer } from "../policy/tiny/tokenizer.js";
import type { EvidenceFrame, HistoryTurn, PolicyInput } from "../policy/types.js";
import { spreadTimes, targetSize, uniformTimes, type Region } from "../video/index.js";
import { LADDER_DEFAULTS } from "../agent/loop.js";
import { withFlaws, type TeacherFlaws } from "./grpo/flawed-teacher.js";
import { evidenceRecall } from "../eval/evidence.js";

export interface DrillOptions {
  /** Items to render. */
  n: number;
  /** Suite seed of the drill items (any seed: the split bits keep them out of val/test). */
  seed: number;
  maxTurns?: number;
  maxFramesPerCall?: number;
  /** Uniform-baseline drills: this many uniform frames at this rung, answered in one turn. */
  uniform?: { frames: number; rung: string };
  /** The imperfect teacher's flaws (issue 7), so drills spoil their looks as the teacher data does. */
  flaws?: TeacherFlaws;
  /** Keep only drills whose frames cover every evidence interval (the answer is visible in them). */
  requireEvidence?: boolean;
  /** Also a reading example per item of a READING_FAMILIES family (readingContext). */
  reading?: boolean;
  /** Option answers name the option's text (turnExample). */
  optionText?: boolean;
  /** How the cue teacher writes its turns (CueTeacherOptions); changeZoom gives change items CHANGE_ZOOM_TURNS turns. */
  teacher?: CueTeacherOptions;
  /** Relative share of each family among the n items (missing = 1); see drillIndices. */
  families?: Partial<Record<Family, number>>;
  /**
   * Only each item's last this-many turns when the last is an answer (no reading view): 1 = the
   * answer turn alone, 2 = also the turn before it, which decided to look once more (0 = all turns).
   */
  lastTurns?: number;
}

/**
 * Which items (makeItem indices) n drills render. Item i is of family FAMILIES[i % 6], so equal
 * weights give 0..n-1 (the data sets of earlier runs), and a family of weight w gets its share
 * from its own indices (6k + its place): fresh items, never a repeat.
 */
export function drillIndices(n: number, families: Partial<Record<Family, number>> = {}): number[] {
  const w = FAMILIES.map((f) => families[f] ?? 1);
  const total = w.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError("drill family weights must not all be 0");
  // Largest remainder, ties to the earlier family, so the quotas add up to n exactly (and equal weights give 0..n-1).
  const exact = w.map((x) => (n * x) / total);
  const quota = exact.map(Math.floor);
  const order = exact.map((x, f) => [x - Math.floor(x), f] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const short = n - quota.reduce((a, b) => a + b, 0);
  for (let k = 0; k < short; k++) quota[order[k]![1]]! += 1;
  const out: number[] = [];
  for (let f = 0; f < FAMILIES.length; f++) for (let k = 0; k < quota[f]!; k++) out.push(k * FAMILIES.length + f);
  return out.sort((a, b) => a - b);
}

/**
 * Families whose answer is read off the frames that hold it. Count and when are left out: shown only
 * their evidence frames, "how many" would become "how many frames" and "when" the time of frame 0.
 */
export const READING_FAMILIES: readonly string[] = ["flash-digit", "order", "small-code", "change"];

/**
 * The reading view of an item: its question with only the frames that hold the answer (each
 * evidence interval's middle frame, at the rung the evidence needs), and the answer due now.
 * Why: measured with bench/reading-probe.ts (flash-digit, 2000 items, linear stem), a model
 * trained only on the teacher's answer turns stays at chance (9% at 600 steps): among 16 frames
 * it must find the one with the digit and read it, and neither skill gets a gradient before the
 * other exists. Trained on reading views as well, it reads the answer turns of held-out items
 * (74% at 600 steps): reading is learnt on the easy view, finding on the hard one.
 * Frames are at the rung the teacher reads them at: low, or CLOSE_RUNG for small text (`close`
 * overrides it); `rung` puts every frame at one rung.
 */
export function readingContext(item: DatasetItem, scene: Scene, opts: { rung?: string; close?: string; zoomRegion?: boolean; changeZoom?: boolean; readJitter?: number } = {}): TurnContext {
  const low = targetSize(scene, { ladder: "tiny", rung: "low" });
  const family = item.meta?.family;
  const boxes = (item.meta as { text?: TextPlace[] } | undefined)?.text ?? [];
  // With the two-step zooms, small text is read from the second zoom's crop: small-code's code
  // (zoomRegion), or change's sign that changed, after its change (changeZoom: the teacher's
  // answer names that sign's last digit; its box is the one drawn second).
  const zoomed = family === "small-code" && opts.zoomRegion ? boxes[0] : family === "change" && opts.changeZoom ? boxes[1] : undefined;
  const region = zoomed ? readZoom(zoomed, scene, item.id, opts.readJitter) : undefined;
  const evidence = family === "change" && opts.changeZoom ? (item.evidence ?? []).slice(-1) : (item.evidence ?? []);
  const frames = evidence.flatMap((e) => renderAt(scene, [(e.start + e.end) / 2], opts.rung ?? ((e.min_pixels ?? 0) > low.width * low.height ? (opts.close ?? CLOSE_RUNG) : "low"), "exact", undefined, region));
  return { question: item.question, ...(item.options ? { options: item.options } : {}), history: [], mustAnswer: true, frames };
}

export interface Drill {
  turns: { input: PolicyInput; text: string }[];
  /** The frames seen cover every evidence interval of the item (null: the item has none). */
  evidenceSeen: boolean | null;
}

/** The cue teacher's turns on one rendered item: each turn's input and text. */
export async function drillTurns(seed: number, index: number, opts: Pick<DrillOptions, "maxTurns" | "maxFramesPerCall" | "uniform" | "flaws" | "teacher"> = {}): Promise<Drill> {
  const { item, scene } = makeItem(seed, "train", index);
  const cue = createCueTeacher(item, opts.teacher);
  const teacher = opts.flaws ? withFlaws(cue, item.id, opts.flaws) : cue;
  const frame = sceneRenderer(scene);
  const duration = scene.frameCount / scene.fps;
  // The uniform baseline looks once (its frames, tolerant) and must answer.
  const maxTurns = opts.uniform ? 1 : (opts.maxTurns ?? (opts.teacher?.changeZoom && item.meta?.family === "change" ? CHANGE_ZOOM_TURNS : 4));
  const maxFramesPerCall = opts.maxFramesPerCall ?? 16;
  const d = LADDER_DEFAULTS.tiny;
  const first = opts.uniform ?? { frames: d.frames, rung: d.rung };
  const video = { duration, fps: scene.fps, width: scene.width, height: scene.height };
  let evidence: EvidenceFrame[] = renderAt(scene, uniformTimes(duration, first.frames), first.rung, "tolerant", frame);
  const allEvidence = [evidence];
  const history: HistoryTurn[] = [];
  const out: { input: PolicyInput; text: string }[] = [];
  let used = evidence.reduce((s, f) => s + f.tokens, 0);
  for (let turn = 0; turn < maxTurns; turn++) {
    const mustAnswer = turn === maxTurns - 1;
    const budget = { maxVisualTokens: d.maxVisualTokens, usedVisualTokens: used, remainingVisualTokens: Math.max(0, d.maxVisualTokens - used), maxFramesPerCall };
    const input: PolicyInput = {
      question: item.question,
      ...(item.options ? { options: item.options } : {}),
      system: "",
      user: "",
      history: [...history],
      evidence,
      allEvidence: [...allEvidence],
      ladder: "tiny",
      video,
      budget,
      turn: { index: turn, max: maxTurns, mustAnswer },
      tools: mustAnswer ? [] : toolSpecs("tiny"),
    };
    const { text } = await teacher.step(input, {});
    out.push({ input, text });
    const parsed = parseTurn({ text }, inputLimits(input), mustAnswer);
    if (parsed.kind !== "call") break;
    const a = parsed.call.arguments as { timestamps?: number[]; start?: number; end?: number; count?: number; rung: string; region?: Region };
    const times = a.timestamps ?? spreadTimes(a.start!, Math.min(a.end!, duration), a.count!);
    evidence = renderAt(scene, times, a.rung, "exact", frame, a.region);
    allEvidence.push(evidence);
    used += parsed.cost;
    const f0 = evidence[0]!;
    history.push({
      index: turn,
      text,
      call: parsed.call,
      observation: { kind: "frames", text: "", result: { tool: parsed.call.name, timestamps: evidence.map((f) => f.timestamp), width: f0.width, height: f0.height, tokens: parsed.cost, rung: a.rung, mode: "exact", cached: false, decodeMs: 0, ...(a.region ? { region: a.region } : {}) } },
    });
  }
  return { turns: out, evidenceSeen: evidenceRecall(allEvidence.flat(), item.evidence) };
}

/** Drill examples for SFT (one per teacher turn), built like every other example. */
export async function drillExamples(opts: DrillOptions, tok: Tokenizer, maxLen: number, onProgress?: (done: number, total: number) => void): Promise<Example[]> {
  const out: Example[] = [];
  const indices = drillIndices(opts.n, opts.families);
  for (const [done, i] of indices.entries()) {
    const drill = await drillTurns(opts.seed, i, opts);
    const eo = { optionText: opts.optionText ?? false };
    // requireEvidence drops the turns of a look that missed the evidence, not the reading view,
    // which always shows it (so the uniform baseline learns to read as much as the agent does).
    const last = drill.turns.at(-1)?.text ?? "";
    const turns = !opts.lastTurns ? drill.turns : last.includes("<answer>") ? drill.turns.slice(-opts.lastTurns) : [];
    const examples = opts.requireEvidence && drill.evidenceSeen === false ? [] : turns.map(({ input, text }) => turnExample(contextFromInput(input), text, tok, eo));
    // The reading view is answered with the teacher's answer turn (its think text and answer).
    if (opts.reading && !opts.lastTurns && last.includes("<answer>")) {
      const { item, scene } = makeItem(opts.seed, "train", i);
      if (READING_FAMILIES.includes(String(item.meta?.family))) examples.push({ ...turnExample(readingContext(item, scene, { zoomRegion: opts.teacher?.zoomRegion ?? false, changeZoom: opts.teacher?.changeZoom ?? false, readJitter: opts.teacher?.readJitter ?? 0 }), last, tok, eo), reading: true });
    }
    out.push(...examples.filter((e) => exampleLength(e) <= maxLen));
    onProgress?.(done + 1, opts.n);
  }
  return out;
}
