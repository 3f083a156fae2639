import { z } from "zod";
import { readDataset, writeDataset } from "../../../datasets/io.js";
import { FORMATS, importBenchmark } from "../../../datasets/loaders/index.js";
import { FramemindError } from "../../errors.js";
import { parseFlags, printJson, validate, type Command } from "../common.js";

const usage =
  "framemind data check FILE [--no-video-check]\n       framemind data import --format mvbench|videomme|mlvu ANNOTATIONS --videos DIR --out FILE.jsonl";

const ImportFlags = z.object({
  format: z.enum(FORMATS),
  videos: z.string().min(1),
  out: z.string().regex(/\.jsonl$/, "must end in .jsonl"),
  annotations: z.string().min(1, "missing ANNOTATIONS file"),
});

async function check(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { "no-video-check": { type: "boolean" } }, usage);
  const file = positionals[0];
  if (!file) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `missing FILE\nusage: ${usage}` });
  const d = await readDataset(file, { checkVideos: !values["no-video-check"] });
  const summary = { file, lines: d.lines, valid: d.items.length, invalid: d.errors.length, errors: d.errors };
  if (d.errors.length === 0) {
    printJson(summary);
    return 0;
  }
  const err = new FramemindError("FM_ERR_DATA_INVALID", { path: file, bad: d.errors.length, total: d.lines });
  printJson({ error: { code: err.code, message: err.message }, ...summary });
  return 2;
}

async function importCmd(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { format: { type: "string" }, videos: { type: "string" }, out: { type: "string" } }, usage);
  const f = validate(ImportFlags, { ...values, annotations: positionals[0] ?? "" });
  const r = await importBenchmark({ format: f.format, annotations: f.annotations, videos: f.videos, out: f.out });
  await writeDataset(f.out, r.items);
  printJson({ out: f.out, format: f.format, items: r.items.length, missing_videos: r.missing.length, missing: r.missing, skipped: r.skipped });
  return 0;
}

export const command: Command = {
  summary: "check a dataset JSONL (every bad line, with its number) or import MVBench / Video-MME / MLVU annotations",
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === "check") return check(rest);
    if (sub === "import") return importCmd(rest);
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `unknown subcommand '${sub ?? ""}' (check, import)\nusage: ${usage}` });
  },
};
