/**
 * What a tool is: a zod input schema (the single source of validation, prompt text, OpenAPI
 * and MCP descriptions), a description, and run(). Policy tools get the video bound by the
 * agent; the MCP server extends the same schemas with `video`.
 */
import type { z } from "zod";
import type { Frame, FrameMode, LadderName, PathPolicy, VideoInfo } from "../src/video/index.js";

export interface ToolContext {
  ladder: LadderName;
  /** Path rules for the video (roots, size cap). */
  paths: PathPolicy;
  signal?: AbortSignal;
  timeoutMs?: number;
  maxFrames?: number;
  maxDurationS?: number;
}

/** What a frame-returning tool gives back: the frames plus everything the record needs. */
export interface FramesOutput {
  frames: Frame[];
  timestamps: number[];
  width: number;
  height: number;
  tokens: number;
  rung: string;
  mode: FrameMode;
  cached: boolean;
  decodeMs: number;
  warnings: string[];
  video: VideoInfo;
}

export interface Tool<S extends z.ZodType, O> {
  name: string;
  description: string;
  /** Input schema as the policy sees it (no `video`). */
  schema: (ladder: LadderName) => S;
  run(video: string, args: z.infer<S>, ctx: ToolContext): Promise<O>;
}
