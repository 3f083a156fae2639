import { z } from "zod";
import { getClip, type LadderName } from "../src/video/index.js";
import { regionOf, regionSchema, round1, rungSchema, seconds } from "./get_frames.js";
import { extractOptions, framesOutput, type FramesOutput, type Tool } from "./types.js";

const schema = (ladder: LadderName) =>
  z
    .object({
      start: seconds.describe("clip start (seconds)"),
      end: seconds.describe("clip end (seconds)"),
      count: z.number().int().min(8).max(20).default(16).describe("frames in the clip (8 to 20); frames are counted in pairs for tokens"),
      rung: rungSchema(ladder),
      region: regionSchema.optional(),
    })
    .refine((a) => a.end > a.start, { message: "end must be after start" });

export const getClipTool: Tool<ReturnType<typeof schema>, FramesOutput> = {
  name: "get_clip",
  description: "Watch a short clip: 8 to 20 frames evenly over [start, end] at a resolution rung, optionally zoomed on a region (dense look at motion or counts).",
  schema,
  async run(video, args, ctx) {
    const r = await getClip(
      { video, start: round1(args.start), end: round1(args.end), count: args.count, resolution: { ladder: ctx.ladder, rung: args.rung }, ...regionOf(args) },
      extractOptions(ctx),
    );
    return framesOutput(r, args.rung);
  },
};
