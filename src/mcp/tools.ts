/**
 * probe_video, get_frames, get_clip over MCP: the tools/ modules' own zod schemas extended with
 * `video` (and, for frames, the image encoding), so validation, descriptions and JSON Schema
 * have one source. Every call passes the root rules, the call gate and the client's signal
 * (cancellation kills ffmpeg).
 */
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import { getClipTool, getFramesTool, probeVideoTool, type FramesOutput, type Tool, type ToolContext } from "../../tools/index.js";
import type { ImageFormat } from "../video/index.js";
import { framesResult, FramesResultSchema, imageFormatArg, structured, VideoInfoSchema } from "./content.js";
import type { SessionContext } from "./session.js";

export const videoArg = z.string().min(1).describe("path of the video file: absolute, or relative to the first allowed root");

/** Every FrameMind tool only reads files and decodes video. */
export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

type Args = Record<string, unknown> & { video: string };

/** Registers one tools/ module; `present` turns its output into the MCP result. */
function registerFileTool<S extends z.ZodObject, O>(
  s: SessionContext,
  tool: Tool<S, O>,
  extraShape: z.ZodRawShape,
  outputSchema: z.ZodObject,
  present: (out: O, args: Args, signal: AbortSignal) => Promise<CallToolResult> | CallToolResult,
): void {
  // Widened to a plain ZodObject: the SDK validates with it; the handler sees a parsed record.
  const inputSchema: z.ZodObject = tool.schema(s.options.ladder).extend({ video: videoArg, ...extraShape });
  s.server.registerTool(
    tool.name,
    { title: tool.name, description: `${tool.description} (Reads a video file inside the allowed roots.)`, inputSchema, outputSchema, annotations: READ_ONLY },
    async (parsed, extra) =>
      s.call(tool.name, extra.signal, async () => {
        const args = parsed as Args;
        const { path, policy } = await s.roots.resolve(args.video);
        const ctx: ToolContext = {
          ladder: s.options.ladder,
          paths: policy,
          signal: extra.signal,
          timeoutMs: s.options.timeoutMs,
          maxFrames: s.options.maxFramesPerCall,
          maxDurationS: s.options.maxDurationS,
        };
        // Everything but the MCP-only fields is the tool's own (already validated) argument object.
        const { video: _video, format: _format, ...toolArgs } = args;
        const out = await tool.run(path, toolArgs as z.infer<S>, ctx);
        return present(out, args, extra.signal);
      }),
  );
}

export function registerVideoTools(s: SessionContext): void {
  const format = { format: imageFormatArg(s.options.imageFormat) };
  const frames = (out: FramesOutput, args: Args, signal: AbortSignal) => {
    s.log("info", `${args.video}: ${out.frames.length} frames ${out.width}x${out.height}, ${out.tokens} tokens${out.cached ? " (cached)" : `, decoded in ${out.decodeMs.toFixed(0)} ms`}`);
    return framesResult(out, args.format as ImageFormat, signal);
  };
  registerFileTool(s, probeVideoTool, {}, VideoInfoSchema, (info) => structured(VideoInfoSchema.parse(info)));
  registerFileTool(s, getFramesTool, format, FramesResultSchema, frames);
  registerFileTool(s, getClipTool, format, FramesResultSchema, frames);
}
