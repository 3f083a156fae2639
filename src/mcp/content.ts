/**
 * Tool results as MCP content: structured output (validated against the output schemas below),
 * a text copy of it for clients that ignore structuredContent, and image blocks for frames.
 * The output schemas mirror the video layer's result types (checked at compile time).
 */
import { z } from "zod";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { FramesOutput } from "../../tools/index.js";
import { encodeImages, mimeType, type ImageFormat, type VideoInfo } from "../video/index.js";

export const VideoInfoSchema = z.object({
  path: z.string(),
  bytes: z.number(),
  container: z.string(),
  duration: z.number().describe("seconds"),
  durationSource: z.enum(["container", "stream", "packets"]),
  startTime: z.number(),
  fps: z.number(),
  realFps: z.number(),
  frameCount: z.number(),
  codec: z.string(),
  pixFmt: z.string(),
  codedWidth: z.number(),
  codedHeight: z.number(),
  width: z.number().describe("display width (rotation and aspect ratio applied)"),
  height: z.number(),
  rotation: z.number(),
  sampleAspectRatio: z.string(),
  keyframeInterval: z.number().nullable(),
  hasAudio: z.boolean(),
  warnings: z.array(z.string()),
}) satisfies z.ZodType<VideoInfo>;

export const FramesResultSchema = z.object({
  video: z.object({ path: z.string(), duration: z.number(), fps: z.number(), width: z.number(), height: z.number() }),
  rung: z.string(),
  mode: z.enum(["exact", "tolerant"]),
  width: z.number().describe("width of every returned frame"),
  height: z.number(),
  tokens: z.number().describe("visual tokens of the whole result (Qwen2.5-VL counting)"),
  timestamps: z.array(z.number()).describe("real presentation time of each frame, in content order"),
  frames: z.array(z.object({ timestamp: z.number(), requested: z.number(), width: z.number(), height: z.number(), tokens: z.number() })),
  mimeType: z.string().describe("of the image content blocks, one per frame in timestamp order"),
  cached: z.boolean(),
  decodeMs: z.number(),
  warnings: z.array(z.string()),
  region: z.array(z.number()).length(4).optional().describe("the crop [x0, y0, x1, y1] (fractions of the picture), when the call zoomed on a region"),
});
export type FramesResult = z.infer<typeof FramesResultSchema>;

/** Per-call image encoding, added to the frame tools' own schemas (MCP-only: the policy never sees pixels encoded). */
export const imageFormatArg = (fallback: ImageFormat) =>
  z.enum(["png", "jpeg"]).default(fallback).describe("encoding of the returned images (png: lossless; jpeg: smaller)");

export function structured<T extends Record<string, unknown>>(value: T, extra: CallToolResult["content"] = []): CallToolResult {
  return { structuredContent: value, content: [{ type: "text", text: JSON.stringify(value) }, ...extra] };
}

export async function framesResult(out: FramesOutput, format: ImageFormat, signal?: AbortSignal): Promise<CallToolResult> {
  const images = await encodeImages(out.frames, format, { signal });
  const mime = mimeType(format);
  const value: FramesResult = {
    video: { path: out.video.path, duration: out.video.duration, fps: out.video.fps, width: out.video.width, height: out.video.height },
    rung: out.rung,
    mode: out.mode,
    width: out.width,
    height: out.height,
    tokens: out.tokens,
    timestamps: out.timestamps,
    frames: out.frames.map((f) => ({ timestamp: f.timestamp, requested: f.requested, width: f.width, height: f.height, tokens: f.tokens })),
    mimeType: mime,
    cached: out.cached,
    decodeMs: out.decodeMs,
    warnings: out.warnings,
    ...(out.region ? { region: out.region } : {}),
  };
  return structured(value, images.map((b) => ({ type: "image" as const, data: b.toString("base64"), mimeType: mime })));
}
