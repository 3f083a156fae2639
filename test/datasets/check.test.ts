import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset, readDataset } from "../../datasets/io.js";
import { command as dataCommand } from "../../src/cli/commands/data.js";
import { tmpDir } from "../helpers/videos.js";

const good = { id: "q1", video: "v.mp4", question: "Which colour?", options: ["A. red", "B. blue"], answer: "B", answer_type: "option", evidence: [{ start: 1, end: 2, min_pixels: 3136 }], meta: {} };

function dataset(): string {
  const dir = tmpDir("fm-check-");
  writeFileSync(join(dir, "v.mp4"), "");
  const lines = [
    JSON.stringify(good), // 1 ok
    "{not json", // 2
    JSON.stringify({ ...good, id: "q3", answer: "red" }), // 3 option answer not a letter
    "", // 4 blank: ignored
    JSON.stringify({ ...good, id: "q1" }), // 5 duplicate id
    JSON.stringify({ ...good, id: "q6", answer: "E" }), // 6 letter without option
    JSON.stringify({ ...good, id: "q7", video: "missing.mp4" }), // 7 no such video
    JSON.stringify({ ...good, id: "q8", evidence: [{ start: 3, end: 2, min_pixels: 10 }] }), // 8 end before start
    JSON.stringify({ id: "q9", video: "v.mp4", question: "When?", answer: "soon", answer_type: "time" }), // 9 time not a number
    JSON.stringify({ id: "q10", video: "v.mp4", question: "Code?", answer: "K7A", answer_type: "text" }), // 10 ok (meta defaults)
  ];
  const file = join(dir, "d.jsonl");
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

describe("dataset check", () => {
  it("reports every bad line with its number and keeps going", async () => {
    const d = await readDataset(dataset());
    expect(d.items.map((x) => x.line)).toEqual([1, 10]);
    expect(d.errors.map((e) => e.line)).toEqual([2, 3, 5, 6, 7, 8, 9]);
    const msg = Object.fromEntries(d.errors.map((e) => [e.line, e.message]));
    expect(msg[2]).toMatch(/not JSON/);
    expect(msg[3]).toMatch(/single-letter answer/);
    expect(msg[5]).toMatch(/duplicate id 'q1' \(first on line 1\)/);
    expect(msg[6]).toMatch(/names no option/);
    expect(msg[7]).toMatch(/video not found/);
    expect(msg[8]).toMatch(/end before start/);
    expect(msg[9]).toMatch(/must be numbers/);
  });

  it("`framemind data check` prints the errors and exits 2; loadDataset refuses the file", async () => {
    const file = dataset();
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await dataCommand.run(["check", file]);
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(2);
    const body = JSON.parse(out.join(""));
    expect(body.error.code).toBe("FM_ERR_DATA_INVALID");
    expect(body.errors).toHaveLength(7);
    expect(body).toMatchObject({ lines: 9, valid: 2, invalid: 7 });
    await expect(loadDataset(file)).rejects.toMatchObject({ code: "FM_ERR_DATA_INVALID" });
    await expect(readDataset(file + ".nope")).rejects.toMatchObject({ code: "FM_ERR_DATA_NOT_FOUND" });
  });
});
