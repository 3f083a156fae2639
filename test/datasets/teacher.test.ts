import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readDataset, videoPath } from "../../datasets/io.js";
import { command as genData, loadTeacher } from "../../src/cli/commands/gen-data.js";
import { tmpDir } from "../helpers/videos.js";

const sample = join(dirname(fileURLToPath(import.meta.url)), "../../datasets/sample/val.jsonl");

describe("gen-data --teacher", () => {
  it("dispatches to datasets/teacher.ts: one oracle trajectory per item", { timeout: 240_000 }, async () => {
    const teacher = await loadTeacher();
    const dir = tmpDir("fm-teacher-");
    const { items } = await readDataset(sample);
    const one = join(dir, "one.jsonl");
    const item = items.find((x) => x.item.meta.family === "small-code")!.item;
    writeFileSync(one, JSON.stringify({ ...item, video: videoPath(sample, item) }) + "\n");
    const out = join(dir, "one.teacher.jsonl");
    const r = await teacher.writeTeacherTrajectories(one, out, { seed: 3, ladder: "tiny" });
    expect(r.count).toBe(1);
    const rec = JSON.parse(readFileSync(out, "utf8").trim());
    expect(rec).toMatchObject({ schema: "framemind.trajectory", item: { id: item.id } });
  });

  it("refuses teacher trajectories for the test split before generating anything", async () => {
    const dir = tmpDir();
    await expect(genData.run(["--suite", "synth", "--split", "test", "--n", "1", "--seed", "1", "--out", dir, "--teacher"])).rejects.toMatchObject({ code: "FM_ERR_ARGS_INVALID" });
    expect(existsSync(join(dir, "videos"))).toBe(false);
  });
});
