/**
 * The trajectory record (DESIGN.md §3): one JSON object per question, shared by the trainer,
 * the eval, the viewer and the servers. Every setting that changes the model's input is here
 * (Video-R1 users lost results to unrecorded pixel/frame settings). Trainer-only data (token
 * ids, old log-probs) is NOT part of it: answer() returns it beside the record.
 */
import { z } from "zod";

export const TRAJECTORY_SCHEMA = "framemind.trajectory";
export const TRAJECTORY_VERSION = 1;

const ms = z.number().min(0);

/** A crop of the picture: [x0, y0, x1, y1] as fractions of its width and height. */
const fraction = z.number().min(0).max(1);
const RegionSchema = z.tuple([fraction, fraction, fraction, fraction]);

export const ToolResultMetaSchema = z.object({
  tool: z.string(),
  timestamps: z.array(z.number().min(0)),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  tokens: z.number().int().min(0),
  rung: z.string(),
  mode: z.enum(["exact", "tolerant"]),
  cached: z.boolean(),
  decodeMs: ms,
  region: RegionSchema.optional(),
});

export const ParsedCallSchema = z.object({
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()),
  source: z.enum(["text", "native"]),
  id: z.string().optional(),
});

export const RecordedErrorSchema = z.object({
  /** Turn index; absent for errors outside a turn (first observation, timeout). */
  turn: z.number().int().min(0).optional(),
  code: z.string(),
  message: z.string(),
});

export const TurnSchema = z.object({
  index: z.number().int().min(0),
  /** The policy's raw text. */
  text: z.string(),
  /** Native tool calls as returned (name + raw argument string). */
  nativeToolCalls: z.array(z.object({ id: z.string().optional(), name: z.string(), arguments: z.string() })).optional(),
  /** The call the agent parsed and validated; null when the turn answered or the call was invalid. */
  call: ParsedCallSchema.nullable(),
  answer: z.string().nullable(),
  /** Protocol problems that did not stop the turn (e.g. no <think> block). */
  formatIssues: z.array(z.string()),
  /** Set when the turn's call was invalid (bad JSON, schema, range, budget) or the tool failed. */
  error: RecordedErrorSchema.omit({ turn: true }).nullable(),
  result: ToolResultMetaSchema.nullable(),
  mustAnswer: z.boolean(),
  timings: z.object({ modelMs: ms, videoMs: ms }),
  usage: z.object({ promptTokens: z.number().int().min(0).optional(), completionTokens: z.number().int().min(0).optional() }).optional(),
  /** Which of the policy's weight sets wrote the turn, when it has several (the embedded model's experts). */
  model: z.string().optional(),
});

export const RewardSchema = z.object({
  total: z.number(),
  /** Each reward part by name; null = not applicable. */
  parts: z.record(z.string(), z.number().nullable()),
  grader: z.string().optional(),
});

export const StopReasonSchema = z.enum(["answer", "turn_limit", "budget", "error", "cancelled", "timeout"]);

export const TrajectorySchema = z.object({
  schema: z.literal(TRAJECTORY_SCHEMA),
  version: z.literal(TRAJECTORY_VERSION),
  id: z.string(),
  createdAt: z.string(),
  /** Dataset item this question came from, when known. */
  item: z.object({ id: z.string(), file: z.string().optional() }).optional(),
  video: z.object({
    path: z.string(),
    duration: z.number().min(0),
    fps: z.number().min(0),
    frameCount: z.number().int().min(0),
    width: z.number().int().min(0),
    height: z.number().int().min(0),
    codec: z.string(),
  }),
  question: z.string(),
  options: z.array(z.string()).optional(),
  policy: z.object({ id: z.string(), modelVersion: z.string().optional(), settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional() }),
  sampling: z.object({ temperature: z.number(), topP: z.number(), seed: z.number().int().optional(), sampleTokens: z.number().int().optional() }).nullable(),
  settings: z.object({
    ladder: z.string(),
    /** The first observation: uniform frames; `source` says who chose frames + rung (DRFS start, policy, default). */
    firstObservation: z.object({ frames: z.number().int().positive(), rung: z.string(), mode: z.enum(["exact", "tolerant"]), source: z.enum(["default", "settings", "drfs", "policy"]) }),
    maxTurns: z.number().int().positive(),
    maxVisualTokens: z.number().int().positive(),
    maxFramesPerCall: z.number().int().positive(),
    timeoutMs: z.number().int().positive(),
    promptVersion: z.string(),
  }),
  versions: z.object({ framemind: z.string(), node: z.string(), ffmpeg: z.string().optional() }),
  /** The first observation's metadata (null if it failed). */
  firstObservation: ToolResultMetaSchema.nullable(),
  turns: z.array(TurnSchema),
  answer: z.string().nullable(),
  stopReason: StopReasonSchema,
  /** Timestamps of the frames the answer rests on (the evidence in view when answering). */
  evidenceCited: z.array(z.number().min(0)),
  /** Every frame shown to the policy, with its size: input for evidence recall. */
  framesSeen: z.array(
    z.object({
      timestamp: z.number().min(0),
      width: z.number().int(),
      height: z.number().int(),
      rung: z.string(),
      observation: z.number().int().min(0),
      /** Present when the frame is a crop. */
      region: RegionSchema.optional(),
    }),
  ),
  tokens: z.object({
    /** Visual tokens of every observation, first observation included. */
    visual: z.number().int().min(0),
    visualFirstObservation: z.number().int().min(0),
    visualToolCalls: z.number().int().min(0),
    textPrompt: z.number().int().min(0).optional(),
    textCompletion: z.number().int().min(0).optional(),
  }),
  /** Wall-clock split: video = probe + frame decoding (ffmpeg), model = policy.step, overhead = the rest. */
  timings: z.object({ totalMs: ms, videoMs: ms, modelMs: ms, overheadMs: ms, decodeMs: ms }),
  calls: z.object({ total: z.number().int().min(0), valid: z.number().int().min(0), invalid: z.number().int().min(0), byTool: z.record(z.string(), z.number().int().min(0)) }),
  invalidCalls: z.number().int().min(0),
  reward: RewardSchema.optional(),
  warnings: z.array(z.string()),
  errors: z.array(RecordedErrorSchema),
  meta: z.record(z.string(), z.unknown()).optional(),
});

export type Trajectory = z.infer<typeof TrajectorySchema>;
export type TrajectoryTurn = z.infer<typeof TurnSchema>;
export type StopReason = z.infer<typeof StopReasonSchema>;
export type Reward = z.infer<typeof RewardSchema>;

/** Parses a stored record (throws a zod error naming every bad field). */
export function parseTrajectory(value: unknown): Trajectory {
  return TrajectorySchema.parse(value);
}
