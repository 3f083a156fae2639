import { join } from "node:path";
import { z } from "zod";
import { generateSuite, SPLITS } from "../../../datasets/synth/index.js";
import { FramemindError } from "../../errors.js";
import { LadderNameSchema, type LadderName } from "../../video/index.js";
import { parseFlags, printJson, Progress, validate, type Command } from "../common.js";

const usage = "framemind gen-data --suite synth --split train|val|test --n N --seed S --out DIR [--teacher] [--ladder tiny|qwen]";

const Flags = z.object({
  suite: z.literal("synth"),
  split: z.enum(SPLITS),
  n: z.coerce.number().int().positive().max(100_000),
  seed: z.coerce.number().int().min(0).max(2 ** 32 - 1),
  out: z.string().min(1),
  teacher: z.boolean().default(false),
  ladder: LadderNameSchema.default("tiny"),
});

/** datasets/teacher.ts belongs to the agent work; it is loaded only when --teacher asks for it. */
interface TeacherModule {
  writeTeacherTrajectories(datasetFile: string, outFile: string, opts: { seed: number; ladder: LadderName; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<{ count: number }>;
}

export async function loadTeacher(): Promise<TeacherModule> {
  // A variable specifier keeps the compiler from requiring the module before it exists.
  const spec = "../../../datasets/teacher.js";
  try {
    const mod = (await import(spec)) as Partial<TeacherModule>;
    if (typeof mod.writeTeacherTrajectories !== "function") throw new Error("it does not export writeTeacherTrajectories");
    return mod as TeacherModule;
  } catch (e) {
    throw new FramemindError("FM_ERR_DATA_TEACHER_UNAVAILABLE", { reason: (e as Error).message.split("\n")[0] ?? String(e) });
  }
}

export const command: Command = {
  summary: "generate the synthetic suite (videos + JSONL), optionally with oracle teacher trajectories",
  usage,
  async run(argv) {
    const { values } = parseFlags(
      argv,
      { suite: { type: "string" }, split: { type: "string" }, n: { type: "string" }, seed: { type: "string" }, out: { type: "string" }, teacher: { type: "boolean" }, ladder: { type: "string" } },
      usage,
    );
    const f = validate(Flags, values);
    if (f.split === "test" && f.teacher) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "the test split is for evaluation only: no teacher trajectories" });
    // Fail before hours of encoding if the teacher cannot run.
    const teacher = f.teacher ? await loadTeacher() : undefined;
    const progress = new Progress(`gen-data ${f.split}`, f.n);
    const r = await generateSuite({ split: f.split, n: f.n, seed: f.seed, out: f.out, onProgress: (d) => progress.tick(d) });
    let trajectories: { file: string; count: number } | undefined;
    if (teacher) {
      const file = join(f.out, `${f.split}.teacher.jsonl`);
      const tp = new Progress("teacher", f.n);
      const t = await teacher.writeTeacherTrajectories(r.jsonl, file, { seed: f.seed, ladder: f.ladder, onProgress: (d) => tp.tick(d) });
      trajectories = { file, count: t.count };
    }
    printJson({ jsonl: r.jsonl, manifest: r.manifest, items: r.items.length, split: f.split, seed: f.seed, ...(trajectories ? { teacher: trajectories } : {}) });
    return 0;
  },
};
