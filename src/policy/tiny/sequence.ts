/**
 * What the embedded model sees at one turn, shared by the policy (inference) and the trainers
 * (SFT, GRPO), so both build exactly the same sequence:
 *
 *   <bos> question [options]  (<turn> action <obs> result)*  [<last>]  COLSxROWS (<frame> t.t patches)*  <gen>  target <eos>
 *
 * or, when the vocabulary has frame references (tokenizer.ts), each frame is `<fK> patches` with
 * the embedding of `<fK>` also added to each of the frame's patches, and times in the target that
 * name a frame in view are written as its reference (`<f3>`), so calls and "when" answers point
 * at frames instead of copying digits.
 *
 * - the history is compact: each earlier turn's action only (its think text is dropped), and what
 *   came back (frames at a rung, or an error);
 * - only the LATEST evidence frames are shown (as in the paper); the patch grid once, then per frame its
 *   timestamp written digit by digit (so the model can copy times into calls and answers), then
 *   one visual token per 28x28 patch (inputs only, never in the loss);
 * - the target is the turn's raw text; the loss covers it and the closing <eos>.
 * Patches are kept as bytes (a quarter of the memory) and turned into floats per batch.
 */
import { answerByOptionText } from "../../agent/protocol.js";
import { zoomsAsWritten } from "./zoom.js";
import { packSequences, type PackRow, type PromptItem, type SftBatch } from "../../nn/index.js";
import { PATCH, type Region } from "../../video/index.js";
import type { EvidenceFrame, PolicyInput } from "../types.js";
import type { Tokenizer } from "./tokenizer.js";

export const PATCH_DIM = PATCH * PATCH * 3;

/** One turn's input, independent of where it came from (a live PolicyInput or a stored record). */
export interface TurnContext {
  question: string;
  options?: readonly string[];
  history: readonly { text: string; observation: string }[];
  mustAnswer: boolean;
  frames: readonly Pick<EvidenceFrame, "timestamp" | "width" | "height" | "rgb" | "region">[];
}

/** The action part of a turn's text (think dropped): the compact history keeps only this. */
export function actionOf(text: string): string {
  const i = text.indexOf("</think>");
  return (i >= 0 ? text.slice(i + "</think>".length) : text).trim();
}

/** "frames low 20" / "error": what an earlier turn brought back, in words the vocabulary has. */
export function observationOf(obs: { kind: string; result?: { rung: string; timestamps: readonly number[] } }): string {
  if (obs.kind === "frames" && obs.result) return `frames ${obs.result.rung} ${obs.result.timestamps.length}`;
  return obs.kind === "error" ? "error" : "";
}

export function contextFromInput(input: PolicyInput): TurnContext {
  return {
    question: input.question,
    ...(input.options ? { options: input.options } : {}),
    history: input.history.map((h) => ({ text: h.text, observation: observationOf(h.observation.kind === "frames" ? { kind: "frames", result: h.observation.result } : h.observation) })),
    mustAnswer: input.turn.mustAnswer,
    frames: input.evidence,
  };
}

/** The frame's 28x28 patches, row-major, as uint8 RGB (converted to floats per batch). */
export function patchify(f: Pick<EvidenceFrame, "width" | "height" | "rgb">): Uint8Array[] {
  const cols = Math.floor(f.width / PATCH);
  const rows = Math.floor(f.height / PATCH);
  const out: Uint8Array[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const p = new Uint8Array(PATCH_DIM);
      for (let y = 0; y < PATCH; y++) {
        const src = ((r * PATCH + y) * f.width + c * PATCH) * 3;
        p.set(f.rgb.subarray(src, src + PATCH * 3), y * PATCH * 3);
      }
      out.push(p);
    }
  }
  return out;
}

/** Cells per row of the cell index: a patch at (row, col) of its frame is cell row * 16 + col. */
export const CELL_STRIDE = 16;

/** Pixel bytes -> the model's input range [-1, 1]. */
export function patchFloats(p: Uint8Array): Float32Array {
  const out = new Float32Array(p.length);
  for (let i = 0; i < p.length; i++) out[i] = p[i]! / 127.5 - 1;
  return out;
}

/** A sequence item before floats: text token, or patch bytes with their time (and frame reference). */
export type SeqItem = { token: number } | { patch: Uint8Array; time: number; token?: number; cell: number; back?: number };

export interface BuiltContext {
  items: SeqItem[];
  /** Words of the question / history the vocabulary does not know. */
  unknown: string[];
  /** Times of the frames in view: what the turn's frame references point at. */
  frameTimes: number[];
  /** The crop the frames in view show, when they are a zoom: a zoom written now is inside it. */
  view?: Region;
}

const t1 = (t: number) => t.toFixed(1);

/** Context items up to and including <gen>. */
export function buildContext(ctx: TurnContext, tok: Tokenizer): BuiltContext {
  const items: SeqItem[] = [];
  const unknown = new Set<string>();
  const text = (s: string) => {
    const e = tok.encode(s);
    for (const u of e.unknown) unknown.add(u);
    for (const id of e.ids) items.push({ token: id });
  };
  const special = (s: Parameters<Tokenizer["id"]>[0]) => items.push({ token: tok.id(s) });
  special("<bos>");
  text(ctx.question);
  for (const o of ctx.options ?? []) text(`\n${o}`);
  for (const h of ctx.history) {
    special("<turn>");
    text(actionOf(h.text));
    special("<obs>");
    text(h.observation);
  }
  if (ctx.mustAnswer) special("<last>");
  // The patch grid once (an observation's frames share one size), then each frame's time and patches.
  const f0 = ctx.frames[0];
  if (f0) text(`${Math.floor(f0.width / PATCH)}x${Math.floor(f0.height / PATCH)}`);
  ctx.frames.forEach((f, k) => {
    const ref = tok.ref(k);
    // Motion models compare each patch with the same cell of the previous frame when both frames share a grid.
    const before = ctx.frames[k - 1];
    const back = before && Math.floor(before.width / PATCH) === Math.floor(f.width / PATCH) && Math.floor(before.height / PATCH) === Math.floor(f.height / PATCH) ? Math.floor(f.width / PATCH) * Math.floor(f.height / PATCH) : 0;
    if (tok.frameRefs) items.push({ token: ref ?? tok.id("<frame>") });
    else {
      special("<frame>");
      text(` ${t1(f.timestamp)}`);
    }
    const cols = Math.floor(f.width / PATCH);
    patchify(f).forEach((p, i) => {
      // Rows and columns past the 16th share the last one rather than alias another row's cells.
      const cell = Math.min(Math.floor(i / cols), CELL_STRIDE - 1) * CELL_STRIDE + Math.min(i % cols, CELL_STRIDE - 1);
      items.push({ patch: p, time: f.timestamp, cell, ...(ref === undefined ? {} : { token: ref }), ...(back ? { back } : {}) });
    });
  });
  special("<gen>");
  const view = ctx.frames[0]?.region;
  return { items, unknown: [...unknown], frameTimes: ctx.frames.map((f) => f.timestamp), ...(view ? { view } : {}) };
}

/** Context items as the engine's prompt (patch floats materialized). */
export function toPrompt(items: readonly SeqItem[]): PromptItem[] {
  return items.map((it) => ("patch" in it ? { ...it, patch: patchFloats(it.patch) } : it));
}

/** One training example: the context, then the target ids (the turn's text + <eos>). */
export interface Example {
  items: SeqItem[];
  target: number[];
  /** Loss weight of the target tokens (default 1; SFT weighs answer turns up: data.answerWeight). */
  weight?: number;
  /** A reading view (src/train/drills.ts readingContext), not a turn of a trajectory. */
  reading?: boolean;
}

export interface ExampleOptions {
  /** Answers to option questions name the option's text, not its letter (answerByOptionText). */
  optionText?: boolean;
}

/** A turn's training example: its context and its text (times naming frames in view as references) + <eos>. */
export function turnExample(ctx: TurnContext, text: string, tok: Tokenizer, opts: ExampleOptions = {}): Example {
  const built = buildContext(ctx, tok);
  // A zoom is taught as the model writes it (zoom.ts): its centre, in the crop in view's fractions.
  const target = zoomsAsWritten(opts.optionText && ctx.options ? answerByOptionText(text, ctx.options) : text, built.view);
  return { items: built.items, target: [...tok.encode(target, built.frameTimes).ids, tok.id("<eos>")] };
}

export function exampleLength(e: Example): number {
  return e.items.length + e.target.length;
}

/** Examples -> one padded SFT batch (the engine's packer); loss only on the target tokens. */
export function makeBatch(examples: readonly Example[], maxSeq: number, bucket = 16): SftBatch {
  const rows: PackRow[] = examples.map((e) => {
    const items = [...toPrompt(e.items), ...e.target.map((token) => ({ token }))];
    const train = new Float32Array(items.length);
    train.fill(e.weight ?? 1, e.items.length);
    return { items, train };
  });
  return packSequences(rows, { bucket, maxSeq });
}
