#!/usr/bin/env node
/**
 * `train-framemind <subcommand>`: the trainers. Each subcommand is one row of SUBCOMMANDS
 * (the GRPO engineer registers `grpo` and `run` there with one line each).
 *
 *   train-framemind sft --config FILE [--data TEACHER.jsonl] [--out RUN_DIR] [--resume RUN_DIR] [--group.field VALUE ...]
 *   train-framemind teacher --dataset FILE.jsonl --out TRAJ.jsonl [--uniform FRAMES:RUNG] [--frame-cache DIR (default .framemind-cache)]
 *   train-framemind export --from CHECKPOINT_DIR --to MODEL_DIR [--card CARD.json]
 *
 * Config flags: every config field can be set as --group.field VALUE (e.g. --optim.lr 1e-3,
 * --run.steps 500); short aliases: --data, --out, --steps, --batch-size, --lr, --seed, --threads.
 * With --resume the run folder's config.json is the base and flags still override it.
 */
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FramemindError } from "../errors.js";
import { guarded, printJson, Progress, runMain, type Command } from "./common.js";

/** `--a.b value`, `--a.b=value`, booleans as `--flag` before another flag or the end. */
export function splitFlags(argv: readonly string[]): { flags: Record<string, string>; positionals: string[] } {
  const flags: Record<string, string> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) flags[a.slice(2)] = argv[++i]!;
    else flags[a.slice(2)] = "true";
  }
  return { flags, positionals };
}

const sftUsage = "train-framemind sft --config FILE [--data TEACHER.jsonl] [--out RUN_DIR] [--resume RUN_DIR] [--group.field VALUE ...]";

const sft: Command = {
  summary: "supervised fine-tuning of the embedded model on teacher trajectories",
  usage: sftUsage,
  async run(argv) {
    const { resolveConfig, SftConfigSchema } = await import("../train/config.js");
    const { trainSft } = await import("../train/sft.js");
    const { flags } = splitFlags(argv);
    const { config: file, resume, ...rest } = flags;
    let base = file;
    if (resume) {
      const saved = join(resume, "config.json");
      if (!existsSync(saved)) throw new FramemindError("FM_ERR_TRAIN_CONFIG", { reason: `--resume ${resume}: no config.json there` });
      // The run's own resolved config is the base; drop the recorded versions before re-validating.
      const { versions: _v, ...cfg } = JSON.parse(readFileSync(saved, "utf8")) as Record<string, unknown>;
      base = join(mkdtempSync(join(tmpdir(), "fm-resume-")), "config.json");
      writeFileSync(base, JSON.stringify(cfg));
      rest["run.out"] = resume;
    }
    const cfg = resolveConfig(SftConfigSchema, base, rest);
    const r = await trainSft(cfg, { resume: Boolean(resume) });
    printJson(r);
    return 0;
  },
};

const teacherUsage = "train-framemind teacher --dataset FILE.jsonl --out TRAJ.jsonl [--uniform FRAMES:RUNG] [--frame-cache DIR (default .framemind-cache)] [--concurrency N]";

const teacher: Command = {
  summary: "write learnable teacher trajectories (the cue teacher, or uniform observations) through the agent loop",
  usage: teacherUsage,
  async run(argv) {
    const { writeCueTrajectories } = await import("../policy/tiny/teacher.js");
    const { setFrameCacheDir } = await import("../video/index.js");
    const { setEvidenceCacheDir } = await import("../policy/tiny/evidence.js");
    const { flags } = splitFlags(argv);
    if (!flags.dataset || !flags.out) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `--dataset and --out are required\nusage: ${teacherUsage}` });
    let uniform: { frames: number; rung: string } | undefined;
    if (flags.uniform) {
      const m = /^(\d+):(\w+)$/.exec(flags.uniform);
      if (!m) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `--uniform must look like 16:low, got '${flags.uniform}'` });
      uniform = { frames: Number(m[1]), rung: m[2]! };
    }
    const cache = flags["frame-cache"] ?? ".framemind-cache";
    setFrameCacheDir(join(cache, "frames"));
    setEvidenceCacheDir(join(cache, "evidence"));
    let progress: Progress | undefined;
    const r = await writeCueTrajectories({
      dataset: flags.dataset,
      out: flags.out,
      ...(uniform ? { uniform } : {}),
      concurrency: Number(flags.concurrency ?? 2),
      onProgress: (d, t) => (progress ??= new Progress("teacher", t)).tick(d),
    });
    printJson({ out: flags.out, ...r });
    return 0;
  },
};

const exportUsage = "train-framemind export --from CHECKPOINT_DIR --to MODEL_DIR [--card CARD.json] [--expert NAME --words WORD,WORD [--max-turns N]]";

const exportCmd: Command = {
  summary: "ship a checkpoint as a model folder (weights, config, vocabulary, card; no optimizer state)",
  usage: exportUsage,
  async run(argv) {
    const { cpSync, mkdirSync, rmSync } = await import("node:fs");
    const { loadTiny, CARD_FILE, VOCAB_FILE } = await import("../policy/tiny/checkpoint.js");
    const { flags } = splitFlags(argv);
    if (!flags.from || !flags.to) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `--from and --to are required\nusage: ${exportUsage}` });
    if (!flags.expert !== !flags.words) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `--expert and --words go together\nusage: ${exportUsage}` });
    if (flags["max-turns"] !== undefined && !flags.expert) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `--max-turns is an expert's (with --expert)\nusage: ${exportUsage}` });
    loadTiny(flags.from); // refuse to ship a folder that does not load
    const experts = await import("../policy/tiny/experts.js");
    // An expert ships inside the model folder (experts/NAME) and is named in its experts.json.
    const expert = flags.expert ? experts.checkExpert({ name: flags.expert, checkpoint: join(flags.to, "experts", flags.expert), words: (flags.words ?? "").split(",").filter(Boolean), ...(flags["max-turns"] !== undefined ? { maxTurns: Number(flags["max-turns"]) } : {}) }) : undefined;
    const to = expert?.checkpoint ?? flags.to;
    mkdirSync(to, { recursive: true });
    for (const f of ["model.safetensors", "config.json", "state.json", VOCAB_FILE]) cpSync(join(flags.from, f), join(to, f));
    rmSync(join(to, "optimizer.safetensors"), { force: true });
    if (flags.card) cpSync(flags.card, join(to, CARD_FILE));
    const shipped = loadTiny(to);
    const routed = expert ? experts.writeExpert(flags.to, expert) : undefined;
    printJson({ to, version: shipped.version, params: Object.values(shipped.model.params).reduce((n, p) => n + p.length, 0), ...(routed ? { experts: routed.map((e) => e.name) } : {}) });
    return 0;
  },
};

/** Subcommands; `grpo` and `run` are added here by the GRPO trainer. */
export const SUBCOMMANDS: Record<string, () => Promise<Command>> = {
  sft: async () => sft,
  teacher: async () => teacher,
  export: async () => exportCmd,
  grpo: async () => (await import("../train/grpo/command.js")).grpoCommand,
  run: async () => (await import("../train/grpo/command.js")).runCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log("usage: train-framemind <subcommand> [options]\n");
    for (const [n, load] of Object.entries(SUBCOMMANDS)) console.log(`  ${n.padEnd(10)} ${(await load()).summary}`);
    return 0;
  }
  const load = SUBCOMMANDS[name];
  if (!load) return guarded(async () => {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `unknown subcommand '${name}' (subcommands: ${Object.keys(SUBCOMMANDS).join(", ")})` });
  });
  const cmd = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(`usage: ${cmd.usage}\n\n${cmd.summary}`);
    return 0;
  }
  return guarded(() => cmd.run(rest));
}

runMain(() => main(process.argv.slice(2)));
