/**
 * Teacher trajectories for stage 1 of `train-framemind run`: the cue teacher (optionally with
 * flaws, flawed-teacher.ts) answers every item of a dataset through the real agent loop; the
 * records are written as JSONL, the format `train-framemind sft` reads.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { answer } from "../../agent/loop.js";
import { FramemindError } from "../../errors.js";
import { createCueTeacher } from "../../policy/tiny/teacher.js";
import type { LadderName } from "../../video/index.js";
import { flawCounts, withFlaws, type FlawKind, type TeacherFlaws } from "./flawed-teacher.js";
import { pool } from "./rollout.js";
import type { DataItem } from "./trainer.js";

export interface TeacherDataResult {
  file: string;
  count: number;
  /** Calls the flaws spoiled, by kind. */
  flaws: Record<FlawKind, number>;
}

export async function writeTeacherData(data: readonly DataItem[], file: string, o: { flaws: TeacherFlaws; ladder: LadderName; concurrency?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<TeacherDataResult> {
  const flaws = flawCounts();
  let done = 0;
  const records = await pool(data, o.concurrency ?? 2, async (d) => {
    const policy = withFlaws(createCueTeacher(d.item), d.item.id, o.flaws, (k) => flaws[k]++);
    const r = await answer({ video: d.video, question: d.item.question, ...(d.item.options ? { options: d.item.options } : {}), policy, settings: { ladder: o.ladder }, item: { id: d.item.id }, ...(o.signal ? { signal: o.signal } : {}) });
    o.onProgress?.(++done, data.length);
    return r.record;
  });
  if (o.signal?.aborted) throw new FramemindError("FM_ERR_CANCELLED");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, records.map((r) => JSON.stringify(r) + "\n").join(""));
  return { file, count: records.length, flaws };
}
