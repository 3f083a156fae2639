/**
 * The Policy interface (DESIGN.md §3-4): a policy sees the question, the text history and the
 * visual evidence, and returns RAW text (plus, if trainable, its token ids and log-probs).
 * The agent alone parses that text (src/agent/protocol.ts); a policy never dispatches tools.
 *
 *   interface Policy {
 *     id: string;                 // "openai:<model>", "oracle", "uniform+openai:<model>", "tiny", ...
 *     modelVersion?: string;      // checkpoint hash / served model name, recorded in the trajectory
 *     settings?: PolicySettings;   // what shapes its input/output (endpoint, image budget, seed), recorded
 *     overrides?: PolicyOverrides; // settings the policy imposes (uniform: N frames, one turn)
 *     step(input: PolicyInput, opts: StepOptions): Promise<PolicyStep>;
 *   }
 *
 * PolicyInput carries everything already rendered by the agent (system prompt, the first user
 * message, each observation's text) so every policy shows the model the same words; frames come
 * as RGB24 buffers with their timestamps, sizes, tokens and rung.
 *
 * A new policy registers itself with one line in src/policy/index.ts:
 *   registerPolicy("tiny", (config) => createTinyPolicy(config));
 */
import type { LadderName, Region } from "../video/index.js";

export interface Sampling {
  temperature: number;
  topP: number;
  seed?: number;
  /**
   * Tokens per turn drawn at the temperature; the rest of the turn is greedy, each such token
   * reported as forced (a one-hot mask: no gradient in a trainer). Absent = every token.
   */
  sampleTokens?: number;
}

export interface StepOptions {
  /** Aborts the model call (cancellation or the agent's overall timeout). */
  signal?: AbortSignal;
  sampling?: Sampling;
}

/** One frame of visual evidence. */
export interface EvidenceFrame {
  /** Real presentation time in seconds. */
  timestamp: number;
  width: number;
  height: number;
  tokens: number;
  rung: string;
  /** Packed RGB24, width*height*3 bytes. */
  rgb: Buffer;
  /** The crop of the picture the frame shows, when its call zoomed on a region. */
  region?: Region;
}

/** A tool the policy may call, as the prompt and native tool calling describe it. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments (z.toJSONSchema of the tool's zod schema, input side). */
  parameters: Record<string, unknown>;
}

/** A tool call after parsing and validation (arguments are the zod-parsed, rounded values). */
export interface ParsedCall {
  name: string;
  arguments: Record<string, unknown>;
  /** Where the call came from: the text protocol or a native (OpenAI) tool call. */
  source: "text" | "native";
  /** Native tool-call id, echoed back in the tool message. */
  id?: string;
}

/** What a successful frame-returning tool call gave back (no pixels). */
export interface ToolResultMeta {
  tool: string;
  timestamps: number[];
  width: number;
  height: number;
  /** Visual tokens of this result. */
  tokens: number;
  rung: string;
  mode: "exact" | "tolerant";
  cached: boolean;
  /** ffmpeg decoding time reported by the video layer (0 when cached). */
  decodeMs: number;
  /** The crop, when the call zoomed on a region ([x0, y0, x1, y1], fractions of the picture). */
  region?: Region;
}

/** What the policy gets back after a turn: frames, or an error it can recover from. */
export type Observation =
  | { kind: "frames"; result: ToolResultMeta; text: string }
  | { kind: "error"; code: string; message: string; text: string }
  /** The turn gave an answer; nothing follows (only in records of finished turns). */
  | { kind: "none"; text: string };

/** One earlier turn: the policy's raw text, the call the agent parsed from it, the observation. */
export interface HistoryTurn {
  index: number;
  text: string;
  /** Native tool calls exactly as the model returned them (openai policy echoes them back). */
  toolCalls?: NativeToolCall[];
  call?: ParsedCall;
  observation: Observation;
}

export interface NativeToolCall {
  id?: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface PolicyInput {
  question: string;
  options?: string[];
  /** Rendered system prompt (prompts/system.vN.md filled from the tool schemas). */
  system: string;
  /** Rendered first user message: question, options and the first observation's description. */
  user: string;
  /** Previous turns, oldest first. */
  history: HistoryTurn[];
  /** The latest frames the policy may look at (the first observation, or the last tool result). */
  evidence: EvidenceFrame[];
  /**
   * Every observation's frames, oldest first: [0] is the first observation, [i + 1] belongs to
   * history[i] (empty after an error). Policies that only see the latest evidence ignore it.
   */
  allEvidence: EvidenceFrame[][];
  ladder: LadderName;
  video: { duration: number; fps: number; width: number; height: number };
  budget: {
    maxVisualTokens: number;
    usedVisualTokens: number;
    remainingVisualTokens: number;
    maxFramesPerCall: number;
  };
  turn: {
    /** 0-based index of this turn. */
    index: number;
    max: number;
    /** The last turn (turn limit or budget exhausted): the policy must answer now. */
    mustAnswer: boolean;
  };
  /** Tools available this turn (empty when the policy must answer). */
  tools: ToolSpec[];
}

export interface PolicyStep {
  /** Raw text in the FiCOT protocol: `<think>...</think>` then `<tool_call>{...}</tool_call>` or `<answer>...</answer>`. */
  text: string;
  /** Native OpenAI tool calls, raw (the agent normalizes them). */
  toolCalls?: NativeToolCall[];
  /** Trainer-only: generated token ids and their log-probs under the sampling policy. */
  tokenIds?: number[];
  logprobs?: number[];
  /** Trainer-only, guided sampling: per generated token, 1 for each token id the guide allowed (null = none masked). */
  guideMasks?: (Uint8Array | null)[];
  usage?: { promptTokens?: number; completionTokens?: number };
  /** Which of the policy's weight sets wrote this turn, when it has several (src/policy/tiny/experts.ts). */
  model?: string;
  /** Non-fatal notes (e.g. retries, words the embedded model does not know). */
  warnings?: string[];
}

/** Settings a policy imposes on the loop (recorded as such). */
export interface PolicyOverrides {
  firstObservation?: { frames: number; rung: string };
  maxTurns?: number;
}

/** Policy settings that shape the model's input or output, recorded in the trajectory. */
export type PolicySettings = Record<string, string | number | boolean | null>;

export interface Policy {
  id: string;
  modelVersion?: string;
  /** E.g. the endpoint, image budget and JPEG quality of `openai`, the seed of `oracle`. */
  settings?: PolicySettings;
  overrides?: PolicyOverrides;
  /** The turns this policy's route takes for a question, used when the caller sets no maxTurns (the embedded model's change expert: 6). */
  turnsFor?(question: string): number | undefined;
  step(input: PolicyInput, opts: StepOptions): Promise<PolicyStep>;
}
