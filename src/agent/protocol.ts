/**
 * The FiCOT text protocol, parsed in ONE place (DESIGN.md §3):
 *
 *   <think>...</think>
 *   then exactly one of  <tool_call>{"name": "...", "arguments": {...}}</tool_call>
 *                   or   <answer>...</answer>
 *
 * OpenAI native tool calls are accepted instead of a <tool_call> block and normalized into the
 * same ParsedCall. Arguments are validated with the tools' own zod schemas (tools/), timestamps
 * rounded to 0.1 s, checked against the video's range, the per-call frame limit and the
 * remaining visual-token budget. Anything wrong becomes a typed FramemindError in the result
 * (the agent turns it into an error observation), never an exception.
 *
 * The formatters below write turns and observations in the same protocol; the embedded model's
 * training text and the oracle use them, so parse(format(x)) == x.
 */
import { FramemindError, type ErrorCode } from "../errors.js";
import { clipTokens, frameSize, LADDERS, tokensFor, type LadderName, type Region, type Size } from "../video/index.js";
import { POLICY_TOOLS } from "../../tools/index.js";
import type { NativeToolCall, Observation, ParsedCall, PolicyInput, ToolResultMeta } from "../policy/types.js";

/** What the parser needs to know to validate a call. */
export interface CallLimits {
  ladder: LadderName;
  /** Video duration in seconds. */
  duration: number;
  /** Display size of the video (for token cost). */
  video: Size;
  maxFramesPerCall: number;
  remainingVisualTokens: number;
}

/** The limits a policy's turn is parsed under, from what the loop told the policy. */
export function inputLimits(input: Pick<PolicyInput, "ladder" | "video" | "budget">): CallLimits {
  const { ladder, video, budget } = input;
  return { ladder, duration: video.duration, video: { width: video.width, height: video.height }, maxFramesPerCall: budget.maxFramesPerCall, remainingVisualTokens: budget.remainingVisualTokens };
}

export interface ProtocolError {
  code: ErrorCode;
  message: string;
}

export type ParsedTurn =
  | { kind: "call"; think: string | null; call: ParsedCall; cost: number; issues: string[] }
  | { kind: "answer"; think: string | null; answer: string; issues: string[] }
  | { kind: "invalid"; think: string | null; error: ProtocolError; issues: string[] };

const THINK = /<think>([\s\S]*?)<\/think>/g;
const TOOL_CALL = /<tool_call>([\s\S]*?)<\/tool_call>/g;
const ANSWER = /<answer>([\s\S]*?)<\/answer>/g;

function invalid(think: string | null, issues: string[], code: ErrorCode, params: Record<string, string | number>): ParsedTurn {
  return { kind: "invalid", think, error: { code, message: new FramemindError(code, params).message }, issues };
}

/** The syntax only: think text, raw tool-call bodies, answers, and protocol issues. */
export function splitTurn(text: string): { think: string | null; toolCalls: string[]; answers: string[]; issues: string[] } {
  const issues: string[] = [];
  const thinks = [...text.matchAll(THINK)].map((m) => m[1]!.trim());
  if (thinks.length === 0) issues.push("no <think> block");
  if (thinks.length > 1) issues.push("more than one <think> block");
  const rest = text.replace(THINK, "");
  const toolCalls = [...rest.matchAll(TOOL_CALL)].map((m) => m[1]!.trim());
  const answers = [...rest.matchAll(ANSWER)].map((m) => m[1]!.trim());
  const stripped = rest.replace(TOOL_CALL, "").replace(ANSWER, "");
  for (const tag of ["<tool_call>", "<answer>", "<think>"]) if (stripped.includes(tag)) issues.push(`unclosed ${tag}`);
  const first = text.search(/<(tool_call|answer)>/);
  const thinkAt = text.indexOf("<think>");
  if (thinkAt > 0 && first >= 0 && first < thinkAt) issues.push("<think> comes after the action");
  if (stripped.replace(/<\/?\w+>/g, "").trim().length > 0) issues.push("text outside the protocol tags");
  return { think: thinks.length ? thinks.join("\n") : null, toolCalls, answers, issues };
}

/**
 * Parses one policy step. `limits` validates calls; `mustAnswer` marks the last turn, where a
 * call is itself an error.
 */
export function parseTurn(step: { text: string; toolCalls?: readonly NativeToolCall[] }, limits: CallLimits, mustAnswer = false): ParsedTurn {
  const { think, toolCalls, answers, issues } = splitTurn(step.text ?? "");
  const native = step.toolCalls ?? [];
  const actions = toolCalls.length + answers.length + native.length;
  if (actions === 0) {
    const unclosed = issues.find((i) => i.startsWith("unclosed"));
    return invalid(think, issues, "FM_ERR_AGENT_PROTOCOL", { reason: unclosed ?? "no <tool_call> or <answer> in the reply" });
  }
  if (actions > 1) {
    return invalid(think, issues, "FM_ERR_AGENT_PROTOCOL", {
      reason: `exactly one <tool_call> or <answer> per reply, got ${toolCalls.length} tool call(s), ${native.length} native call(s), ${answers.length} answer(s)`,
    });
  }
  if (answers.length === 1) {
    const answer = answers[0]!;
    if (answer.length === 0) return invalid(think, issues, "FM_ERR_AGENT_PROTOCOL", { reason: "empty <answer>" });
    return { kind: "answer", think, answer, issues };
  }
  if (mustAnswer) return invalid(think, issues, "FM_ERR_AGENT_MUST_ANSWER", {});

  let name: unknown;
  let args: unknown;
  let id: string | undefined;
  const source: ParsedCall["source"] = native.length ? "native" : "text";
  try {
    if (native.length) {
      const n = native[0]!;
      name = n.function.name;
      id = n.id;
      args = n.function.arguments.trim() === "" ? {} : JSON.parse(n.function.arguments);
    } else {
      const body = JSON.parse(toolCalls[0]!) as unknown;
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw new SyntaxError("the tool call must be a JSON object");
      ({ name, arguments: args } = body as { name?: unknown; arguments?: unknown });
      // Some models double-encode arguments as a JSON string.
      if (typeof args === "string") args = JSON.parse(args);
    }
  } catch (e) {
    return invalid(think, issues, "FM_ERR_AGENT_BAD_JSON", { reason: (e as Error).message });
  }
  const checked = validateCall(name, args ?? {}, limits);
  if ("error" in checked) return { kind: "invalid", think, error: checked.error, issues };
  return { kind: "call", think, call: { name: checked.name, arguments: checked.arguments, source, ...(id ? { id } : {}) }, cost: checked.cost, issues };
}

const round1 = (t: number) => Math.round(t * 10) / 10;

/** Rounds the time fields to the protocol's 0.1 s (and a region to 0.001) before validation. */
function roundTimes(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...args };
  for (const k of ["start", "end"]) if (typeof out[k] === "number") out[k] = round1(out[k] as number);
  if (Array.isArray(out.timestamps)) out.timestamps = out.timestamps.map((t) => (typeof t === "number" ? round1(t) : t));
  // Regions at 0.001 of the picture: finer than a pixel of any frame the ladders make, and one cache key per crop.
  if (Array.isArray(out.region)) out.region = out.region.map((v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v));
  return out;
}

/** Validates a call against the tool's zod schema, the video range, the frame limit and the budget. */
export function validateCall(name: unknown, args: unknown, limits: CallLimits): { name: string; arguments: Record<string, unknown>; cost: number } | { error: ProtocolError } {
  const err = (code: ErrorCode, params: Record<string, string | number>) => ({ error: { code, message: new FramemindError(code, params).message } });
  const tool = POLICY_TOOLS.find((t) => t.name === name);
  const toolNames = POLICY_TOOLS.map((t) => t.name).join(", ");
  if (!tool) return err("FM_ERR_AGENT_UNKNOWN_TOOL", { tool: String(name), tools: toolNames });
  if (typeof args !== "object" || args === null || Array.isArray(args)) return err("FM_ERR_AGENT_BAD_CALL", { tool: tool.name, reason: "arguments must be a JSON object" });
  const parsed = tool.schema(limits.ladder).safeParse(roundTimes(args as Record<string, unknown>));
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `${i.path.join(".") || "arguments"}: ${i.message}`).join("; ");
    return err("FM_ERR_AGENT_BAD_CALL", { tool: tool.name, reason });
  }
  const a = parsed.data as { timestamps?: number[]; start?: number; end?: number; count?: number; rung: string; region?: Region };
  const times = [...(a.timestamps ?? []), ...(a.start !== undefined ? [a.start] : []), ...(a.end !== undefined ? [a.end] : [])];
  const last = lastCallTime(limits);
  const bad = times.find((t) => t > last);
  if (bad !== undefined) return err("FM_ERR_VIDEO_OUT_OF_RANGE", { time: bad, duration: round1(limits.duration) });
  const frames = a.timestamps?.length ?? a.count ?? 0;
  if (frames > limits.maxFramesPerCall) return err("FM_ERR_AGENT_BAD_CALL", { tool: tool.name, reason: `${frames} frames asked, at most ${limits.maxFramesPerCall} per call` });
  const cost = callCost(tool.name, frames, a.rung, limits, a.region);
  if (cost > limits.remainingVisualTokens) return err("FM_ERR_AGENT_OVER_BUDGET", { cost, left: Math.max(0, limits.remainingVisualTokens) });
  return { name: tool.name, arguments: parsed.data as Record<string, unknown>, cost };
}

/** The latest time a call may name: the video's last moment, at the protocol's 0.1 s resolution. */
export function lastCallTime(limits: Pick<CallLimits, "duration">): number {
  return Math.ceil(limits.duration * 10) / 10;
}

/** Visual tokens a call will cost on this video (clips count frames in pairs, as the video layer does). */
export function callCost(tool: string, frames: number, rung: string, limits: Pick<CallLimits, "ladder" | "video">, region?: Region): number {
  const size = frameSize(limits.video, { ladder: limits.ladder, rung }, region);
  return tool === "get_clip" ? clipTokens(frames, size) : frames * tokensFor(size);
}

/** The cheapest possible call (one frame at the lowest rung): below this the budget is spent. */
export function cheapestCall(limits: Pick<CallLimits, "ladder" | "video">): number {
  return callCost("get_frames", 1, LADDERS[limits.ladder].rungs[0]!.name, limits);
}

// ---------------------------------------------------------------------------------------------
// Formatters (inverse of the parser)

export type TurnContent = { think: string; call: { name: string; arguments: Record<string, unknown> } } | { think: string; answer: string };

/** One turn in the text protocol. */
export function formatTurn(t: TurnContent): string {
  const think = `<think>${t.think}</think>`;
  if ("answer" in t) return `${think}\n<answer>${t.answer}</answer>`;
  return `${think}\n<tool_call>${JSON.stringify({ name: t.call.name, arguments: t.call.arguments })}</tool_call>`;
}

/**
 * The turn with its tool call's region (if any: an array of numbers, of any length) replaced by
 * `f(region)`, the call written back as formatTurn writes it; any other text, or a call that does
 * not parse, is returned as it is.
 */
export function mapCallRegion(text: string, f: (r: number[]) => number[]): string {
  const m = /<tool_call>([\s\S]*?)<\/tool_call>/.exec(text);
  if (!m) return text;
  let body: { name?: unknown; arguments?: Record<string, unknown> };
  try {
    body = JSON.parse(m[1]!) as typeof body;
  } catch {
    return text;
  }
  const r = body?.arguments?.region;
  if (!Array.isArray(r) || !r.every((v) => typeof v === "number")) return text;
  const call = JSON.stringify({ ...body, arguments: { ...body.arguments, region: f(r as number[]) } });
  return text.slice(0, m.index) + `<tool_call>${call}</tool_call>` + text.slice(m.index + m[0].length);
}

/**
 * An answer that names an option by letter, rewritten to name it by its text ("B" -> "green"); the
 * scorer takes either. Any other turn is returned as it is.
 */
export function answerByOptionText(text: string, options: readonly string[]): string {
  const { think, answers } = splitTurn(text);
  const k = answers.length === 1 && /^[A-Z]$/.test(answers[0]!) ? answers[0]!.charCodeAt(0) - 65 : -1;
  const option = options[k];
  return option === undefined ? text : formatTurn({ think: think ?? "", answer: optionWords(option) });
}

/** An option's words without its letter: "B. green" -> "green". */
export function optionWords(option: string): string {
  return option.replace(/^[A-Z]\.\s*/, "");
}

const fmtT = (t: number) => t.toFixed(1);

/** What the budget leaves, appended to every observation so the policy can plan. */
export interface TurnStatus {
  turnsLeft: number;
  visualTokensLeft: number;
  mustAnswer: boolean;
}

function statusLine(s: TurnStatus): string {
  if (s.mustAnswer) return "This is your last turn: answer now with <answer>...</answer>.";
  return `Turns left: ${s.turnsLeft}. Visual tokens left: ${s.visualTokensLeft}.`;
}

/** Describes frames the policy is shown (the images themselves travel beside the text). */
export function formatFrames(r: Pick<ToolResultMeta, "tool" | "timestamps" | "width" | "height" | "tokens" | "rung" | "region">, label = r.tool): string {
  const n = r.timestamps.length;
  const region = r.region ? ` region="${r.region.join(",")}"` : "";
  return `<frames source="${label}" rung="${r.rung}"${region} size="${r.width}x${r.height}" tokens="${r.tokens}">${n} frame${n === 1 ? "" : "s"} at t = ${r.timestamps.map(fmtT).join(", ")} s</frames>`;
}

export function formatObservation(r: ToolResultMeta, status: TurnStatus): string {
  return `${formatFrames(r)}\n${statusLine(status)}`;
}

export function formatError(e: ProtocolError, status: TurnStatus): string {
  return `<error code="${e.code}">${e.message}</error>\n${status.mustAnswer ? "" : "Fix the call or answer. "}${statusLine(status)}`;
}

/** "red" -> "A. red": options are answered by letter; options already lettered are kept. */
export function letterOptions(opts: readonly string[]): string[] {
  return opts.map((o, i) => (/^[A-Z]\. /.test(o) ? o : `${String.fromCharCode(65 + i)}. ${o}`));
}

/** The first user message: the question, its options, and the first observation. */
export function formatQuestion(q: { question: string; options?: readonly string[] }, first: ToolResultMeta | null, status: TurnStatus): string {
  const lines = [`Question: ${q.question}`];
  if (q.options?.length) lines.push("Options:", ...q.options);
  if (first) lines.push(formatFrames(first, "overview"));
  lines.push(statusLine(status));
  return lines.join("\n");
}

// Readers of the texts above, for a server that receives them back in a chat (src/server/chat-tiny.ts):
// each sits beside its writer so the two cannot drift apart.

const FRAMES_TAG = /<frames source="([^"]*)" rung="([^"]*)"(?: region="([^"]*)")? size="(\d+)x(\d+)" tokens="(\d+)">\d+ frames? at t = ([^<]*?) s<\/frames>/g;
const ERROR_TAG = /<error code="([^"]*)">([\s\S]*?)<\/error>/;

export interface FramesTag {
  source: string;
  rung: string;
  width: number;
  height: number;
  tokens: number;
  timestamps: number[];
  /** The crop the frames show, when the call zoomed on one. */
  region?: Region;
}

/** The last <frames> tag of a text, as formatFrames writes it. */
export function lastFramesTag(text: string): FramesTag | undefined {
  const all = [...text.matchAll(FRAMES_TAG)];
  const m = all[all.length - 1];
  if (!m) return undefined;
  const region = m[3]?.split(",").map(Number);
  return { source: m[1]!, rung: m[2]!, width: Number(m[4]), height: Number(m[5]), tokens: Number(m[6]), timestamps: m[7]!.split(",").map((t) => Number(t.trim())), ...(region?.length === 4 ? { region: region as Region } : {}) };
}

/** What an earlier turn brought back, from its observation text. */
export function observationFromText(text: string): Observation {
  const err = ERROR_TAG.exec(text);
  if (err) return { kind: "error", code: err[1]!, message: err[2]!, text };
  const f = lastFramesTag(text);
  if (f) {
    return { kind: "frames", text, result: { tool: f.source, timestamps: f.timestamps, width: f.width, height: f.height, tokens: f.tokens, rung: f.rung, mode: "exact", cached: false, decodeMs: 0, ...(f.region ? { region: f.region } : {}) } };
  }
  return { kind: "none", text };
}

/** "Question: ..." / "Options:" / lettered lines, as formatQuestion writes them; plain text otherwise. */
export function questionFromText(text: string): { question: string; options?: string[] } {
  if (!text.startsWith("Question: ")) return { question: text };
  const lines = text.slice("Question: ".length).split("\n");
  const q: string[] = [];
  const options: string[] = [];
  let inOptions = false;
  for (const line of lines) {
    if (line.startsWith("<frames ") || /^(Turns left: |This is your last turn)/.test(line)) break;
    if (line === "Options:") inOptions = true;
    else if (inOptions && /^[A-Z]\. /.test(line)) options.push(line);
    else if (!inOptions) q.push(line);
    else break;
  }
  return { question: q.join("\n").trim(), ...(options.length >= 2 ? { options } : {}) };
}
