/**
 * Trainer configuration: one grouped, documented zod schema per trainer; every field has a
 * default, so `{}` is a valid config. Sources, later wins: defaults < config file (--config) <
 * flags (--group.field value, e.g. --optim.lr 3e-4, or the short aliases in FLAG_ALIASES).
 * Validation throws FM_ERR_TRAIN_CONFIG naming every bad value. The GRPO trainer adds its own
 * `grpo` group beside these (see GrpoPlaceholder) and reuses data/model/optim/run.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { FramemindError } from "../errors.js";
import { FAMILIES } from "../../datasets/synth/families.js";
import { FlawRatesSchema, hasFlaws } from "./grpo/flawed-teacher.js";

/** "24:low" -> { frames: 24, rung: "low" } (the uniform baseline's observation); anything else -> undefined. */
export function framesRung(s: string): { frames: number; rung: string } | undefined {
  const m = /^(\d+):([a-z]+)$/.exec(s);
  return m ? { frames: Number(m[1]), rung: m[2]! } : undefined;
}

export const ModelShape = z
  .object({
    /** Width of the residual stream. */
    dModel: z.number().int().positive().default(128),
    nLayers: z.number().int().positive().default(3),
    nHeads: z.number().int().positive().default(4),
    /** Feed-forward width (4x dModel is the usual choice). */
    dFF: z.number().int().positive().default(512),
    /** Longest sequence (context + generated turn). */
    maxSeq: z.number().int().positive().default(384),
    /** Sinusoidal features of each visual token's timestamp. */
    timeFeatures: z.number().int().positive().multipleOf(2).default(16),
    /** Frame slots the model can point at (`<f0>`..): times in turns become references to frames in view; 0 = times spelt in digits. */
    frameRefs: z.number().int().min(0).max(64).default(32),
    /** Patch stem: 0 = one linear projection per 28x28 patch; k > 0 = a shared projection of each stemCell-pixel square to k features (a convolution), then the patch projection. */
    stemChannels: z.number().int().min(0).default(0),
    /** Side of the stem's squares in pixels. */
    stemCell: z.number().int().positive().default(7),
    /** Step between stem squares in pixels; 0 = stemCell (they tile the patch). Smaller: overlapping squares (transformer.ts stemStride). */
    stemStride: z.number().int().min(0).default(0),
    /** Stem squares averaged per pooled cell side (transformer.ts stemPool). */
    stemPool: z.number().int().positive().default(1),
    /** The stem's features are added to the whole patch's linear projection instead of replacing it (transformer.ts stemBeside). */
    stemBeside: z.boolean().default(false),
    /** Learned embedding of each patch's cell in its frame (row * 16 + col): 256 covers 16x16 patches; 0 = off. */
    patchCells: z.number().int().min(0).default(0),
    /** Each visual token also sees its patch minus the same cell of the previous frame (motion; transformer.ts patchMotion). */
    patchMotion: z.boolean().default(false),
  })
  .strict()
  .prefault({});

export const OptimConfig = z
  .object({
    lr: z.number().positive().default(2e-3),
    warmupSteps: z.number().int().min(0).default(100),
    decay: z.enum(["cosine", "linear", "constant"]).default("cosine"),
    /** Final LR as a fraction of lr. */
    minRatio: z.number().min(0).max(1).default(0.05),
    weightDecay: z.number().min(0).default(0.01),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.99),
    /** Global gradient-norm clip (0 = off). */
    clipNorm: z.number().min(0).default(1),
    /** Learning-rate multiplier per parameter-name prefix, e.g. {"stem.": 6}: what `addStem` adds learns from scratch while the rest fine-tunes. */
    lrScale: z.record(z.string().min(1), z.number().positive()).default({}),
  })
  .strict()
  .prefault({});

/** Relative share of each family among drill items (missing = 1; 0 = none of it): more items of a skill the mix under-trains, each one fresh (src/train/drills.ts drillIndices). */
const FamilyWeights = z
  .partialRecord(z.enum(FAMILIES), z.number().min(0))
  .refine((f) => FAMILIES.some((k) => (f[k] ?? 1) > 0), "at least one family needs a weight above 0")
  .default({});

export const DataConfig = z
  .object({
    /** Teacher trajectories (JSONL of trajectory records) to learn from; "" = drills only (needs `init`: its vocabulary). */
    train: z.string().default("runs/data/synth/teacher-train.jsonl"),
    /** Teacher trajectories for the validation loss ("" = none). */
    val: z.string().default(""),
    /** Dataset JSONL whose questions the validation accuracy runs through the agent loop ("" = none). */
    valDataset: z.string().default(""),
    /** Questions of valDataset used per validation (0 = all). */
    valQuestions: z.number().int().min(0).default(60),
    /** Validation answers through the agent loop ("agent") or from uniform frames in one turn ("FRAMES:RUNG", the uniform baseline's own protocol). */
    valPolicy: z.string().regex(/^(agent|\d+:[a-z]+)$/).default("agent"),
    /** Persistent caches (frames/ decoded frames, evidence/ per-record frames), so ffmpeg decodes each request once across runs ("" = off). */
    frameCache: z.string().default(".framemind-cache"),
    /** Extra teacher turns on synthetic items rendered in-process (src/train/drills.ts): n items from suite seed `seed` (0 = none). */
    drills: z
      .object({
        n: z.number().int().min(0).default(0),
        seed: z.number().int().min(0).default(101),
        /** "FRAMES:RUNG": uniform-baseline drills (that many uniform frames, answered in one turn); "" = the agent's turns. */
        uniform: z.string().regex(/^(\d+:[a-z]+)?$/).default(""),
        /** The imperfect teacher's flaws for drills (`train-framemind run` copies its teacher's): wrongMoment, lowRung, skipLook. */
        ...FlawRatesSchema.shape,
        /** Also one reading example per item of a reading family: its question with only the frames that hold the answer (src/train/drills.ts readingContext). */
        reading: z.boolean().default(false),
        /**
         * The first this-many steps draw batches from the reading views only (a curriculum):
         * measured with bench:reading-probe, a family the model cannot read yet (small text)
         * slows the others it could (order alone 98% at 600 steps, beside small-code 72%),
         * and reading views are short (~50-200 tokens), so these steps are cheap.
         */
        readingWarmup: z.number().int().min(0).default(0),
        /** Count's answer turn counts one flash at a time, each at the first frame of its run (session 11; docs/model.md). */
        countSteps: z.boolean().default(false),
        /** Order answers from the clip instead of zooming on two of its frames (session 18; CueTeacherOptions.orderFromClip). */
        orderFromClip: z.boolean().default(false),
        /** Change's answer turn reads both signs at both ends before it names the side (session 19; CueTeacherOptions.changeReads). */
        changeReads: z.boolean().default(false),
        /** Small-code zooms on the sign in two region steps, then reads (session 21; CueTeacherOptions.zoomRegion). */
        zoomRegion: z.boolean().default(false),
        /** With zoomRegion: the read is centred up to this many source px off the code, so reading is learnt where a model's own pointing lands (CueTeacherOptions.readJitter). */
        readJitter: z.number().min(0).max(20).default(0),
        /** Change zooms on the left sign's digit, then (when the answer is not a left option) the right's, at the last clip frame on the signs (session 25; CueTeacherOptions.changeZoom). */
        changeZoom: z.boolean().default(false),
        /** With changeZoom: zoom this many clip frames before the last one on the signs, never before the change (session 26; CueTeacherOptions.changeMargin). */
        changeMargin: z.number().int().min(0).max(8).default(0),
        /** With changeZoom: the think copies the read side's options' last digits before it answers or goes on (session 26; CueTeacherOptions.changeCompare). */
        changeCompare: z.boolean().default(false),
        /** Relative share of each family among the n items. */
        families: FamilyWeights,
        /**
         * More items of which only the last `lastTurns` turns are trained, when the last is an
         * answer (same teacher, flaws and uniform setting; items from their own seed, never a
         * drill's). bench:reading-probe --init measured that 0.6.0 fine-tuned on count's answer
         * turns alone counts 80% of held-out answer turns (45% before), where the six-family mix
         * at 3x count weight left count at 32-34%; but with the answer turn alone the agent stopped
         * looking again before it counted (session 14): 2 keeps the turn that decided to look.
         */
        answerTurns: z
          .object({
            n: z.number().int().min(0).default(0),
            seed: z.number().int().min(0).default(201),
            families: FamilyWeights,
            lastTurns: z.number().int().min(1).max(4).default(1),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /**
     * Keep only trajectories (and drills) whose frames cover every evidence interval of their item.
     * The cue teacher answers from the item, so a look that missed a 0.3 s flash still carries
     * the right digit: a label the frames in view do not support (measured on 2225 teacher
     * trajectories: 31% of flash-digit, 76% of count).
     */
    requireEvidence: z.boolean().default(false),
    /**
     * Keep only trajectories whose answer the scorer grades right (applied before requireEvidence).
     * For a model's own sampled runs (`framemind eval --votes N` writes them all): rejection-sampling
     * fine-tuning trains the runs that worked (session 18: one round from 0.8.0 tied it; docs/model.md).
     */
    requireCorrect: z.boolean().default(false),
    /** With requireCorrect: at most this many distinct right trajectories per item (0 = all). */
    maxPerItem: z.number().int().min(0).default(0),
    /**
     * Loss weight of answer turns' tokens relative to calls' (1 = plain token mean). Reading the
     * answer off the frames is a few tokens per trajectory among ~100 protocol tokens.
     */
    answerWeight: z.number().positive().default(1),
    /**
     * Loss weight of turns that zoom on a region (their call names `region`): the pointing turns
     * are two of a small-code trajectory's turns, rare in a six-family mix (session 21).
     */
    zoomWeight: z.number().positive().default(1),
    /**
     * How answers to option questions are written: "letter" as the teacher wrote them, or "text"
     * (the option's words; the scorer takes either). Measured with bench/reading-probe.ts (reading
     * view, 600 steps): order by letter 29% (chance 25%: the model must bind the colour it saw to a
     * letter), order + change by text 61%.
     */
    optionAnswers: z.enum(["letter", "text"]).default("letter"),
    /**
     * Families whose teacher trajectories (data.train) are left out; drills still cover them. For
     * trajectories an older teacher wrote differently (before session 5 the cue teacher read small text at "high").
     */
    skipFamilies: z.array(z.enum(FAMILIES)).default([]),
    /** Drop training examples longer than this many tokens (0 = the model's maxSeq). */
    maxLen: z.number().int().min(0).default(0),
  })
  .strict()
  .prefault({});

export const RunConfig = z
  .object({
    /** Run folder (metrics, checkpoints, plot). */
    out: z.string().default("runs/sft"),
    steps: z.number().int().positive().default(2000),
    batchSize: z.number().int().positive().default(16),
    logEvery: z.number().int().positive().default(10),
    checkpointEvery: z.number().int().positive().default(100),
    /** Validation (loss, and accuracy when valDataset is set) every this many steps; best/ follows it. */
    evalEvery: z.number().int().positive().default(250),
    /** Which validation number picks best/: auto = accuracy when data.valDataset is set, else loss. */
    bestBy: z.enum(["auto", "val_loss", "val_accuracy"]).default("auto"),
    keepCheckpoints: z.number().int().positive().default(3),
    /** onnxruntime intra-op threads (0 = the engine's default from the machine). */
    threads: z.number().int().min(0).default(0),
    /** Stop after this many seconds (checkpoint first); 0 = no limit. */
    maxSeconds: z.number().min(0).default(0),
  })
  .strict()
  .prefault({});

export const SftConfigSchema = z
  .object({
    seed: z.number().int().min(0).default(1),
    /**
     * A model folder to fine-tune from ("" = fresh weights): its weights, shape and vocabulary
     * replace `model` (words it does not know become <unk>, listed in metrics.jsonl); the
     * optimizer starts fresh.
     */
    init: z.string().default(""),
    /**
     * Blocks appended to the `init` model, each starting as the identity (output projections at
     * zero), so the fine-tune starts from the init model's exact outputs with more depth. 0 = none.
     */
    growLayers: z.number().int().min(0).max(8).default(0),
    /**
     * Give the `init` model motion features (model.patchMotion) with their projection at zero, so
     * the fine-tune starts from the init model's exact outputs and learns to use them.
     */
    addMotion: z.boolean().default(false),
    /**
     * Give the `init` model a convolutional stem beside its linear patch projection (model
     * stemBeside), its projection at zero, so the fine-tune starts from the init model's exact
     * outputs: `channels` features per `cell`-pixel window, windows every `stride` pixels,
     * averaged `pool` x `pool` (src/nn/transformer.ts addStem).
     */
    addStem: z
      .object({ channels: z.number().int().positive(), cell: z.number().int().positive(), stride: z.number().int().positive(), pool: z.number().int().positive().default(1) })
      .strict()
      .optional(),
    model: ModelShape,
    optim: OptimConfig,
    data: DataConfig,
    run: RunConfig,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.model.dModel % c.model.nHeads !== 0) ctx.addIssue({ code: "custom", path: ["model", "nHeads"], message: `dModel ${c.model.dModel} is not divisible by nHeads ${c.model.nHeads}` });
    if (c.run.bestBy === "val_accuracy" && !c.data.valDataset) ctx.addIssue({ code: "custom", path: ["run", "bestBy"], message: "val_accuracy needs data.valDataset (or choose val_loss)" });
    if (c.data.requireEvidence && hasFlaws(c.data.drills)) ctx.addIssue({ code: "custom", path: ["data", "requireEvidence"], message: "would drop exactly the drills whose looks data.drills.wrongMoment / lowRung / skipLook spoil: turn one of them off" });
    const d = c.data.drills;
    if (d.n && d.answerTurns.n && d.answerTurns.seed === d.seed) ctx.addIssue({ code: "custom", path: ["data", "drills", "answerTurns", "seed"], message: `equals data.drills.seed (${d.seed}): the answer turns would repeat the drills' items; pick another seed` });
    if (c.growLayers && !c.init) ctx.addIssue({ code: "custom", path: ["growLayers"], message: "grows an init model: set `init` too" });
    if (c.addStem && !c.init) ctx.addIssue({ code: "custom", path: ["addStem"], message: "adds a stem to an init model: set `init` too (a fresh model takes model.stemChannels)" });
    if (c.addMotion && !c.init) ctx.addIssue({ code: "custom", path: ["addMotion"], message: "adds motion to an init model: set `init` too (a fresh model takes model.patchMotion)" });
    if (!c.data.train && !c.init) ctx.addIssue({ code: "custom", path: ["data", "train"], message: "a fresh model builds its vocabulary from data.train: set it, or fine-tune an `init` model on drills" });
    if (c.run.bestBy === "val_loss" && !c.data.val) ctx.addIssue({ code: "custom", path: ["run", "bestBy"], message: "val_loss needs data.val" });
  });

export type SftConfig = z.infer<typeof SftConfigSchema>;

/** Short flags for the common fields; every field is also reachable as --group.field. */
export const FLAG_ALIASES: Record<string, string> = {
  data: "data.train",
  out: "run.out",
  steps: "run.steps",
  "batch-size": "run.batchSize",
  lr: "optim.lr",
  seed: "seed",
  threads: "run.threads",
};

/** Sets a dotted path, converting strings that look like numbers / booleans. */
export function setPath(obj: Record<string, unknown>, path: string, raw: string): void {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== "object" || o[k] === null) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  const v = raw === "true" ? true : raw === "false" ? false : raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  o[keys[keys.length - 1]!] = v;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** Validates a raw config object; the error names every bad field and its value. */
export function parseConfig<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const get = (p: readonly PropertyKey[]) => p.reduce<unknown>((o, k) => (o && typeof o === "object" ? (o as Record<PropertyKey, unknown>)[k] : undefined), raw);
    const reason = r.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}${i.path.length ? ` (got ${JSON.stringify(get(i.path))})` : ""}`).join("; ");
    throw new FramemindError("FM_ERR_TRAIN_CONFIG", { reason });
  }
  return r.data;
}

/** defaults < file < overrides (dotted paths -> raw strings from flags). */
export function resolveConfig<S extends z.ZodType>(schema: S, file: string | undefined, overrides: Record<string, string>): z.infer<S> {
  let raw: Record<string, unknown> = {};
  if (file) {
    try {
      raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch (e) {
      throw new FramemindError("FM_ERR_TRAIN_CONFIG", { reason: `cannot read config file ${file}: ${(e as Error).message}` });
    }
  }
  const flags: Record<string, unknown> = {};
  for (const [p, v] of Object.entries(overrides)) setPath(flags, FLAG_ALIASES[p] ?? p, v);
  return parseConfig(schema, deepMerge(raw, flags));
}
