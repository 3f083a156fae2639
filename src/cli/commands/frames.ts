import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { encodeImages, getFrames, LadderNameSchema, type Resolution } from "../../video/index.js";
import { regionOf, regionSchema } from "../../../tools/get_frames.js";
import { csv, parseFlags, printJson, validate, type Command } from "../common.js";
import { FramemindError } from "../../errors.js";

const usage =
  "framemind frames VIDEO (--at t1,t2,.. | --start s --end e --count n) [--ladder qwen|tiny] [--rung low|mid|high | --min-pixels N --max-pixels N] [--exact|--tolerant] [--region x0,y0,x1,y1] [--format png|jpeg] [--out DIR] [--roots DIR,...] [--json]";

const Flags = z
  .object({
    at: z.array(z.coerce.number()).optional(),
    start: z.coerce.number().optional(),
    end: z.coerce.number().optional(),
    count: z.coerce.number().int().positive().optional(),
    ladder: LadderNameSchema.default("qwen"),
    rung: z.string().optional(),
    minPixels: z.coerce.number().int().positive().optional(),
    maxPixels: z.coerce.number().int().positive().optional(),
    exact: z.boolean().optional(),
    tolerant: z.boolean().optional(),
    format: z.enum(["png", "jpeg"]).default("png"),
    region: regionSchema.optional(),
  })
  .refine((f) => !(f.exact && f.tolerant), { message: "--exact and --tolerant exclude each other" })
  .refine((f) => (f.minPixels === undefined) === (f.maxPixels === undefined), { message: "--min-pixels and --max-pixels go together" })
  .refine((f) => !(f.rung && f.minPixels), { message: "give --rung or --min-pixels/--max-pixels, not both" });

export const command: Command = {
  summary: "extract frames at timestamps or over an interval, at a resolution rung",
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        at: { type: "string" },
        start: { type: "string" },
        end: { type: "string" },
        count: { type: "string" },
        ladder: { type: "string" },
        rung: { type: "string" },
        "min-pixels": { type: "string" },
        "max-pixels": { type: "string" },
        exact: { type: "boolean" },
        tolerant: { type: "boolean" },
        format: { type: "string" },
        region: { type: "string" },
        out: { type: "string" },
        roots: { type: "string" },
        json: { type: "boolean" },
      },
      usage,
    );
    const video = positionals[0];
    if (!video) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `missing VIDEO\nusage: ${usage}` });
    const f = validate(Flags, { ...values, at: csv(values.at), minPixels: values["min-pixels"], maxPixels: values["max-pixels"], region: values.region === undefined ? undefined : csv(values.region)?.map(Number) });
    const resolution: Resolution = f.minPixels !== undefined ? { minPixels: f.minPixels, maxPixels: f.maxPixels! } : { ladder: f.ladder, rung: f.rung ?? "low" };
    const span = f.at ? undefined : f.start !== undefined && f.end !== undefined && f.count !== undefined ? { start: f.start, end: f.end, count: f.count } : undefined;
    if (!f.at && !span) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `give --at, or --start, --end and --count\nusage: ${usage}` });
    const r = await getFrames({ video, at: f.at, span, resolution, mode: f.tolerant ? "tolerant" : "exact", ...regionOf(f) }, { roots: csv(values.roots) });
    let files: string[] | undefined;
    if (values.out) {
      await mkdir(values.out, { recursive: true });
      const imgs = await encodeImages(r.frames, f.format);
      files = await Promise.all(
        imgs.map(async (img, i) => {
          const p = join(values.out!, `frame_${String(i).padStart(3, "0")}_${r.frames[i]!.timestamp.toFixed(3)}s.${f.format === "png" ? "png" : "jpg"}`);
          await writeFile(p, img);
          return p;
        }),
      );
    }
    const body = {
      video: r.video.path,
      frames: r.frames.map((fr, i) => ({ timestamp: fr.timestamp, requested: fr.requested, width: fr.width, height: fr.height, tokens: fr.tokens, ...(files ? { file: files[i] } : {}) })),
      tokens: r.tokens,
      mode: r.mode,
      ...(r.region ? { region: r.region } : {}),
      decodeMs: r.decodeMs,
      ...(r.warnings.length ? { warnings: r.warnings } : {}),
    };
    if (values.json) printJson(body);
    else {
      for (const fr of body.frames) console.log(`t=${fr.timestamp.toFixed(3)}s (asked ${fr.requested}) ${fr.width}x${fr.height} ${fr.tokens} tokens${"file" in fr ? " -> " + String(fr.file) : ""}`);
      console.log(`${body.frames.length} frames${r.region ? ` of region [${r.region.join(", ")}]` : ""}, ${body.tokens} visual tokens, ${r.mode}, ${r.decodeMs} ms`);
    }
    return 0;
  },
};
