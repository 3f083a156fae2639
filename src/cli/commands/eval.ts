import { z } from "zod";
import { compareRuns, runEval } from "../../eval/run.js";
import { STRATEGIES } from "../../eval/select.js";
import { FramemindError } from "../../errors.js";
import { LadderNameSchema } from "../../video/index.js";
import { parseFlags, printJson, Progress, validate, type Command } from "../common.js";

const usage =
  "framemind eval --dataset FILE --policy NAME [--frames N --rung R] [--budget visual-tokens] [--max-turns n] [--ladder tiny|qwen] [--answerer NAME] [--checkpoint DIR] [--unguided (tiny policies)] [--no-follow-think (tiny: clip calls may leave the think's window, the decoding before 0.7.0)] [--seed S] [--votes N [--temperature T] [--top-p P] (self-consistency: N sampled runs per question, majority answer)] [--limit N] [--no-decode] --out DIR\n" +
  "       framemind eval --compare DIR1 DIR2 ... [--out DIR]\n" +
  "policies: uniform | content-aware | oracle-select (frame selection, no model: evidence recall only), or any agent policy (tiny, oracle, openai, ...)";

const Flags = z.object({
  dataset: z.string().min(1),
  policy: z.string().min(1),
  frames: z.coerce.number().int().min(1).max(64).optional(),
  rung: z.string().optional(),
  budget: z.coerce.number().int().positive().optional(),
  maxTurns: z.coerce.number().int().min(1).max(16).optional(),
  ladder: LadderNameSchema.default("tiny"),
  answerer: z.string().optional(),
  checkpoint: z.string().optional(),
  seed: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().positive().optional(),
  decode: z.boolean().default(true),
  guided: z.boolean().default(true),
  followThink: z.boolean().default(true),
  votes: z.coerce.number().int().min(1).max(32).optional(),
  temperature: z.coerce.number().min(0).max(2).optional(),
  topP: z.coerce.number().gt(0).max(1).optional(),
  out: z.string().min(1),
})
  .refine((f) => f.votes === undefined || f.votes === 1 || !(STRATEGIES as readonly string[]).includes(f.policy) || f.answerer !== undefined, { message: "--votes needs a policy that answers (selection strategies give frames only)" })
  .refine((f) => (f.temperature === undefined && f.topP === undefined) || (f.votes ?? 1) > 1, { message: "--temperature and --top-p go with --votes N (N >= 2); a single run is greedy" });

export const command: Command = {
  summary: "evaluate a policy or frame-selection strategy on a dataset (report.json/.md/.svg), or compare runs",
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        dataset: { type: "string" },
        policy: { type: "string" },
        frames: { type: "string" },
        rung: { type: "string" },
        budget: { type: "string" },
        "max-turns": { type: "string" },
        ladder: { type: "string" },
        answerer: { type: "string" },
        checkpoint: { type: "string" },
        seed: { type: "string" },
        limit: { type: "string" },
        out: { type: "string" },
        compare: { type: "boolean" },
        "no-decode": { type: "boolean" },
        unguided: { type: "boolean" },
        "no-follow-think": { type: "boolean" },
        votes: { type: "string" },
        temperature: { type: "string" },
        "top-p": { type: "string" },
      },
      usage,
    );
    if (values.compare) {
      if (positionals.length < 1) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `--compare needs at least one run folder\nusage: ${usage}` });
      const out = values.out ?? positionals[0]!;
      const r = await compareRuns(positionals, out);
      process.stdout.write(r.markdown);
      console.error(`wrote ${out}/compare.md and ${out}/compare.svg`);
      return 0;
    }
    const f = validate(Flags, { ...values, maxTurns: values["max-turns"], decode: !values["no-decode"], guided: !values.unguided, followThink: !values["no-follow-think"], topP: values["top-p"] });
    let bar: Progress | undefined;
    const report = await runEval({
      ...f,
      onProgress: (done, total) => (bar ??= new Progress(`eval ${f.policy}`, total)).tick(done),
    });
    printJson({ out: f.out, label: report.label, n: report.n, failed: report.failed, accuracy: report.accuracy, evidence_recall: report.evidence_recall, visual_tokens: report.visual_tokens, per_family: report.per_family });
    return 0;
  },
};
