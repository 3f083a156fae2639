/**
 * Guided decoding: can a partial turn still become one the protocol parser accepts?
 *
 * A model that writes the protocol token by token can break it anywhere: an unknown key, a rung
 * the ladder lacks, a minus sign, a missing "rung", text after the answer. `turnGuide(tools)`
 * answers, for any prefix, whether some continuation is a well-formed turn:
 *
 *   <think>TEXT</think> then <tool_call>{"name": TOOL, "arguments": {...}}</tool_call>
 *                       or   <answer>TEXT</answer>
 *
 * with the call's name one of `tools`, its arguments' keys, types, enums, bounds on numbers and
 * array lengths, and required keys taken from the tools' JSON schemas (made from the zod schemas,
 * the single source of validation). With no tools (the turn that must answer) only an answer
 * fits. A decoder masks every next token whose text fails `ok`, and allows the end of the turn
 * only when `complete` holds. Given the turn's call limits, a call's arguments are also closed
 * only when the parser's own validateCall accepts them (the tool's refinements such as end after
 * start, the video's length, the per-call frame limit, the budget). Given the question's allowed
 * answers (an option question's letters and option texts), an answer must be one of them, as a
 * constrained-choice decoder would make it: a free-text answer to an option question can only
 * be wrong (measured: 0.3.0 wrote 'left sign:"}9' and the like for a third of its `change`
 * answers).
 */
import { callCost, lastCallTime, optionWords, validateCall, type CallLimits } from "./protocol.js";
import { POLICY_TOOLS } from "../../tools/index.js";

/** The parts of a JSON schema the guide follows. */
export interface GuideSchema {
  type?: string | string[];
  properties?: Record<string, GuideSchema>;
  required?: readonly string[];
  items?: GuideSchema;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}

export interface GuideTool {
  name: string;
  parameters: GuideSchema | Record<string, unknown>;
}

export interface TurnGuide {
  /** Some continuation of `text` is a well-formed turn. */
  ok(text: string): boolean;
  /** `text` is a whole well-formed turn (the end of the turn may come now). */
  complete(text: string): boolean;
}

/** The text ran out: everything so far fits. (Not Errors: a stack trace per candidate token cost ~5 us of the guide's ~8.) */
class End {}
/** The text cannot be continued into a well-formed turn. */
class Bad {}

const WS = /\s/;
const MAX_WS = 2;

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  peek(): string {
    if (this.i >= this.s.length) throw new End();
    return this.s[this.i]!;
  }
  atEnd(): boolean {
    return this.i >= this.s.length;
  }
  /** Whitespace between the turn's parts: at most MAX_WS in a row (valid JSON allows any, so a model could pad forever). */
  ws(): void {
    const start = this.i;
    while (this.i < this.s.length && WS.test(this.s[this.i]!)) this.i++;
    if (this.i - start > MAX_WS) throw new Bad();
  }
  /** Consumes `lit`; a text that ends inside it is a prefix (End), anything else is Bad. */
  lit(lit: string): void {
    for (const ch of lit) {
      if (this.peek() !== ch) throw new Bad();
      this.i++;
    }
  }
  /** Text up to `close` (consumed), with no "<" of its own. */
  until(close: string, nonEmpty: boolean): string {
    const start = this.i;
    // The body ends at the first "<" (it has none of its own); indexOf keeps the per-token guide cheap.
    const lt = this.s.indexOf("<", this.i);
    if (lt < 0) {
      this.i = this.s.length;
      throw new End();
    }
    this.i = lt;
    if (this.s.startsWith(close, lt)) {
      const body = this.s.slice(start, lt);
      if (nonEmpty && body.trim() === "") throw new Bad();
      this.i += close.length;
      return body;
    }
    if (close.startsWith(this.s.slice(lt))) throw new End(); // ends inside the closing tag
    throw new Bad();
  }
}

const types = (s: GuideSchema): string[] => (s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]);

function value(c: Cursor, s: GuideSchema): void {
  const t = types(s);
  if (s.enum && s.enum.every((e) => typeof e === "string")) return void stringOf(c, s.enum as string[]);
  if (t.includes("object")) return object(c, s);
  if (t.includes("array")) return array(c, s);
  if (t.includes("integer") || t.includes("number")) return number(c, s, !t.includes("number"));
  if (t.includes("string")) return void stringOf(c, null);
  if (t.includes("boolean")) {
    const rest = c.s.slice(c.i);
    const word = ["true", "false"].find((w) => rest.startsWith(w) || w.startsWith(rest));
    if (!word) throw new Bad();
    return c.lit(word);
  }
  throw new Bad(); // a schema the guide does not know: nothing fits
}

/** A JSON string; with `allowed`, one of those strings exactly. Returns its text. */
function stringOf(c: Cursor, allowed: readonly string[] | null): string {
  if (allowed?.length === 0) throw new Bad();
  c.lit('"');
  let body = "";
  for (;;) {
    const ch = c.peek();
    if (ch === '"') break;
    if (ch === "\\" || ch === "\n") throw new Bad(); // the protocol's strings are plain words
    body += ch;
    if (allowed && !allowed.some((a) => a.startsWith(body))) throw new Bad();
    c.i++;
  }
  if (allowed && !allowed.includes(body)) throw new Bad();
  c.i++;
  return body;
}

/**
 * Digits a number may have before the point, after it, and in an exponent. No tool argument needs
 * more (times travel at 0.1 s, counts are small); without a cap a turn can pour digits into one
 * number until its token limit (seen from 0.4.0 on an odd chat prompt: "end": 1.0161611166...).
 */
const MAX_DIGITS = { whole: 7, fraction: 3, exponent: 2 };

function number(c: Cursor, s: GuideSchema, integer: boolean): void {
  // JSON's number: a digit first (no "E28", ".5") and a digit after the point before any exponent
  // ("1.e5"); what else the text holds is refused below, since the guide's own JSON.parse must not throw.
  const m = /^-?(?:\d+(?:\.\d*)?(?:[eE][+-]?\d*)?)?/.exec(c.s.slice(c.i))![0];
  if (/\.[eE]/.test(m)) throw new Bad();
  const parts = /^-?(\d*)(?:\.(\d*))?(?:[eE][+-]?(\d*))?$/.exec(m)!;
  if ((parts[1] ?? "").length > MAX_DIGITS.whole || (parts[2] ?? "").length > MAX_DIGITS.fraction || (parts[3] ?? "").length > MAX_DIGITS.exponent) throw new Bad();
  const negative = m.startsWith("-");
  if (negative && s.minimum !== undefined && s.minimum >= 0) throw new Bad();
  if (integer && /[.eE]/.test(m)) throw new Bad();
  if (/^-?0\d/.test(m)) throw new Bad(); // JSON has no leading zeros
  // A number enum: the text written so far begins one of its values (as JSON or with one decimal: 15, 15.0).
  const allowed = s.enum?.filter((e): e is number => typeof e === "number");
  if (allowed?.length && !allowed.some((e) => String(e).startsWith(m) || e.toFixed(1).startsWith(m))) throw new Bad();
  c.i += m.length;
  if (c.atEnd()) {
    if (!reachable(m, s, integer)) throw new Bad();
    throw new End();
  }
  if (!/\d$/.test(m)) throw new Bad(); // "1." or "-" followed by something else
  const v = Number(m);
  if ((s.minimum !== undefined && v < s.minimum) || (s.maximum !== undefined && v > s.maximum)) throw new Bad();
  if (allowed?.length && !allowed.includes(v)) throw new Bad();
}

/** Can the unsigned number prefix `m` (whole digits, maybe a point and fraction digits) still end inside [minimum, maximum]? */
function reachable(m: string, s: GuideSchema, integer: boolean): boolean {
  const lo = s.minimum ?? -Infinity, hi = s.maximum ?? Infinity;
  const step = integer ? 1 : 10 ** -MAX_DIGITS.fraction; // the finest value a continuation can add
  const meets = (a: number, b: number) => b >= lo && a <= hi; // [a, b] meets the range
  const frac = /^(\d+)\.(\d*)$/.exec(m);
  if (frac) {
    const v = Number(`${frac[1]}.${frac[2] || "0"}`);
    return meets(v, v + 10 ** -frac[2]!.length - step);
  }
  if (!/^\d+$/.test(m)) return true; // "", exponents, negatives: left to the completed value
  if (m === "0") return meets(0, 1 - step); // no leading zeros: "0" takes only a fraction
  // [m * 10^k, (m + 1) * 10^k - step]: k more whole digits, then any fraction.
  for (let k = 0, base = Number(m); k + m.length <= MAX_DIGITS.whole && base <= hi; k++, base *= 10) {
    if (meets(base, base + 10 ** k - step)) return true;
  }
  return false;
}

/** Comma-separated items up to (not including) `close`; returns how many. */
function items(c: Cursor, close: string, item: (k: number) => void): number {
  c.ws();
  let n = 0;
  if (c.peek() === close) return n;
  for (;;) {
    item(n++);
    c.ws();
    if (c.peek() !== ",") return n;
    c.i++;
    c.ws();
  }
}

function array(c: Cursor, s: GuideSchema): void {
  c.lit("[");
  const n = items(c, "]", (k) => {
    if (s.maxItems !== undefined && k >= s.maxItems) throw new Bad();
    value(c, s.items ?? {});
  });
  c.lit("]");
  if (s.minItems !== undefined && n < s.minItems) throw new Bad();
}

/** The schema a key's value must fit, given the values written before it (an interval's end after its start). */
type Bounds = (key: string, schema: GuideSchema, written: Readonly<Record<string, unknown>>) => GuideSchema;

/** A key that belongs to a form of the call other than one already begun (Tool.forms). */
const otherForm = (forms: readonly (readonly string[])[], key: string, seen: ReadonlySet<string>) =>
  forms.some((f) => f.includes(key) && forms.some((g) => g !== f && g.some((k) => seen.has(k))));

function object(c: Cursor, s: GuideSchema, bounds?: Bounds, forms: readonly (readonly string[])[] = []): void {
  const props = s.properties ?? {};
  const seen = new Set<string>();
  const written: Record<string, unknown> = {};
  c.lit("{");
  items(c, "}", () => {
    const k = stringOf(c, Object.keys(props).filter((p) => !seen.has(p) && !otherForm(forms, p, seen)));
    seen.add(k);
    c.ws();
    c.lit(":");
    c.ws();
    if (!bounds) return value(c, props[k]!);
    const at = c.i;
    value(c, bounds(k, props[k]!, written));
    written[k] = JSON.parse(c.s.slice(at, c.i));
  });
  if (c.peek() === "}" && (s.required ?? []).some((r) => !seen.has(r))) throw new Bad();
  c.lit("}");
}

/**
 * The clip a think plans: the last two times it names ("... I watch 22.0 to 30.0 s closely."),
 * when they make an interval the parser would accept (the guide never plans a dead end).
 */
function plannedClip(think: string, limits: CallLimits): { start: number; end: number } | null {
  const times = think.match(/\d+(?:\.\d+)?/g)?.map(Number) ?? [];
  if (times.length < 2) return null;
  const [start, end] = times.slice(-2) as [number, number];
  return end - start >= 0.1 - 1e-9 && end <= lastCallTime(limits) ? { start, end } : null;
}

/** `{"name": TOOL, "arguments": {...}}`, name first (as formatTurn writes it) so the arguments follow that tool's schema. */
function call(c: Cursor, tools: readonly GuideTool[], limits: CallLimits | undefined, think: string | null, opts: GuideOptions): void {
  const field = (name: string) => {
    c.lit(`"${name}"`);
    c.ws();
    c.lit(":");
    c.ws();
  };
  c.lit("{");
  c.ws();
  field("name");
  const name = stringOf(c, tools.map((t) => t.name));
  const chosen = tools.find((t) => t.name === name)!;
  c.ws();
  c.lit(",");
  c.ws();
  field("arguments");
  const at = c.i;
  // Tools the protocol knows are validated as the parser will; others (a chat client's) by schema only.
  const known = limits !== undefined ? POLICY_TOOLS.find((t) => t.name === name) : undefined;
  // A call that mixed two forms could never validate, and would be found out only as it closed.
  const plan = think !== null && name === "get_clip" && limits ? plannedClip(think, limits) : null;
  const inView = name === "get_frames" && opts.framesInView?.length ? opts.framesInView : null;
  object(c, chosen.parameters as GuideSchema, known && limits ? callBounds(name, limits, plan, inView) : undefined, known?.forms ?? []);
  if (known && limits) {
    const written = JSON.parse(c.s.slice(at, c.i)) as Record<string, unknown>;
    if ("error" in validateCall(name, opts.asCalled ? opts.asCalled(written) : written, limits)) throw new Bad();
  }
  c.ws();
  c.lit("}");
}

/**
 * Bounds the parser would enforce only once the call closes, applied while the call is written:
 * no time after the video's last 0.1 s, an interval's end after its start (either order), and no
 * more frames than the budget left pays for at the rung written (nor a rung it cannot pay for at
 * the frames written). Without them a call could commit to what cannot close (measured: 9 of 120
 * test questions stalled on times, 0.4.0 before the time rule; 12 turns of 300 val questions on
 * `full`-rung calls, 0.5.0 before the budget rule) and end in junk.
 */
const affordableFrames = new WeakMap<CallLimits, Map<string, number>>();

function callBounds(tool: string, limits: CallLimits, plan: { start: number; end: number } | null, inView: readonly number[] | null): Bounds {
  const last = lastCallTime(limits);
  const cap = (s: GuideSchema, max: number): GuideSchema => ({ ...s, maximum: Math.min(s.maximum ?? Infinity, max) });
  /** Frames the budget pays for at a rung (0: not even one); counted once per guide, as every candidate token re-checks the call. */
  const known = affordableFrames.get(limits) ?? new Map<string, number>();
  affordableFrames.set(limits, known);
  const affordable = (rung: string) => {
    let n = known.get(`${tool} ${rung}`);
    if (n === undefined) {
      for (n = 0; n < limits.maxFramesPerCall && callCost(tool, n + 1, rung, limits) <= limits.remainingVisualTokens; n++);
      known.set(`${tool} ${rung}`, n);
    }
    return n;
  };
  return (key, s, written) => {
    // followThink: the clip is the one its think planned, exactly.
    if (plan && (key === "start" || key === "end")) return { ...s, minimum: plan[key], maximum: plan[key] };
    const other = written[key === "start" ? "end" : "start"];
    const rung = typeof written["rung"] === "string" ? written["rung"] : undefined;
    const frames = Array.isArray(written["timestamps"]) ? written["timestamps"].length : typeof written["count"] === "number" ? written["count"] : undefined;
    if (key === "timestamps" && s.items) {
      const items = inView ? { ...s.items, enum: inView } : s.items;
      return { ...s, items: cap(items, last), ...(rung ? { maxItems: Math.min(s.maxItems ?? Infinity, affordable(rung)) } : {}) };
    }
    if (key === "count" && rung) return cap(s, affordable(rung));
    if (key === "rung" && s.enum) return { ...s, enum: s.enum.filter((r) => typeof r === "string" && affordable(r) >= (frames ?? 1)) };
    // 0.1 s apart at least, with room for float error (38.0 + 0.1 is a hair above 38.1).
    if (key === "start") return cap(s, typeof other === "number" ? Math.min(last, other - 0.1 + 1e-9) : last);
    if (key === "end") return { ...cap(s, last), ...(typeof other === "number" ? { minimum: Math.max(s.minimum ?? -Infinity, other + 0.1 - 1e-9) } : {}) };
    return s;
  };
}

/** An answer that must be one of `allowed` (spaces around it aside). */
function answerOf(c: Cursor, allowed: readonly string[]): void {
  const start = c.i;
  const fits = (body: string, whole: boolean) => allowed.some((a) => a === body.trim() || (!whole && a.startsWith(body.trimStart())));
  try {
    if (!fits(c.until("</answer>", true), true)) throw new Bad();
  } catch (e) {
    if (!(e instanceof End)) throw e;
    // The text ended in the answer's body, or inside its closing tag (which needs the whole answer).
    const rest = c.s.slice(start);
    const lt = rest.indexOf("<");
    if (!(lt < 0 ? fits(rest, false) : fits(rest.slice(0, lt), true))) throw new Bad();
    throw e;
  }
}

/** Whole-turn check; returns true when the turn is complete, false when it is a valid prefix. */
function check(text: string, tools: readonly GuideTool[], limits: CallLimits | undefined, answers: readonly string[] | undefined, opts: GuideOptions): boolean {
  const c = new Cursor(text);
  try {
    c.ws();
    c.lit("<think>");
    const think = c.until("</think>", false);
    c.ws();
    const rest = c.s.slice(c.i);
    const opens = [...(tools.length ? ["<tool_call>"] : []), "<answer>"];
    const open = opens.find((o) => rest.startsWith(o) || o.startsWith(rest));
    if (!open) throw new Bad();
    c.lit(open);
    if (open === "<answer>") answers ? answerOf(c, answers) : c.until("</answer>", true);
    else {
      c.ws();
      call(c, tools, limits, opts.followThink ? think : null, opts);
      c.ws();
      c.lit("</tool_call>");
    }
    c.ws();
    if (!c.atEnd()) throw new Bad();
    return true;
  } catch (e) {
    if (e instanceof End) return false;
    throw e;
  }
}

export interface GuideOptions {
  /**
   * A clip call's start and end are the last two times its think names, when those make a valid
   * clip (with limits only). Measured on val 300 (session 14): 0.6.0's clip calls disagreed with
   * their own think's window in 10% of turns (count: 19%), e.g. "I watch 24.1 to 28.9 s closely"
   * then {"start": 28.9, "end": 29.4}; the think's window was the teacher's.
   */
  followThink?: boolean;
  /**
   * The arguments as the tools will get them, for a policy that writes some in its own shorthand
   * (the embedded model writes a zoom as its centre): what the parser validates when a call closes.
   */
  asCalled?: (args: Record<string, unknown>) => Record<string, unknown>;
  /**
   * The times of the frames in view: a `get_frames` call looks again at some of them (at 0.1 s, as
   * the protocol writes times). The cue teacher's frames calls always do (every family, measured on
   * 300 drills); the embedded model names them by frame reference. Without it a small-code
   * fine-tune wrote a zoom's fractions as its times ([0.25, 0.625]; session 22: its first zoom's
   * time inside the code's interval 36 -> 38 of val 300's 50; 0.9.0's test answers unchanged).
   */
  framesInView?: readonly number[];
}

/**
 * `limits`: the turn's call limits (as the loop gives the parser); without them, schemas only.
 * `answers`: the answers allowed (see optionAnswers); without them, any non-empty text.
 */
export function turnGuide(tools: readonly GuideTool[], limits?: CallLimits, answers?: readonly string[], options: GuideOptions = {}): TurnGuide {
  // Times as the protocol writes them, rounded once here rather than on every candidate token.
  const opts = options.framesInView ? { ...options, framesInView: options.framesInView.map((t) => Number(t.toFixed(1))) } : options;
  const run = (text: string): "complete" | "prefix" | "bad" => {
    try {
      return check(text, tools, limits, answers, opts) ? "complete" : "prefix";
    } catch (e) {
      if (e instanceof Bad) return "bad";
      throw e;
    }
  };
  return {
    ok: (text) => run(text) !== "bad",
    complete: (text) => run(text) === "complete",
  };
}

/** The answers an option question allows: each option's letter and its words ("B", "green"); none for other questions. */
export function optionAnswers(options: readonly string[] | undefined): string[] | undefined {
  if (!options?.length) return undefined;
  return options.flatMap((o, k) => [String.fromCharCode(65 + k), optionWords(o)]);
}
