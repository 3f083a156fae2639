import { z } from "zod";
import { probe, type VideoInfo } from "../src/video/index.js";
import type { Tool } from "./types.js";

const schema = () => z.object({});

export const probeVideoTool: Tool<ReturnType<typeof schema>, VideoInfo> = {
  name: "probe_video",
  description: "Describe a video: duration, frame rate, frame count, display size, codec, keyframe interval, audio presence.",
  schema,
  async run(video, _args, ctx) {
    return probe(video, { ...ctx.paths, signal: ctx.signal, timeoutMs: ctx.timeoutMs });
  },
};
