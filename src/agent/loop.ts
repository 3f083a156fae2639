/**
 * The FiCOT agent loop (DESIGN.md §3). Public API, used by `framemind ask`, eval, teacher data,
 * the HTTP server (SSE) and the MCP server (progress notifications):
 *
 *   answer(req: AnswerRequest): Promise<AnswerResult>
 *
 *   AnswerRequest = {
 *     video: string; question: string; options?: string[];     // "A. red" ("red" is lettered in order)
 *     policy: Policy;                                          // src/policy/types.ts
 *     settings?: AgentSettingsInput;                           // ladder, firstObservation {frames, rung, mode, source},
 *                                                              // maxTurns (4), maxVisualTokens, maxFramesPerCall,
 *                                                              // paths {roots?, maxBytes?}, timeoutMs
 *     sampling?: Sampling; signal?: AbortSignal;
 *     onEvent?: (e: AgentEvent) => void;                       // streamed steps, see AgentEvent
 *     item?: {id, file?}; meta?: Record<string, unknown>;      // copied into the record
 *   }
 *   AnswerResult = { record: Trajectory; answer: string | null; extras: TurnExtras[]; error?: FramemindError }
 *
 * Semantics: the first observation is `frames` uniformly spaced frames (tolerant seeking) at the
 * chosen rung; then one policy step per turn until an answer, the turn limit or the visual-token
 * budget (first observation included). On the last turn (or when not even one low frame fits the
 * budget) the policy is told it must answer and is given no tools. Invalid calls become error
 * observations (counted) and use up their turn. Tools run only through tools/.
 *
 * Failures: answer() REJECTS only when the question cannot start (invalid settings, the video
 * cannot be opened or probed, or a cancel before that). Once the video is open it RESOLVES with a
 * record: model failures, cancellation and the overall timeout end the loop with stopReason
 * 'error' | 'cancelled' | 'timeout', the typed error in `record.errors` and in `result.error`.
 * The signal and the timeout abort both the model call and any ffmpeg process.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { asFramemindError, FramemindError } from "../errors.js";
import { binaries, binaryVersion, LadderNameSchema, rungNames, uniformTimes, type FrameMode, type LadderName, type VideoInfo } from "../video/index.js";
import { getClipTool, getFramesTool, POLICY_TOOLS, probeVideoTool, type FramesOutput, type ToolContext } from "../../tools/index.js";
import { packageVersion, PROMPT_VERSION, renderSystemPrompt, toolSpecs } from "../../prompts/index.js";
import type { EvidenceFrame, HistoryTurn, Policy, PolicyInput, Sampling, ToolResultMeta } from "../policy/types.js";
import { cheapestCall, formatError, formatObservation, formatQuestion, letterOptions, parseTurn, type CallLimits, type TurnStatus } from "./protocol.js";
import { TRAJECTORY_SCHEMA, TRAJECTORY_VERSION, type StopReason, type Trajectory, type TrajectoryTurn } from "./trajectory.js";

/** Defaults that depend on the ladder: the embedded model works with far fewer tokens. */
export const LADDER_DEFAULTS: Record<LadderName, { frames: number; rung: string; maxVisualTokens: number }> = {
  qwen: { frames: 8, rung: "low", maxVisualTokens: 4096 },
  tiny: { frames: 8, rung: "low", maxVisualTokens: 256 },
};

export const AgentSettingsSchema = z
  .object({
    ladder: LadderNameSchema.default("qwen"),
    firstObservation: z
      .object({
        frames: z.number().int().min(1).max(64),
        rung: z.string(),
        mode: z.enum(["exact", "tolerant"]).default("tolerant"),
        /** Who chose it: 'drfs' when the trainer picked a DRFS start. */
        source: z.enum(["default", "settings", "drfs"]).default("settings"),
      })
      .optional(),
    maxTurns: z.number().int().min(1).max(16).default(4),
    maxVisualTokens: z.number().int().positive().optional(),
    maxFramesPerCall: z.number().int().min(1).max(64).default(16),
    paths: z.object({ roots: z.array(z.string()).optional(), maxBytes: z.number().int().positive().optional() }).default({}),
    timeoutMs: z.number().int().positive().default(120_000),
    /** Per-ffmpeg-call timeout (the video layer's default when absent). */
    toolTimeoutMs: z.number().int().positive().optional(),
    promptVersion: z.string().default(PROMPT_VERSION),
  })
  .superRefine((s, ctx) => {
    if (s.firstObservation && !rungNames(s.ladder).includes(s.firstObservation.rung)) {
      ctx.addIssue({ code: "custom", path: ["firstObservation", "rung"], message: `unknown rung '${s.firstObservation.rung}' for ladder '${s.ladder}' (valid: ${rungNames(s.ladder).join(", ")})` });
    }
  });

export type AgentSettingsInput = z.input<typeof AgentSettingsSchema>;

export interface AgentSettings {
  ladder: LadderName;
  firstObservation: { frames: number; rung: string; mode: FrameMode; source: "default" | "settings" | "drfs" | "policy" };
  maxTurns: number;
  maxVisualTokens: number;
  maxFramesPerCall: number;
  paths: { roots?: string[]; maxBytes?: number };
  timeoutMs: number;
  toolTimeoutMs?: number;
  promptVersion: string;
}

/** Validated settings with ladder defaults and the policy's overrides applied. */
export function resolveSettings(input: AgentSettingsInput = {}, policy?: Pick<Policy, "overrides" | "turnsFor">, question?: string): AgentSettings {
  const r = AgentSettingsSchema.safeParse(input);
  if (!r.success) {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: r.error.issues.map((i) => `settings.${i.path.join(".")}: ${i.message}`).join("; ") });
  }
  const s = r.data;
  const d = LADDER_DEFAULTS[s.ladder];
  let first: AgentSettings["firstObservation"] = s.firstObservation ?? { frames: d.frames, rung: d.rung, mode: "tolerant", source: "default" };
  // The default turn limit is the policy's own for this question when it has one (a longer route).
  let maxTurns = (input.maxTurns === undefined && question !== undefined ? policy?.turnsFor?.(question) : undefined) ?? s.maxTurns;
  const o = policy?.overrides;
  if (o?.firstObservation) {
    if (!rungNames(s.ladder).includes(o.firstObservation.rung)) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `policy asks for rung '${o.firstObservation.rung}', not in ladder '${s.ladder}'` });
    first = { ...first, ...o.firstObservation, source: "policy" };
  }
  if (o?.maxTurns !== undefined) maxTurns = o.maxTurns;
  const { firstObservation: _f, maxVisualTokens, ...rest } = s;
  return { ...rest, firstObservation: first, maxTurns, maxVisualTokens: maxVisualTokens ?? d.maxVisualTokens };
}

/** Streamed steps (HTTP SSE events, MCP progress notifications, the CLI transcript). */
export type AgentEvent =
  | { type: "start"; id: string; question: string; options?: string[]; video: Trajectory["video"]; settings: AgentSettings; policy: Trajectory["policy"] }
  | { type: "frames"; turn: number | null; source: "first_observation" | "get_frames" | "get_clip"; timestamps: number[]; width: number; height: number; tokens: number; rung: string; cached: boolean; decodeMs: number; usedVisualTokens: number; region?: number[] }
  | { type: "reasoning"; turn: number; text: string }
  | { type: "tool_call"; turn: number; name: string; arguments: Record<string, unknown>; source: "text" | "native" }
  | { type: "error"; turn: number | null; code: string; message: string; recoverable: boolean }
  | { type: "answer"; turn: number; answer: string; evidence: number[] }
  | { type: "done"; stopReason: StopReason; answer: string | null; turns: number; visualTokens: number; totalMs: number };

/** Trainer-only data of one turn, kept out of the public record. */
export interface TurnExtras {
  turn: number;
  tokenIds?: number[];
  logprobs?: number[];
}

export interface AnswerRequest {
  video: string;
  question: string;
  options?: string[];
  policy: Policy;
  settings?: AgentSettingsInput;
  sampling?: Sampling;
  signal?: AbortSignal;
  onEvent?: (e: AgentEvent) => void;
  item?: { id: string; file?: string };
  meta?: Record<string, unknown>;
}

export interface AnswerResult {
  record: Trajectory;
  answer: string | null;
  extras: TurnExtras[];
  error?: FramemindError;
}

const RequestSchema = z.object({
  video: z.string().min(1),
  question: z.string().trim().min(1, "question must not be empty"),
  options: z.array(z.string().trim().min(1)).min(2).max(26).transform(letterOptions).optional(),
});

let ffmpegVersion: string | undefined;
function ffmpegVersionOnce(): string | undefined {
  try {
    ffmpegVersion ??= binaryVersion(binaries().ffmpeg).version;
  } catch {
    // Reported by `framemind doctor`; a record without it is still valid.
  }
  return ffmpegVersion;
}

function toMeta(tool: string, r: FramesOutput): ToolResultMeta {
  return { tool, timestamps: r.timestamps, width: r.width, height: r.height, tokens: r.tokens, rung: r.rung, mode: r.mode, cached: r.cached, decodeMs: r.decodeMs, ...(r.region ? { region: r.region } : {}) };
}

function toEvidence(r: FramesOutput): EvidenceFrame[] {
  return r.frames.map((f) => ({ timestamp: f.timestamp, width: f.width, height: f.height, tokens: f.tokens, rung: r.rung, rgb: f.rgb, ...(r.region ? { region: r.region } : {}) }));
}

export async function answer(req: AnswerRequest): Promise<AnswerResult> {
  const t0 = performance.now();
  const q = RequestSchema.safeParse({ video: req.video, question: req.question, options: req.options });
  if (!q.success) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: q.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
  const settings = resolveSettings(req.settings, req.policy, q.data.question);
  const { policy, onEvent } = req;
  const emit = (e: AgentEvent) => {
    try {
      onEvent?.(e);
    } catch {
      // A listener's failure (e.g. a closed SSE socket) must not break the question.
    }
  };

  // One signal for the caller's cancel and the overall timeout; it reaches the model and ffmpeg.
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const stopError = (): FramemindError =>
    timeout.aborted && !req.signal?.aborted ? new FramemindError("FM_ERR_AGENT_TIMEOUT", { ms: settings.timeoutMs }) : new FramemindError("FM_ERR_CANCELLED");

  const ctx = (maxFrames: number): ToolContext => ({ ladder: settings.ladder, paths: settings.paths, signal, timeoutMs: settings.toolTimeoutMs, maxFrames });
  let videoMs = 0;
  let modelMs = 0;
  let decodeMs = 0;
  const timed = async <T>(kind: "video" | "model", fn: () => Promise<T>): Promise<T> => {
    const s = performance.now();
    try {
      return await fn();
    } finally {
      const d = performance.now() - s;
      if (kind === "video") videoMs += d;
      else modelMs += d;
    }
  };

  let info: VideoInfo;
  try {
    info = await timed("video", () => probeVideoTool.run(req.video, {}, ctx(1)));
  } catch (e) {
    throw signal.aborted ? stopError() : asFramemindError(e);
  }

  const id = randomUUID();
  const video: Trajectory["video"] = { path: info.path, duration: info.duration, fps: info.fps, frameCount: info.frameCount, width: info.width, height: info.height, codec: info.codec };
  const limitsBase = { ladder: settings.ladder, duration: info.duration, video: { width: info.width, height: info.height }, maxFramesPerCall: settings.maxFramesPerCall };
  const cheapest = cheapestCall(limitsBase);
  const system = renderSystemPrompt({ ladder: settings.ladder, video, maxTurns: settings.maxTurns, maxVisualTokens: settings.maxVisualTokens, hasOptions: !!q.data.options, version: settings.promptVersion });
  const tools = toolSpecs(settings.ladder);
  const warnings: string[] = [...info.warnings];
  const errors: Trajectory["errors"] = [];
  const turns: TrajectoryTurn[] = [];
  const history: HistoryTurn[] = [];
  const extras: TurnExtras[] = [];
  const allEvidence: EvidenceFrame[][] = [];
  const framesSeen: Trajectory["framesSeen"] = [];
  const byTool: Record<string, number> = {};
  let evidence: EvidenceFrame[] = [];
  let used = 0;
  let firstTokens = 0;
  let invalidCalls = 0;
  let validCalls = 0;
  let promptTokens: number | undefined;
  let completionTokens: number | undefined;
  let finalAnswer: string | null = null;
  let evidenceCited: number[] = [];
  let stopReason: StopReason = "turn_limit";
  let fatal: FramemindError | undefined;
  let firstMeta: ToolResultMeta | null = null;

  emit({ type: "start", id, question: q.data.question, options: q.data.options, video, settings, policy: { id: policy.id, modelVersion: policy.modelVersion } });

  const addFrames = (r: FramesOutput, tool: string, turn: number | null) => {
    const meta = toMeta(tool, r);
    used += r.tokens;
    decodeMs += r.decodeMs;
    evidence = toEvidence(r);
    allEvidence.push(evidence);
    for (const f of r.frames) framesSeen.push({ timestamp: f.timestamp, width: f.width, height: f.height, rung: r.rung, observation: allEvidence.length - 1, ...(r.region ? { region: r.region } : {}) });
    for (const w of r.warnings) if (!warnings.includes(w)) warnings.push(w);
    emit({ type: "frames", turn, source: turn === null ? "first_observation" : (tool as "get_frames" | "get_clip"), timestamps: r.timestamps, width: r.width, height: r.height, tokens: r.tokens, rung: r.rung, cached: r.cached, decodeMs: r.decodeMs, usedVisualTokens: used, ...(r.region ? { region: r.region } : {}) });
    return meta;
  };
  const fail = (e: unknown, turn: number | null) => {
    const err = signal.aborted ? stopError() : asFramemindError(e);
    fatal = err;
    stopReason = err.code === "FM_ERR_CANCELLED" ? "cancelled" : err.code === "FM_ERR_AGENT_TIMEOUT" ? "timeout" : "error";
    errors.push({ ...(turn === null ? {} : { turn }), code: err.code, message: err.message });
    emit({ type: "error", turn, code: err.code, message: err.message, recoverable: false });
  };
  const status = (turnIndex: number): TurnStatus & { budgetSpent: boolean } => {
    const left = settings.maxVisualTokens - used;
    const budgetSpent = left < cheapest;
    return { turnsLeft: settings.maxTurns - turnIndex, visualTokensLeft: Math.max(0, left), mustAnswer: turnIndex >= settings.maxTurns - 1 || budgetSpent, budgetSpent };
  };

  // First observation: uniform frames over the whole video.
  const fo = settings.firstObservation;
  try {
    const r = await timed("video", () =>
      getFramesTool.run(req.video, { timestamps: uniformTimes(info.duration, fo.frames), rung: fo.rung, mode: fo.mode }, ctx(Math.max(fo.frames, settings.maxFramesPerCall))),
    );
    firstMeta = addFrames(r, "get_frames", null);
    firstTokens = r.tokens;
    if (used > settings.maxVisualTokens) warnings.push(`the first observation (${used} tokens) exceeds the visual-token budget (${settings.maxVisualTokens})`);
  } catch (e) {
    fail(e, null);
  }
  const user = formatQuestion(q.data, firstMeta, status(0));

  for (let turn = 0; !fatal && turn < settings.maxTurns; turn++) {
    const st = status(turn);
    const input: PolicyInput = {
      question: q.data.question,
      ...(q.data.options ? { options: q.data.options } : {}),
      system,
      user,
      history: [...history],
      evidence,
      allEvidence: [...allEvidence],
      ladder: settings.ladder,
      video: { duration: info.duration, fps: info.fps, width: info.width, height: info.height },
      budget: { maxVisualTokens: settings.maxVisualTokens, usedVisualTokens: used, remainingVisualTokens: Math.max(0, settings.maxVisualTokens - used), maxFramesPerCall: settings.maxFramesPerCall },
      turn: { index: turn, max: settings.maxTurns, mustAnswer: st.mustAnswer },
      tools: st.mustAnswer ? [] : tools,
    };
    const m0 = modelMs;
    let step;
    try {
      step = await timed("model", () => policy.step(input, { signal, sampling: req.sampling }));
    } catch (e) {
      fail(e, turn);
      break;
    }
    if (step.tokenIds || step.logprobs) extras.push({ turn, ...(step.tokenIds ? { tokenIds: step.tokenIds } : {}), ...(step.logprobs ? { logprobs: step.logprobs } : {}) });
    if (step.usage?.promptTokens !== undefined) promptTokens = (promptTokens ?? 0) + step.usage.promptTokens;
    if (step.usage?.completionTokens !== undefined) completionTokens = (completionTokens ?? 0) + step.usage.completionTokens;
    for (const w of step.warnings ?? []) warnings.push(`turn ${turn}: ${w}`);

    const limits: CallLimits = { ...limitsBase, remainingVisualTokens: settings.maxVisualTokens - used };
    const parsed = parseTurn(step, limits, st.mustAnswer);
    if (parsed.think) emit({ type: "reasoning", turn, text: parsed.think });
    const v0 = videoMs;
    const rec: TrajectoryTurn = {
      index: turn,
      text: step.text,
      ...(step.toolCalls?.length ? { nativeToolCalls: step.toolCalls.map((c) => ({ ...(c.id ? { id: c.id } : {}), name: c.function.name, arguments: c.function.arguments })) } : {}),
      call: null,
      answer: null,
      formatIssues: parsed.issues,
      error: null,
      result: null,
      mustAnswer: st.mustAnswer,
      timings: { modelMs: 0, videoMs: 0 },
      ...(step.usage ? { usage: step.usage } : {}),
      ...(step.model ? { model: step.model } : {}),
    };
    const hist: HistoryTurn = { index: turn, text: step.text, ...(step.toolCalls?.length ? { toolCalls: step.toolCalls } : {}), observation: { kind: "none", text: "" } };

    if (parsed.kind === "answer") {
      rec.answer = finalAnswer = parsed.answer;
      evidenceCited = evidence.map((f) => f.timestamp);
      stopReason = "answer";
      emit({ type: "answer", turn, answer: parsed.answer, evidence: evidenceCited });
    } else {
      let error = parsed.kind === "invalid" ? parsed.error : null;
      if (parsed.kind === "call") {
        rec.call = hist.call = parsed.call;
        byTool[parsed.call.name] = (byTool[parsed.call.name] ?? 0) + 1;
        emit({ type: "tool_call", turn, name: parsed.call.name, arguments: parsed.call.arguments, source: parsed.call.source });
        const tool = POLICY_TOOLS.find((t) => t.name === parsed.call.name)!;
        try {
          const r = await timed("video", () =>
            tool === getClipTool
              ? getClipTool.run(req.video, parsed.call.arguments as Parameters<typeof getClipTool.run>[1], ctx(settings.maxFramesPerCall))
              : getFramesTool.run(req.video, parsed.call.arguments as Parameters<typeof getFramesTool.run>[1], ctx(settings.maxFramesPerCall)),
          );
          rec.result = addFrames(r, tool.name, turn);
          validCalls++;
          const next = status(turn + 1);
          hist.observation = { kind: "frames", result: rec.result, text: formatObservation(rec.result, next) };
        } catch (e) {
          if (signal.aborted) {
            fail(e, turn);
          } else {
            // A tool failure on a valid-looking call (e.g. the video layer refused it) is still the policy's to fix.
            const fe = asFramemindError(e);
            error = { code: fe.code, message: fe.message };
          }
        }
      }
      if (error) {
        invalidCalls++;
        rec.error = error;
        allEvidence.push([]);
        const next = status(turn + 1);
        hist.observation = { kind: "error", code: error.code, message: error.message, text: formatError(error, next) };
        const recoverable = !st.mustAnswer && turn + 1 < settings.maxTurns;
        emit({ type: "error", turn, code: error.code, message: error.message, recoverable });
      }
    }
    rec.timings = { modelMs: Math.round(modelMs - m0), videoMs: Math.round(videoMs - v0) };
    turns.push(rec);
    history.push(hist);
    if (stopReason === "answer" || fatal) break;
    if (st.mustAnswer) {
      stopReason = st.budgetSpent ? "budget" : "turn_limit";
      break;
    }
  }
  if (!fatal && stopReason !== "answer") {
    const e = new FramemindError("FM_ERR_AGENT_MUST_ANSWER");
    errors.push({ code: e.code, message: e.message });
  }

  const totalMs = performance.now() - t0;
  const record: Trajectory = {
    schema: TRAJECTORY_SCHEMA,
    version: TRAJECTORY_VERSION,
    id,
    createdAt: new Date().toISOString(),
    ...(req.item ? { item: req.item } : {}),
    video,
    question: q.data.question,
    ...(q.data.options ? { options: q.data.options } : {}),
    policy: { id: policy.id, ...(policy.modelVersion ? { modelVersion: policy.modelVersion } : {}), ...(policy.settings ? { settings: policy.settings } : {}) },
    sampling: req.sampling ?? null,
    settings: {
      ladder: settings.ladder,
      firstObservation: settings.firstObservation,
      maxTurns: settings.maxTurns,
      maxVisualTokens: settings.maxVisualTokens,
      maxFramesPerCall: settings.maxFramesPerCall,
      timeoutMs: settings.timeoutMs,
      promptVersion: settings.promptVersion,
    },
    versions: { framemind: packageVersion(), node: process.version, ...(ffmpegVersionOnce() ? { ffmpeg: ffmpegVersion } : {}) },
    firstObservation: firstMeta,
    turns,
    answer: finalAnswer,
    stopReason,
    evidenceCited,
    framesSeen,
    tokens: {
      visual: used,
      visualFirstObservation: firstTokens,
      visualToolCalls: used - firstTokens,
      ...(promptTokens !== undefined ? { textPrompt: promptTokens } : {}),
      ...(completionTokens !== undefined ? { textCompletion: completionTokens } : {}),
    },
    timings: {
      totalMs: Math.round(totalMs),
      videoMs: Math.round(videoMs),
      modelMs: Math.round(modelMs),
      overheadMs: Math.max(0, Math.round(totalMs - videoMs - modelMs)),
      decodeMs: Math.round(decodeMs),
    },
    calls: { total: validCalls + invalidCalls, valid: validCalls, invalid: invalidCalls, byTool },
    invalidCalls,
    warnings,
    errors,
    ...(req.meta ? { meta: req.meta } : {}),
  };
  emit({ type: "done", stopReason, answer: finalAnswer, turns: turns.length, visualTokens: used, totalMs: record.timings.totalMs });
  return { record, answer: finalAnswer, extras, ...(fatal ? { error: fatal } : {}) };
}
