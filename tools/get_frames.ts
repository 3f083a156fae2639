import { z } from "zod";
import { getFrames, MIN_REGION_SIDE, regionProblem, rungNames, type LadderName, type Region } from "../src/video/index.js";
import { extractOptions, framesOutput, type FramesOutput, type Tool } from "./types.js";

/** Timestamps travel at 0.1 s resolution, as the protocol writes them. */
export const seconds = z.number().min(0).describe("seconds from the start of the video (0.1 s resolution)");
export const rungSchema = (ladder: LadderName) =>
  z.enum(rungNames(ladder) as [string, ...string[]]).describe(`resolution rung of the '${ladder}' ladder: ${rungNames(ladder).join(" < ")}`);

export const round1 = (t: number) => Math.round(t * 10) / 10;

/** A crop shared by the frame tools: corners as fractions of the picture, checked by the video layer's own rule. */
export const regionSchema = z
  .array(z.number().min(0).max(1))
  .length(4)
  .superRefine((r, ctx) => {
    const problem = regionProblem(r as Region);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  })
  .describe(
    `optional zoom: [x0, y0, x1, y1], the part of the picture to look at as fractions of its width and height (0,0 top left; each side at least ${MIN_REGION_SIDE}); the crop is sized at the rung like a whole frame, so a small region costs fewer tokens and shows its detail at up to the video's own resolution`,
  );

/** The crop as the video layer takes it (absent when the call has none). */
export const regionOf = (a: { region?: number[] | undefined }) => (a.region ? { region: a.region as Region } : {});

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
      region: regionSchema.optional(),
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
  description: "Look at frames of the video: at given timestamps, or `count` frames spread over [start, end], at a resolution rung, optionally zoomed on a region. Returns the frames with their real timestamps and visual-token cost.",
  schema,
  forms: FORMS,
  async run(video, args, ctx) {
    const r = await getFrames(
      {
        video,
        ...(args.timestamps ? { at: args.timestamps.map(round1) } : { span: { start: round1(args.start!), end: round1(args.end!), count: args.count! } }),
        resolution: { ladder: ctx.ladder, rung: args.rung },
        mode: args.mode,
        ...regionOf(args),
      },
      extractOptions(ctx),
    );
    return framesOutput(r, args.rung);
  },
};
