import { z } from "zod";
import { getFrames, rungNames, type LadderName } from "../src/video/index.js";
import { extractOptions, framesOutput, type FramesOutput, type Tool } from "./types.js";

/** Timestamps travel at 0.1 s resolution, as the protocol writes them. */
export const seconds = z.number().min(0).describe("seconds from the start of the video (0.1 s resolution)");
export const rungSchema = (ladder: LadderName) =>
  z.enum(rungNames(ladder) as [string, ...string[]]).describe(`resolution rung of the '${ladder}' ladder: ${rungNames(ladder).join(" < ")}`);

export const round1 = (t: number) => Math.round(t * 10) / 10;

/** A call names frames by their times, or by an interval and a count: never both. */
const FORMS = [["timestamps"], ["start", "end", "count"]] as const;
const uses = (a: Record<string, unknown>, form: readonly string[]) => form.some((k) => a[k] !== undefined);

const schema = (ladder: LadderName) =>
  z
    .object({
      timestamps: z.array(seconds).min(1).max(16).optional().describe("exact moments to look at"),
      start: seconds.optional().describe("start of an interval to sample (with end and count)"),
      end: seconds.optional().describe("end of the interval"),
      count: z.number().int().min(1).max(16).optional().describe("frames spread evenly over [start, end]"),
      rung: rungSchema(ladder),
      mode: z.enum(["exact", "tolerant"]).default("exact").describe("exact: the frame shown at t; tolerant: nearest keyframe (faster)"),
    })
    .refine((a) => uses(a, FORMS[0]) !== uses(a, FORMS[1]), {
      message: "give either timestamps, or start, end and count",
    })
    .refine((a) => uses(a, FORMS[0]) || FORMS[1].every((k) => a[k] !== undefined), {
      message: "an interval needs start, end and count",
    });

export type GetFramesArgs = z.infer<ReturnType<typeof schema>>;

export const getFramesTool: Tool<ReturnType<typeof schema>, FramesOutput> = {
  name: "get_frames",
  description: "Look at frames of the video: at given timestamps, or `count` frames spread over [start, end], at a resolution rung. Returns the frames with their real timestamps and visual-token cost.",
  schema,
  forms: FORMS,
  async run(video, args, ctx) {
    const r = await getFrames(
      {
        video,
        ...(args.timestamps ? { at: args.timestamps.map(round1) } : { span: { start: round1(args.start!), end: round1(args.end!), count: args.count! } }),
        resolution: { ladder: ctx.ladder, rung: args.rung },
        mode: args.mode,
      },
      extractOptions(ctx),
    );
    return framesOutput(r, args.rung);
  },
};
