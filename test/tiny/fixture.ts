/**
 * A small real synthetic set shared by the tiny-model and SFT tests: 6 items (one per family,
 * short videos: seed 1149 was picked for that) and their cue-teacher trajectories, generated
 * once into test-output/ and reused by later runs.
 */
import { existsSync } from "node:fs";
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
  const dataset = join(DIR, "train.jsonl");
  const teacher = join(DIR, "teacher.jsonl");
  if (!existsSync(dataset)) await generateSuite({ split: "train", n: 6, seed: FIXTURE_SEED, out: DIR });
  if (!existsSync(teacher)) await writeCueTrajectories({ dataset, out: teacher });
  return { dir: DIR, dataset, teacher };
}
