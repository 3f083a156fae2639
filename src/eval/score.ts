/**
 * The one answer scorer (eval and the trainer's accuracy reward): per answer_type,
 *  - option: the letter, in any of "B", "B.", "(B)", "B. blue", "Answer: B", or the option text;
 *  - number: a numeral or number word, equal within the item's tolerance (meta.tolerance, default 0);
 *  - time: seconds (also "1:05", "12.5s"), within meta.tolerance (default 1 s);
 *  - word / text: normalized exact match (case, punctuation, articles and spacing ignored).
 */
import type { DatasetItem } from "../../datasets/schema.js";
import { optionWords } from "../agent/protocol.js";

export type Gradable = Pick<DatasetItem, "answer" | "answer_type" | "options" | "meta">;

export interface ScoreResult {
  correct: boolean;
  /** The prediction as understood (a letter, a number, normalized text), or null if unparseable. */
  parsed: string | null;
}

export const DEFAULT_TIME_TOLERANCE_S = 1;

const WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];

/** Lower case, no punctuation, no articles, single spaces. */
export function normalizeText(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .split(/\s+/)
    .filter((w) => w && !["a", "an", "the"].includes(w))
    .join(" ");
}

/** Strips wrappers a model may add: <answer> tags, "Answer:", surrounding quotes. */
function unwrap(s: string): string {
  return s
    .replace(/<\/?answer>/gi, "")
    .trim()
    .replace(/^(the\s+)?(final\s+)?answer\s*(is)?\s*[:\-]?\s*/i, "")
    .replace(/^["'`]+|["'`]+$/g, "")
    .trim();
}

function parseOption(pred: string, options: readonly string[]): string | null {
  const s = unwrap(pred);
  const letters = options.map((_, k) => String.fromCharCode(65 + k));
  // A capital letter may lead a longer answer; a lone lower-case one counts only on its own.
  const m = /^\(?([A-Z])\)?(?:[.):\s]|$)/.exec(s) ?? /^\(?([a-z])\)?[.)]?$/.exec(s);
  if (m) m[1] = m[1]!.toUpperCase();
  if (m && letters.includes(m[1]!)) return m[1]!;
  const norm = normalizeText(s);
  const k = options.findIndex((o) => normalizeText(optionWords(o)) === norm);
  return k >= 0 ? letters[k]! : null;
}

export function parseNumber(pred: string): number | null {
  const s = unwrap(pred).toLowerCase();
  const w = WORDS.indexOf(normalizeText(s));
  if (w >= 0) return w;
  const m = /-?\d+(?:\.\d+)?/.exec(s.replace(/,/g, ""));
  return m ? Number(m[0]) : null;
}

/** Seconds from "12.5", "12.5s", "12.5 seconds", "1:05" or "0:01:05". */
export function parseSeconds(pred: string): number | null {
  const s = unwrap(pred).toLowerCase();
  const clock = /(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?/.exec(s);
  if (clock) return clock[3] !== undefined ? Number(clock[1]) * 3600 + Number(clock[2]) * 60 + Number(clock[3]) : Number(clock[1]) * 60 + Number(clock[2]);
  return parseNumber(s);
}

function tolerance(item: Gradable, fallback: number): number {
  const t = item.meta?.tolerance;
  return typeof t === "number" && t >= 0 ? t : fallback;
}

export function scoreAnswer(item: Gradable, prediction: string | null | undefined): ScoreResult {
  if (prediction === null || prediction === undefined || prediction.trim() === "") return { correct: false, parsed: null };
  switch (item.answer_type) {
    case "option": {
      const letter = parseOption(prediction, item.options ?? []);
      return { correct: letter === item.answer, parsed: letter };
    }
    case "number": {
      const v = parseNumber(prediction);
      return { correct: v !== null && Math.abs(v - Number(item.answer)) <= tolerance(item, 0) + 1e-9, parsed: v === null ? null : String(v) };
    }
    case "time": {
      const v = parseSeconds(prediction);
      return { correct: v !== null && Math.abs(v - Number(item.answer)) <= tolerance(item, DEFAULT_TIME_TOLERANCE_S) + 1e-9, parsed: v === null ? null : String(v) };
    }
    case "word":
    case "text": {
      const p = normalizeText(unwrap(prediction));
      return { correct: p !== "" && p === normalizeText(item.answer), parsed: p || null };
    }
  }
}

/**
 * Two predictions the scorer would grade alike: the same option, word or text, or numbers and
 * times within the item's tolerance of each other (what self-consistency votes count as agreeing).
 */
export function sameAnswer(item: Gradable, a: string | null | undefined, b: string | null | undefined): boolean {
  const pa = scoreAnswer(item, a).parsed;
  const pb = scoreAnswer(item, b).parsed;
  if (pa === null || pb === null) return false;
  if (item.answer_type === "number") return Math.abs(Number(pa) - Number(pb)) <= tolerance(item, 0) + 1e-9;
  if (item.answer_type === "time") return Math.abs(Number(pa) - Number(pb)) <= tolerance(item, DEFAULT_TIME_TOLERANCE_S) + 1e-9;
  return pa === pb;
}
