/**
 * The `grpo` and `run` subcommands of train-framemind (registered in src/cli/train-framemind.ts).
 * Every config field is a flag (--group.field VALUE, e.g. --update.beta 0 --rollout.groupSize 4);
 * shortcuts: --drfs on|off, --init DIR, --out DIR, --steps N, --seed N. SIGINT/SIGTERM stop the
 * rollouts, checkpoint the last completed step and exit 130/143; --resume RUN_DIR continues.
 */
import { FramemindError } from "../../errors.js";
import { printJson, Progress, type Command } from "../../cli/common.js";
import { splitFlags } from "../../cli/train-framemind.js";
import { resolveConfig } from "../config.js";
import { runGrpo } from "../grpo.js";
import { GrpoConfigSchema } from "./config.js";
import { runPipeline, RunConfigSchema } from "./pipeline.js";
import type { StepMetrics } from "./trainer.js";

const GRPO_ALIASES: Record<string, string> = { drfs: "drfs.mode", init: "init", beta: "update.beta" };

/** Aborts on SIGINT/SIGTERM; `code()` is the exit code to use afterwards. */
function stopSignals(): { signal: AbortSignal; code: () => number; dispose: () => void } {
  const ac = new AbortController();
  let got: NodeJS.Signals | null = null;
  const on = (sig: NodeJS.Signals) => {
    if (got) return;
    got = sig;
    process.stderr.write(`\n${sig}: stopping rollouts, checkpointing the last completed step\n`);
    ac.abort(new FramemindError("FM_ERR_CANCELLED"));
  };
  process.on("SIGINT", on);
  process.on("SIGTERM", on);
  return {
    signal: ac.signal,
    code: () => (got === "SIGINT" ? 130 : got === "SIGTERM" ? 143 : 0),
    dispose: () => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
    },
  };
}

function progressHooks(label: string) {
  let bar: Progress | undefined;
  return {
    onStep: (m: StepMetrics, done: number, total: number) =>
      (bar ??= new Progress(label, total)).tick(done, `reward ${m.reward.mean.toFixed(3)} acc ${m.accuracy.toFixed(2)} kl ${m.update.kl.toFixed(4)} ${m.time.rolloutS.toFixed(0)}+${m.time.updateS.toFixed(0)} s`),
    onEval: (step: number, e: { accuracy: number; items: number }) => process.stderr.write(`validation @ step ${step}: accuracy ${e.accuracy.toFixed(3)} (${e.items} items)\n`),
    log: (line: string) => process.stderr.write(line + "\n"),
  };
}

const grpoUsage = "train-framemind grpo --config FILE.json [--resume RUN_DIR] [--drfs on|off] [--init SFT_DIR] [--out RUN_DIR] [--steps N] [--group.field VALUE ...]";

export const grpoCommand: Command = {
  summary: "DRFS-GRPO on whole trajectories from an SFT checkpoint (run folder with metrics, checkpoints, plot)",
  usage: grpoUsage,
  async run(argv) {
    const { flags } = splitFlags(argv);
    const { config: file, resume, ...rest } = flags;
    const overrides = Object.fromEntries(Object.entries(rest).map(([k, v]) => [GRPO_ALIASES[k] ?? k, v]));
    const config = resolveConfig(GrpoConfigSchema, file, overrides);
    const stop = stopSignals();
    try {
      const r = await runGrpo({ config, ...(resume ? { resume } : {}), signal: stop.signal, ...progressHooks("grpo") });
      printJson(r);
      return stop.code();
    } finally {
      stop.dispose();
    }
  },
};

const runUsage = "train-framemind run --config FILE.json [--out DIR] [--group.field VALUE ...]   (rerun the same command to continue)";

export const runCommand: Command = {
  summary: "the whole recipe from one config: teacher trajectories -> SFT -> DRFS-GRPO -> test comparison",
  usage: runUsage,
  async run(argv) {
    const { flags } = splitFlags(argv);
    const { config: file, out, ...rest } = flags;
    if (!file) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `--config is required\nusage: ${runUsage}` });
    // Every other flag is a dotted path (--grpo.run.steps 20, --teacher.lowRung 0.5).
    const config = resolveConfig(RunConfigSchema, file, rest);
    if (out) config.out = out;
    const stop = stopSignals();
    try {
      const r = await runPipeline(config, { signal: stop.signal, ...progressHooks("grpo") });
      printJson({ out: r.out, sft: r.sft, grpo: r.grpo, test: r.test && { sft: r.test.sft.accuracy, grpo: r.test.grpo.accuracy, items: r.test.sft.items } });
      return stop.code();
    } finally {
      stop.dispose();
    }
  },
};
