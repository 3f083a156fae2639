/**
 * Teacher trajectories for SFT (DESIGN.md §6 stage 1): the oracle policy runs through the real
 * agent loop (real frames, real parser) on every item of a dataset JSONL, and each trajectory
 * record is written as one JSON line, in dataset order. Items without evidence intervals are
 * skipped (the oracle needs them). The seed and dataset are recorded in each record's `meta`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { answer } from "../src/agent/loop.js";
import type { Trajectory } from "../src/agent/trajectory.js";
import { asFramemindError, throwIfAborted } from "../src/errors.js";
import { createOraclePolicy } from "../src/policy/oracle.js";
import type { LadderName } from "../src/video/index.js";
import { loadDataset, videoPath } from "./io.js";

export interface TeacherOptions {
  seed: number;
  ladder: LadderName;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Questions answered at once (default 2: ffmpeg is the bottleneck on small machines). */
  concurrency?: number;
}

export async function writeTeacherTrajectories(datasetFile: string, outFile: string, opts: TeacherOptions): Promise<{ count: number; skipped: number; answered: number }> {
  const items = await loadDataset(datasetFile);
  const usable = items.filter((i) => i.evidence?.length);
  const records: Trajectory[] = new Array<Trajectory>(usable.length);
  let next = 0;
  let done = 0;
  // The first failure stops the other workers; nothing returns before all of them have stopped.
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  opts.onProgress?.(0, usable.length);
  const worker = async () => {
    for (let k = next++; k < usable.length; k = next++) {
      throwIfAborted(signal);
      const item = usable[k]!;
      const r = await answer({
        video: videoPath(datasetFile, item),
        question: item.question,
        ...(item.options ? { options: item.options } : {}),
        policy: createOraclePolicy({ item, seed: opts.seed }),
        settings: { ladder: opts.ladder },
        signal,
        item: { id: item.id, file: datasetFile },
        meta: { teacher: { seed: opts.seed, dataset: datasetFile, answerType: item.answer_type } },
      });
      if (r.error) throw r.error;
      records[k] = r.record;
      opts.onProgress?.(++done, usable.length);
    }
  };
  const runs = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, usable.length)) }, () =>
      worker().catch((e: unknown) => {
        stop.abort();
        throw e;
      }),
    ),
  );
  // Report the root cause, not the cancellations it caused in the other workers.
  const failures = runs.flatMap((r) => (r.status === "rejected" ? [asFramemindError(r.reason)] : []));
  if (failures.length) throw failures.find((e) => e.code !== "FM_ERR_CANCELLED") ?? failures[0]!;
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : ""));
  return { count: records.length, skipped: items.length - usable.length, answered: records.filter((r) => r.answer !== null).length };
}
