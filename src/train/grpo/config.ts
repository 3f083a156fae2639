/**
 * The DRFS-GRPO configuration: one grouped, documented zod schema (TRL's GRPOConfig style).
 * Every field has a default; validation throws FM_ERR_TRAIN_CONFIG listing each bad value
 * (src/train/config.ts, shared with SFT); CLI flags override fields by dotted path
 * (--update.beta 0); the resolved object is written into the run folder.
 */
import { z } from "zod";
import { parseConfig } from "../config.js";
import { LadderNameSchema, rungNames } from "../../video/index.js";
import { RewardsConfigSchema } from "../rewards/index.js";

export const GrpoConfigSchema = z
  .object({
    /** Seeds the data order and every rollout's random stream. */
    seed: z.number().int().min(0).default(0),
    data: z
      .object({
        /** Training split JSONL (videos relative to it). */
        train: z.string().default("data/synth/train.jsonl"),
        /** Validation split for best-checkpoint selection ("" = none). */
        val: z.string().default("data/synth/val.jsonl"),
        /** Use at most this many training items (0 = all). */
        maxTrainItems: z.number().int().min(0).default(0),
        /** Validate on at most this many items (0 = all). */
        maxValItems: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
    /** Starting weights (the SFT checkpoint folder); also the frozen KL reference. */
    init: z.string().default("models/framemind-tiny"),
    rollout: z
      .object({
        /** Questions per step. */
        questionsPerStep: z.number().int().min(1).default(4),
        /** G: rollouts per question. */
        groupSize: z.number().int().min(2).default(8),
        /** Sampling temperature; the update scores the same tempered distribution (0: greedy, no exploration). */
        temperature: z.number().min(0).default(1),
        topP: z.number().gt(0).max(1).default(1),
        /**
         * Tokens per turn drawn at the temperature, then greedy (forced: no gradient); 0 = all.
         * The turn's opening is where it decides to look or to answer; drawn at temperature 1,
         * a look's times and rung come out worse than the greedy model's (session 10: sampled
         * looks answered no better than guesses), so the group could not see what looking is worth.
         */
        sampleTokens: z.number().int().min(0).default(0),
        ladder: LadderNameSchema.default("tiny"),
        maxTurns: z.number().int().min(1).max(16).default(4),
        maxVisualTokens: z.number().int().positive().default(256),
        maxFramesPerCall: z.number().int().min(1).max(64).default(16),
        /**
         * Rollouts decode guided (src/agent/guide.ts: only tokens that keep the turn parseable), and
         * the update scores the guided distribution they sampled: each token's mask travels with it
         * and is added to the logits as a bias, so ratio, KL and entropy compare like with like and a
         * forced token (one allowed) carries no gradient. Session 7 recomputed unmasked log-probs
         * instead: forced tokens entered the ratio as improbable choices and the KL spiked to 5.
         * Off by default (the unguided runs of sessions 7-9 stay reproducible); docs/training.md,
         * session 10, measures both from the skip-look fine-tune.
         */
        guided: z.boolean().default(false),
        /** Rollouts run at once (model calls and ffmpeg overlap). */
        concurrency: z.number().int().min(1).default(4),
        /** Generous: a timed-out rollout would make the run depend on machine load. */
        timeoutMs: z.number().int().positive().default(600_000),
        /** Persistent decoded-frame cache shared by runs ("" = memory only). */
        frameCacheDir: z.string().default(".framemind-cache/frames"),
        /** Decode every DRFS start of every training video before step 1, so rollouts start from lookups. */
        prewarm: z.boolean().default(true),
        /** Decode each training video once per frame size (in-process fast path) so tool calls are lookups; off without the addon. */
        frameStore: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    drfs: z
      .object({
        /** off: every rollout starts from `fallback` (the single-rung ablation). */
        mode: z.enum(["on", "off"]).default("on"),
        /** Nominal visual tokens of each start (default: the fallback's). */
        tokenBudget: z.number().int().positive().optional(),
        fallback: z.object({ frames: z.number().int().min(1).max(64).default(8), rung: z.string().default("low") }).strict().prefault({}),
      })
      .strict()
      .prefault({}),
    rewards: RewardsConfigSchema,
    update: z
      .object({
        /** PPO epochs over the same rollouts. */
        epochs: z.number().int().min(1).default(2),
        /** Optimizer steps per epoch (the rows are split evenly). */
        minibatches: z.number().int().min(1).default(1),
        /** Rows per onnxruntime call (gradients accumulated, token-mean kept exact). */
        microBatch: z.number().int().min(1).default(32),
        /** Sequence lengths are padded up to a multiple of this (fewer distinct shapes). */
        bucket: z.number().int().min(1).default(16),
        lr: z.number().positive().default(5e-5),
        warmupSteps: z.number().int().min(0).default(3),
        decay: z.enum(["cosine", "linear", "constant"]).default("cosine"),
        minLrRatio: z.number().min(0).max(1).default(0.1),
        weightDecay: z.number().min(0).default(0),
        /** Global gradient-norm clip (0 = off). */
        clipNorm: z.number().min(0).default(1),
        epsLow: z.number().min(0).max(1).default(0.2),
        /** Clip-higher (DAPO): a larger upper bound keeps low-probability good tokens growing. */
        epsHigh: z.number().min(0).default(0.28),
        /** KL(pi || ref) weight, k3 estimator; 0 drops the KL term (KL is still reported). */
        beta: z.number().min(0).default(0.01),
        /** Old log-probs: as sampled during the rollout, or recomputed by a forward pass before the update. */
        oldLogprobs: z.enum(["rollout", "recompute"]).default("rollout"),
        /** Divide group-centred rewards by the group's std (GRPO); false = centre only (Dr. GRPO). */
        scaleByStd: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    eval: z
      .object({
        /** Validate every N steps (0 = only at the end); greedy decoding. */
        every: z.number().int().min(0).default(10),
        /** Validation runs at step 0 too (the SFT baseline). */
        atStart: z.boolean().default(true),
        /**
         * Validation decodes guided, as `framemind ask/eval` and the servers do. Before session 6 it
         * was unguided, about one answer in 48 below the same model evaluated guided.
         */
        guided: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    run: z
      .object({
        /** Run folder (created; `--resume` continues one). */
        out: z.string().default("runs/grpo"),
        /** GRPO steps (one step = questionsPerStep groups of groupSize rollouts, then the update). */
        steps: z.number().int().min(1).default(40),
        checkpointEvery: z.number().int().min(1).default(5),
        /** Trajectories written per step to samples.jsonl. */
        samplesPerStep: z.number().int().min(0).default(2),
        /** Stop after this many steps in this process (0 = no limit); for tests and short sessions. */
        stopAfter: z.number().int().min(0).default(0),
        /** Wall-clock budget of this process in seconds (0 = none): the step that crosses it is the last, validated and checkpointed. */
        maxSeconds: z.number().min(0).default(0),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const valid = rungNames(c.rollout.ladder);
    if (!valid.includes(c.drfs.fallback.rung)) {
      ctx.addIssue({ code: "custom", path: ["drfs", "fallback", "rung"], message: `unknown rung '${c.drfs.fallback.rung}' for ladder '${c.rollout.ladder}' (valid: ${valid.join(", ")})` });
    }
    if (c.update.epsHigh < c.update.epsLow) ctx.addIssue({ code: "custom", path: ["update", "epsHigh"], message: `epsHigh (${c.update.epsHigh}) must be >= epsLow (${c.update.epsLow})` });
  });

export type GrpoConfig = z.infer<typeof GrpoConfigSchema>;
export type GrpoConfigInput = z.input<typeof GrpoConfigSchema>;

/** Parses a config; throws FM_ERR_TRAIN_CONFIG naming every bad field with the value it got. */
export function parseGrpoConfig(raw: unknown): GrpoConfig {
  return parseConfig(GrpoConfigSchema, raw ?? {});
}
