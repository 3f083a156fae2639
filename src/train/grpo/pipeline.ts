/**
 * `train-framemind run`: the whole recipe from one config — teacher trajectories (optionally a
 * deliberately flawed teacher), SFT (stage 1), DRFS-GRPO from the SFT model (stage 2), then a
 * greedy comparison of both on the test split. Each stage's output is reused when present and
 * an interrupted stage resumes, so rerunning the same command continues where it stopped.
 *
 *   out/teacher.jsonl   teacher trajectories (flaws recorded in summary.json)
 *   out/sft/            SFT run folder (best/ by validation accuracy when data.val is set)
 *   out/grpo/           GRPO run folder (best/ by validation accuracy)
 *   out/summary.json    config, stage results, test accuracy + tool statistics of SFT and GRPO
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { generateSuite, SPLITS } from "../../../datasets/synth/index.js";
import { FramemindError } from "../../errors.js";
import { z } from "zod";
import { loadTiny } from "../../policy/tiny/checkpoint.js";
import { LadderNameSchema, setFrameCacheDir } from "../../video/index.js";
import { parseConfig, SftConfigSchema, type SftConfig } from "../config.js";
import { loadSplit, runGrpo, type GrpoRunOptions } from "../grpo.js";
import { trainSft } from "../sft.js";
import { GrpoConfigSchema, type GrpoConfig } from "./config.js";
import { FLAW_KINDS, flawRates, FlawRatesSchema, type FlawKind } from "./flawed-teacher.js";
import { writeTeacherData } from "./teacher-data.js";
import { tinyTrainable } from "./tiny.js";
import { evaluate, type EvalSummary } from "./trainer.js";

const Obj = z.record(z.string(), z.unknown());

export const RunConfigSchema = z
  .object({
    /** Seeds the teacher's flaws, SFT and GRPO (unless their groups set their own). */
    seed: z.number().int().min(0).default(0),
    out: z.string().default("runs/run"),
    data: z
      .object({
        train: z.string().default("data/synth/train.jsonl"),
        /** Validation split: best checkpoints of both stages. */
        val: z.string().default("data/synth/val.jsonl"),
        /** Test split: only evaluated, never trained on ("" = skip). */
        test: z.string().default("data/synth/test.jsonl"),
        /** Evaluate at most this many test items (0 = all). */
        maxTestItems: z.number().int().min(0).default(0),
        /**
         * Generate a missing split with the synthetic suite (n items; 0 = never), so a fresh
         * clone runs end to end. The split file must be named <split>.jsonl.
         */
        generate: z
          .object({ seed: z.number().int().min(0).default(0), train: z.number().int().min(0).default(0), val: z.number().int().min(0).default(0), test: z.number().int().min(0).default(0) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    teacher: z
      .object({
        /** The imperfect-teacher switches (flawed-teacher.ts): wrongMoment, lowRung, skipLook. */
        ...FlawRatesSchema.shape,
        ladder: LadderNameSchema.default("tiny"),
        concurrency: z.number().int().min(1).default(2),
      })
      .strict()
      .prefault({}),
    /** SFT config (src/train/config.ts); data.train, data.valDataset and run.out are filled in. */
    sft: Obj.default({}),
    /** GRPO config (grpo/config.ts); init, data and run.out are filled in. */
    grpo: Obj.default({}),
  })
  .strict();

export type RunConfig = z.infer<typeof RunConfigSchema>;

export interface StageConfigs {
  sft: SftConfig;
  grpo: GrpoConfig;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" ? merge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** The two stages' configs with the pipeline's paths filled in (validated here, before any work). */
export function stageConfigs(c: RunConfig): StageConfigs {
  const out = resolve(c.out);
  // Drills (if any) carry the teacher's flaws, like the teacher data they add to.
  const flaws = { drills: flawRates(c.teacher) };
  const sft = parseConfig(SftConfigSchema, merge({ seed: c.seed }, merge(c.sft, { data: { train: join(out, "teacher.jsonl"), valDataset: c.data.val, ...flaws }, run: { out: join(out, "sft") } })));
  const grpo = parseConfig(GrpoConfigSchema, merge({ seed: c.seed }, merge(c.grpo, { init: join(out, "sft", "best"), data: { train: c.data.train, val: c.data.val }, run: { out: join(out, "grpo") } })));
  return { sft, grpo };
}

export interface PipelineResult {
  out: string;
  teacher: { file: string; count: number; flaws: Record<FlawKind, number> } | { file: string; reused: true };
  sft: { dir: string; model: string };
  grpo: { dir: string; steps: number; best: { step: number; accuracy: number; path: string } | null; interrupted: boolean };
  test: { sft: EvalSummary; grpo: EvalSummary } | null;
}

const hasCheckpoints = (dir: string) => existsSync(join(dir, "checkpoints")) && readdirSync(join(dir, "checkpoints")).some((d) => d.startsWith("step-"));

export async function runPipeline(c: RunConfig, o: Pick<GrpoRunOptions, "signal" | "onStep" | "onEval" | "log"> = {}): Promise<PipelineResult> {
  const log = o.log ?? (() => undefined);
  const out = resolve(c.out);
  const { sft, grpo } = stageConfigs(c);

  if (grpo.rollout.frameCacheDir) setFrameCacheDir(resolve(grpo.rollout.frameCacheDir));
  for (const split of SPLITS) {
    const file = c.data[split];
    const n = c.data.generate[split];
    if (!file || existsSync(file) || n === 0) continue;
    if (basename(file) !== `${split}.jsonl`) throw new FramemindError("FM_ERR_TRAIN_CONFIG", { reason: `data.generate.${split}: ${file} must be named ${split}.jsonl` });
    log(`generating the ${split} split (${n} items, seed ${c.data.generate.seed}) in ${dirname(file)}`);
    await generateSuite({ split, n, seed: c.data.generate.seed, out: dirname(file), ...(o.signal ? { signal: o.signal } : {}) });
  }

  const teacherFile = join(out, "teacher.jsonl");
  let teacher: PipelineResult["teacher"];
  if (existsSync(teacherFile)) teacher = { file: teacherFile, reused: true };
  else {
    log(`stage 1a: teacher trajectories (${FLAW_KINDS.map((k) => `${k} ${c.teacher[k]}`).join(", ")})`);
    const t = await writeTeacherData(await loadSplit(c.data.train), teacherFile, { flaws: { ...flawRates(c.teacher), seed: c.seed }, ladder: c.teacher.ladder, concurrency: c.teacher.concurrency, ...(o.signal ? { signal: o.signal } : {}), onProgress: (d, n) => d % 25 === 0 && log(`teacher ${d}/${n}`) });
    teacher = t;
  }

  const sftDir = sft.run.out;
  if (!existsSync(join(sftDir, "final"))) {
    log(`stage 1b: SFT -> ${sftDir}`);
    await trainSft(sft, { resume: hasCheckpoints(sftDir) });
  }
  // GRPO starts from the SFT model that did best on validation (final/ when there was no validation).
  const init = existsSync(join(sftDir, "best")) ? join(sftDir, "best") : join(sftDir, "final");
  const g: GrpoConfig = { ...grpo, init };
  log(`stage 2: DRFS-GRPO from ${init} -> ${g.run.out}`);
  const r = await runGrpo({ config: g, ...(hasCheckpoints(g.run.out) ? { resume: g.run.out } : {}), ...o });

  let test: PipelineResult["test"] = null;
  if (c.data.test && !r.interrupted && !o.signal?.aborted) {
    log("test split: SFT vs GRPO (greedy)");
    const items = await loadSplit(c.data.test, c.data.maxTestItems);
    const grpoModel = r.best?.path ?? r.lastCheckpoint ?? init;
    const evalWith = async (dir: string) => {
      const loaded = loadTiny(dir);
      try {
        return await evaluate(tinyTrainable(loaded, { guided: g.eval.guided }), items, g, o.signal);
      } finally {
        await loaded.model.release();
      }
    };
    test = { sft: await evalWith(init), grpo: await evalWith(grpoModel) };
  }
  const result: PipelineResult = { out, teacher, sft: { dir: sftDir, model: init }, grpo: { dir: r.runDir, steps: r.steps, best: r.best, interrupted: r.interrupted }, test };
  writeFileSync(join(out, "summary.json"), JSON.stringify({ config: c, ...result }, null, 2) + "\n");
  return result;
}
