import { beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { answer, resolveSettings } from "../../src/agent/loop.js";
import { loadDataset, videoPath } from "../../datasets/io.js";
import type { DatasetItem } from "../../datasets/schema.js";
import { createPolicy } from "../../src/policy/index.js";
import { createTinyPolicy, defaultModelDir, EXPERTS_FILE, loadTiny, readExperts, routeOf } from "../../src/policy/tiny/index.js";
import type { Policy } from "../../src/policy/types.js";
import { FramemindError } from "../../src/errors.js";
import { synthFixture } from "./fixture.js";

/** A model folder holding the shipped main weights and the given experts.json text. */
function modelFolder(expertsJson?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "fm-experts-"));
  for (const f of ["model.safetensors", "config.json", "state.json", "vocab.json"]) copyFileSync(join(defaultModelDir(), f), join(dir, f));
  if (expertsJson !== undefined) writeFileSync(join(dir, EXPERTS_FILE), expertsJson);
  return dir;
}

describe("experts: weight sets chosen per question", () => {
  it("routes on whole words in any case, first expert first, and the main weights otherwise", () => {
    const experts = [
      { name: "small-text", words: ["code"] },
      { name: "other", words: ["sign", "code"] },
    ];
    expect(routeOf("A short code was printed on the small dark sign. What was the CODE?", experts)?.name).toBe("small-text");
    expect(routeOf("What changed on the signs?", experts)).toBeUndefined(); // "signs" is not "sign"
    expect(routeOf("Which digit was on the sign?", experts)?.name).toBe("other");
    expect(routeOf("Was it encoded?", experts)).toBeUndefined();
  });

  it("reads experts.json relative to its folder and rejects a bad one with a typed error", () => {
    expect(readExperts(modelFolder())).toEqual([]);
    const dir = modelFolder(JSON.stringify({ experts: [{ name: "small-text", checkpoint: "experts/small-text", words: ["code"] }] }));
    expect(readExperts(dir)).toEqual([{ name: "small-text", checkpoint: join(dir, "experts", "small-text"), words: ["code"] }]);
    for (const bad of ["{not json", JSON.stringify({ experts: [] }), JSON.stringify({ experts: [{ name: "Small Text", checkpoint: "x", words: ["code"] }] }), JSON.stringify({ experts: [{ name: "s", checkpoint: "x", words: ["two words"] }] }), JSON.stringify({ experts: [{ name: "s", checkpoint: "x", words: ["a"] }, { name: "s", checkpoint: "y", words: ["b"] }] })]) {
      const folder = modelFolder(bad);
      expect(() => readExperts(folder)).toThrow(FramemindError);
      try {
        readExperts(folder);
      } catch (e) {
        expect((e as FramemindError).code).toBe("FM_ERR_MODEL_INVALID");
      }
    }
  });

  it("train-framemind export --expert ships a checkpoint into the folder and names it in experts.json", async () => {
    const dir = modelFolder();
    const bin = resolve("dist/src/cli/train-framemind.js"); // npm test builds first
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((done) =>
        execFile(process.execPath, [bin, "export", ...args], { timeout: 60_000 }, (e, out, err) => done({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err })),
      );
    const twin = join(defaultModelDir(), "uniform");
    // A bad name is refused before anything is copied.
    const bad = await run(["--from", twin, "--to", dir, "--expert", "Small Text", "--words", "code"]);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.out)).toMatchObject({ error: { code: "FM_ERR_ARGS_INVALID" } });
    expect(existsSync(join(dir, "experts"))).toBe(false);
    expect((await run(["--from", twin, "--to", dir, "--expert", "small-text"])).code).toBe(2); // --words missing
    const ok = await run(["--from", twin, "--to", dir, "--expert", "small-text", "--words", "code,text"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ to: join(dir, "experts", "small-text"), experts: ["small-text"] });
    expect(JSON.parse(readFileSync(join(dir, EXPERTS_FILE), "utf8"))).toEqual({ experts: [{ name: "small-text", checkpoint: "experts/small-text", words: ["code", "text"] }] });
    expect(existsSync(join(dir, "experts", "small-text", "optimizer.safetensors"))).toBe(false);
    // A second expert is added after the first; the same name again replaces its entry in place (the order is the routing priority).
    await run(["--from", twin, "--to", dir, "--expert", "count", "--words", "many"]);
    expect((await run(["--from", twin, "--to", dir, "--expert", "small-text", "--words", "code"])).code).toBe(0);
    expect(readExperts(dir).map((e) => [e.name, e.words.join()])).toEqual([["small-text", "code"], ["count", "many"]]);
    await expect(createPolicy("tiny", { options: { checkpoint: dir } })).resolves.toMatchObject({ settings: { experts: "small-text<-code, count<-many" } });
    // An expert with a longer route carries its turn limit; a bad one is refused.
    expect((await run(["--from", twin, "--to", dir, "--expert", "change", "--words", "changed", "--max-turns", "six"])).code).toBe(2);
    expect((await run(["--from", twin, "--to", dir, "--max-turns", "6"])).code).toBe(2); // not an expert
    expect((await run(["--from", twin, "--to", dir, "--expert", "change", "--words", "changed", "--max-turns", "6"])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, EXPERTS_FILE), "utf8")).experts[2]).toEqual({ name: "change", checkpoint: "experts/change", words: ["changed"], maxTurns: 6 });
    await expect(createPolicy("tiny", { options: { checkpoint: dir } })).resolves.toMatchObject({ settings: { experts: "small-text<-code, count<-many, change<-changed (6 turns)" } });
  }, 120_000);

  it("an expert's turn limit is the default for the questions it takes; a caller's limit wins", async () => {
    const twin = join(defaultModelDir(), "uniform");
    const dir = modelFolder(JSON.stringify({ experts: [{ name: "change", checkpoint: twin, words: ["changed"], maxTurns: 6 }] }));
    const routed = await createPolicy("tiny", { options: { checkpoint: dir } });
    const changed = "What changed on the signs?";
    expect(routed.turnsFor?.(changed)).toBe(6);
    expect(resolveSettings({ ladder: "tiny" }, routed, changed).maxTurns).toBe(6);
    expect(resolveSettings({ ladder: "tiny" }, routed, "How many times did it flash?").maxTurns).toBe(4);
    expect(resolveSettings({ ladder: "tiny", maxTurns: 3 }, routed, changed).maxTurns).toBe(3);
  });

  it("a missing expert checkpoint fails when the policy is made, not in the middle of a question", async () => {
    const dir = modelFolder(JSON.stringify({ experts: [{ name: "gone", checkpoint: "experts/gone", words: ["code"] }] }));
    await expect(createPolicy("tiny", { options: { checkpoint: dir } })).rejects.toMatchObject({ code: "FM_ERR_MODEL_NOT_FOUND" });
  });

  describe("through the agent loop on real videos", () => {
    let items: DatasetItem[];
    let dataset: string;
    beforeAll(async () => {
      dataset = (await synthFixture()).dataset;
      items = await loadDataset(dataset);
    }, 600_000);

    it("answers each question with the weights it routes to, and names every weight set in the record", async () => {
      // The uniform twin's weights stand in for an expert: a real, different weight set.
      const twin = join(defaultModelDir(), "uniform");
      const dir = modelFolder(JSON.stringify({ experts: [{ name: "twin", checkpoint: twin, words: ["code"] }] }));
      const routed = await createPolicy("tiny", { options: { checkpoint: dir } });
      const main = createTinyPolicy({ loaded: loadTiny(dir), followThink: true });
      const expert = createTinyPolicy({ loaded: loadTiny(twin), followThink: true });
      expect(routed.modelVersion).toBe(`${main.modelVersion};twin=${expert.modelVersion}`);
      expect(routed.settings).toMatchObject({ experts: "twin<-code" });
      const run = (item: DatasetItem, policy: Policy) =>
        answer({ video: videoPath(dataset, item), question: item.question, ...(item.options ? { options: item.options } : {}), policy, settings: { ladder: "tiny", maxTurns: 3 } });
      const code = items.find((i) => i.meta?.family === "small-code")!;
      const other = items.find((i) => i.meta?.family === "count")!;
      const texts = async (item: DatasetItem, policy: Policy) => (await run(item, policy)).record.turns.map((t) => t.text);
      const routedCode = await run(code, routed);
      expect(routedCode.record.policy.modelVersion).toBe(routed.modelVersion);
      expect(routedCode.record.turns.map((t) => t.text)).toEqual(await texts(code, expert));
      expect(routedCode.record.turns.map((t) => t.model)).toEqual(routedCode.record.turns.map(() => `twin=${expert.modelVersion}`));
      expect(await texts(other, routed)).toEqual(await texts(other, main));
      // The two weight sets write different turns on at least one of these questions, so the checks above can fail.
      const differ = (await texts(code, main)).join() !== (await texts(code, expert)).join() || (await texts(other, main)).join() !== (await texts(other, expert)).join();
      expect(differ).toBe(true);
    }, 300_000);
  });
});
