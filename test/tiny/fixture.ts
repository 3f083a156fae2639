/**
 * A small real synthetic set shared by the tiny-model and SFT tests: 6 items (one per family,
 * short videos: seed 1149 was picked for that) and their cue-teacher trajectories, generated
 * once into test-output/ and reused by later runs.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { generateSuite } from "../../datasets/synth/generate.js";
import { writeCueTrajectories } from "../../src/policy/tiny/teacher.js";
import { setEvidenceCacheDir } from "../../src/policy/tiny/evidence.js";
import { setFrameCacheDir } from "../../src/video/index.js";

export const FIXTURE_SEED = 1149;
const DIR = join(process.cwd(), "test-output", `tiny-synth-${FIXTURE_SEED}`);

export interface SynthFixture {
  dir: string;
  dataset: string;
  teacher: string;
}

export async function synthFixture(): Promise<SynthFixture> {
  setFrameCacheDir(join(DIR, "cache", "frames"));
  setEvidenceCacheDir(join(DIR, "cache", "evidence"));
  const suite = join(DIR, "suite");
  const dataset = join(suite, "train.jsonl");
  const teacher = join(DIR, "teacher.jsonl");
  // Test files run in parallel workers: each part is built under a private name and renamed into
  // place, so a worker never reads a half-written one (a loser of the race drops its copy).
  await once(suite, (tmp) => generateSuite({ split: "train", n: 6, seed: FIXTURE_SEED, out: tmp }).then(() => undefined));
  await once(teacher, (tmp) => writeCueTrajectories({ dataset, out: tmp }).then(() => undefined));
  return { dir: DIR, dataset, teacher };
}

async function once(target: string, make: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(target)) return;
  mkdirSync(DIR, { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await make(tmp);
    renameSync(tmp, target);
  } catch (e) {
    if (!existsSync(target)) throw e; // a failure of our own, not a lost race
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
