/**
 * MCP server options, parsed once with zod at the edge (CLI flags, the HTTP app's config) and
 * settled with explicit defaults here, so every transport runs the same server.
 */
import { z } from "zod";
import { LadderNameSchema, type LadderName } from "../video/index.js";
import { OpenAIPolicyConfigSchema } from "../policy/openai.js";

export const McpOptionsSchema = z.object({
  /** Allowed root folders; unset = MCP client roots when declared, else the working directory. */
  roots: z.array(z.string().min(1)).min(1).optional(),
  /** Ladder of the frame tools (what MCP clients look at themselves). */
  ladder: LadderNameSchema.default("qwen"),
  /** Policy that answers `video_qa` (see src/policy). */
  policy: z.string().min(1).default("tiny"),
  /** Model folder for the `tiny` policy (a run's checkpoint or an exported model); default: the shipped one. */
  checkpoint: z.string().min(1).optional(),
  /** Ladder video_qa's agent runs on; default: `tiny` for the embedded model (trained on it), else `ladder`. */
  qaLadder: LadderNameSchema.optional(),
  /** OpenAI-compatible endpoint for the `openai` policy (the environment fills what is missing). */
  openai: OpenAIPolicyConfigSchema.partial().optional(),
  /** Encoding of image content blocks unless a call asks otherwise. */
  imageFormat: z.enum(["png", "jpeg"]).default("png"),
  /** Per-call time limit (ffmpeg and the agent loop). */
  timeoutMs: z.number().int().positive().default(120_000),
  maxFramesPerCall: z.number().int().positive().default(16),
  maxBytes: z.number().int().positive().optional(),
  maxDurationS: z.number().positive().optional(),
  /** Tool calls running at once across all sessions of this process; more wait in line. */
  maxConcurrentCalls: z.number().int().positive().default(4),
  /** Calls allowed to wait for a slot before new ones are refused. */
  maxQueuedCalls: z.number().int().min(0).default(16),
  /** Where saved trajectories live (served as framemind://trajectories/{id}). */
  trajectoriesDir: z.string().optional(),
});

export type McpOptionsInput = z.input<typeof McpOptionsSchema>;
export type McpOptions = z.output<typeof McpOptionsSchema> & { qaLadder: LadderName };

export function settleOptions(input: McpOptionsInput = {}): McpOptions {
  const o = McpOptionsSchema.parse(input);
  return { ...o, qaLadder: o.qaLadder ?? (o.policy === "tiny" ? "tiny" : o.ladder) };
}
