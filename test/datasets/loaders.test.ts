import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readDataset } from "../../datasets/io.js";
import { importBenchmark } from "../../datasets/loaders/index.js";
import { command as dataCommand } from "../../src/cli/commands/data.js";
import { tmpDir } from "../helpers/videos.js";

const fx = (name: string) => join(dirname(fileURLToPath(import.meta.url)), "fixtures", name);

/** A videos folder laid out as each benchmark ships it (placeholder files: loaders only check presence). */
function videoFolder(): string {
  const dir = tmpDir("fm-bench-");
  for (const rel of ["star/Charades_v1_480/ZS9XR.mp4", "star/Charades_v1_480/1JQ4B.mp4", "videomme/data/fFjv93ACGo8.mp4", "MLVU/video/1_plotQA/movie101_66.mp4", "MLVU/video/1_plotQA/movie101_41.mp4", "MLVU/video/8_sub_scene/subPlot_new_all_226.mp4"]) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), "");
  }
  return dir;
}

describe("benchmark loaders", () => {
  const videos = videoFolder();
  const outDir = tmpDir("fm-import-");

  it("MVBench: candidates become lettered options, the answer text its letter; missing videos reported", async () => {
    const out = join(outDir, "mvbench.jsonl");
    const r = await importBenchmark({ format: "mvbench", annotations: fx("action_sequence.json"), videos, out });
    expect(r.items.map((i) => i.answer)).toEqual(["A", "C"]);
    expect(r.items[0]).toMatchObject({ id: "mvbench-action_sequence-0", answer_type: "option", options: ["A. Ate the medicine.", "B. Tidied up the blanket.", "C. Put down the cup/glass/bottle.", "D. Took the box."], meta: { task: "action_sequence", bound: [11.1, 19.6] } });
    expect(resolve(outDir, r.items[0]!.video)).toBe(join(videos, "star/Charades_v1_480/ZS9XR.mp4"));
    expect(r.missing).toEqual([{ id: "mvbench-action_sequence-2", video: "MISSING1.mp4" }]);
    expect(r.skipped).toHaveLength(1);
    expect(r.skipped[0]!.reason).toMatch(/not one of the candidates/);
  });

  it("Video-MME: nested release JSON and flat Hugging Face rows", async () => {
    const out = join(outDir, "videomme.jsonl");
    const r = await importBenchmark({ format: "videomme", annotations: fx("videomme.json"), videos, out });
    expect(r.items.map((i) => i.id)).toEqual(["videomme-001-1", "videomme-001-2"]);
    expect(r.items[0]).toMatchObject({ answer: "C", options: ["A. Apples.", "B. Candles.", "C. Berries.", "D. The three kinds are of the same number."], meta: { task_type: "Counting Problem", duration: "short" } });
    expect(r.missing).toEqual([{ id: "videomme-002-1", video: "NOTHERE0000" }]);
    const flat = await importBenchmark({ format: "videomme", annotations: fx("videomme_hf.jsonl"), videos, out });
    expect(flat.items.map((i) => i.id)).toEqual(["videomme-001-3"]);
    expect(flat.skipped).toHaveLength(1);
  });

  it("MLVU: multiple choice and free-text generation tasks", async () => {
    const out = join(outDir, "mlvu.jsonl");
    const mc = await importBenchmark({ format: "mlvu", annotations: fx("1_plotQA.json"), videos, out });
    expect(mc.items.map((i) => [i.answer, i.answer_type])).toEqual([["A", "option"], ["C", "option"]]);
    const gen = await importBenchmark({ format: "mlvu", annotations: fx("8_sub_scene.json"), videos, out });
    expect(gen.items[0]).toMatchObject({ answer_type: "text", meta: { task: "8_sub_scene", duration: 492 } });
  });

  it("the wrong format is a typed error, not a crash", async () => {
    await expect(importBenchmark({ format: "mvbench", annotations: fx("videomme.json"), videos, out: join(outDir, "x.jsonl") })).rejects.toMatchObject({ code: "FM_ERR_DATA_FORMAT" });
    await expect(importBenchmark({ format: "mlvu", annotations: join(outDir, "nope.json"), videos, out: join(outDir, "x.jsonl") })).rejects.toMatchObject({ code: "FM_ERR_DATA_NOT_FOUND" });
  });

  it("`data import` writes a JSONL that `data check` accepts", async () => {
    const out = join(outDir, "cli", "mvbench.jsonl");
    const logs: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (logs.push(String(s)), true)) as typeof process.stdout.write;
    try {
      expect(await dataCommand.run(["import", "--format", "mvbench", fx("action_sequence.json"), "--videos", videos, "--out", out])).toBe(0);
      expect(await dataCommand.run(["check", out])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(JSON.parse(logs[0]!)).toMatchObject({ items: 2, missing_videos: 1 });
    expect((await readDataset(out)).items).toHaveLength(2);
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(2);
  });
});
