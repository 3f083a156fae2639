/**
 * A small real setup for the GRPO tests: a 3+2 item synthetic suite (train/val), cue-teacher
 * trajectories through the agent loop, and a tiny model given a short SFT by the real SFT
 * trainer, so its sampled turns vary (some follow the protocol, some do not) and GRPO groups
 * carry signal. Built once per machine under the OS temp dir (keyed by FIXTURE_VERSION).
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSuite } from "../../datasets/synth/index.js";
import { loadSplit } from "../../src/train/grpo.js";
import { writeTeacherData } from "../../src/train/grpo/teacher-data.js";
import { NO_FLAWS } from "../../src/train/grpo/flawed-teacher.js";
import { trainSft } from "../../src/train/sft.js";
import { SftConfigSchema } from "../../src/train/config.js";

const FIXTURE_VERSION = "grpo-fixture-v2";

export interface GrpoFixture {
  dir: string;
  train: string;
  val: string;
  init: string;
}

export async function grpoFixture(): Promise<GrpoFixture> {
  const dir = join(tmpdir(), `framemind-${FIXTURE_VERSION}`);
  const fx = { dir, train: join(dir, "train.jsonl"), val: join(dir, "val.jsonl"), init: join(dir, "sft", "final") };
  if (existsSync(join(dir, "READY"))) return fx;
  const build = `${dir}.build-${process.pid}`;
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build, { recursive: true });
  await generateSuite({ split: "train", n: 3, seed: 11, out: build });
  await generateSuite({ split: "val", n: 2, seed: 11, out: build });
  const teacher = join(build, "teacher.jsonl");
  await writeTeacherData(await loadSplit(join(build, "train.jsonl")), teacher, { flaws: NO_FLAWS, ladder: "tiny" });
  const cfg = SftConfigSchema.parse({
    seed: 3,
    model: { dModel: 32, nLayers: 1, nHeads: 2, dFF: 64, maxSeq: 384, timeFeatures: 8 },
    optim: { lr: 3e-3, warmupSteps: 5 },
    data: { train: teacher, frameCache: "" },
    run: { out: join(build, "sft"), steps: 150, batchSize: 8, logEvery: 50, checkpointEvery: 1000, evalEvery: 1000 },
  });
  await trainSft(cfg, { quiet: true });
  rmSync(join(build, "READY"), { force: true });
  try {
    renameSync(build, dir);
  } catch {
    rmSync(build, { recursive: true, force: true }); // another worker built it first
  }
  const { writeFileSync } = await import("node:fs");
  writeFileSync(join(dir, "READY"), "");
  return fx;
}
