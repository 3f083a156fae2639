/**
 * What a tool is: a zod input schema (the single source of validation, prompt text, OpenAPI
 * and MCP descriptions), a description, and run(). Policy tools get the video bound by the
 * agent; the MCP server extends the same schemas with `video`.
 */
import type { z } from "zod";
import type { ExtractOptions, Frame, FrameMode, FramesResult, LadderName, PathPolicy, Region, VideoInfo } from "../src/video/index.js";

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
  /** The crop, when the call zoomed on a region. */
  region?: Region;
}

export interface Tool<S extends z.ZodType, O> {
  name: string;
  description: string;
  /** Input schema as the policy sees it (no `video`). */
  schema: (ladder: LadderName) => S;
  /**
   * Argument keys that belong to alternative forms of the call (keys of two forms never together).
   * The schema's refinement is built from it, and guided decoding follows it (src/agent/guide.ts).
   */
  forms?: readonly (readonly string[])[];
  run(video: string, args: z.infer<S>, ctx: ToolContext): Promise<O>;
}

/** The video layer's options for a tool call, from the tool context. */
export function extractOptions(ctx: ToolContext): ExtractOptions {
  return { ...ctx.paths, signal: ctx.signal, timeoutMs: ctx.timeoutMs, maxFrames: ctx.maxFrames, maxDurationS: ctx.maxDurationS };
}

/** A frames/clip result as the tools return it. */
export function framesOutput(r: FramesResult, rung: string): FramesOutput {
  return { frames: r.frames, timestamps: r.frames.map((f) => f.timestamp), width: r.width, height: r.height, tokens: r.tokens, rung, mode: r.mode, cached: r.cached, decodeMs: r.decodeMs, warnings: r.warnings, video: r.video, ...(r.region ? { region: r.region } : {}) };
}
