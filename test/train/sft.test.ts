import { cpSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig, resolveConfig, SftConfigSchema } from "../../src/train/config.js";
import { trainSft } from "../../src/train/sft.js";
import type { MetricRow } from "../../src/train/run.js";
import { loadTiny, saveTiny } from "../../src/policy/tiny/index.js";
import { SPACE, Tokenizer } from "../../src/policy/tiny/tokenizer.js";
import { TransformerModel } from "../../src/nn/index.js";
import { synthFixture, type SynthFixture } from "../tiny/fixture.js";

const metrics = (dir: string): MetricRow[] =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as MetricRow);
const trainRows = (dir: string) => metrics(dir).filter((r) => r.kind === "train").map((r) => ({ step: r.step, loss: r.loss, gradNorm: r.gradNorm, lr: r.lr }));

describe("sft", () => {
  let fx: SynthFixture;
  const out = join(process.cwd(), "test-output", "sft-run");
  beforeAll(async () => {
    fx = await synthFixture();
    rmSync(out, { recursive: true, force: true });
    rmSync(`${out}-resumed`, { recursive: true, force: true });
  }, 600_000); // the first run renders and encodes the fixture videos

  const config = (dir: string) =>
    parseConfig(SftConfigSchema, {
      seed: 3,
      model: { dModel: 32, nLayers: 1, nHeads: 2, dFF: 64, maxSeq: 384 },
      optim: { lr: 3e-3, warmupSteps: 5 },
      data: { train: fx.teacher, val: fx.teacher, frameCache: join(fx.dir, "cache") },
      run: { out: dir, steps: 40, batchSize: 4, logEvery: 5, checkpointEvery: 20, evalEvery: 20, threads: 1 },
    });

  it("trains on teacher trajectories: loss goes down, run folder complete, checkpoint loads", async () => {
    const r = await trainSft(config(out), { quiet: true });
    expect(r.steps).toBe(40);
    const rows = trainRows(out);
    expect(rows.length).toBe(8);
    expect(rows[rows.length - 1]!.loss!).toBeLessThan(rows[0]!.loss! * 0.7);
    for (const f of ["config.json", "metrics.jsonl", "plot.svg", "best/model.safetensors", "final/vocab.json"]) expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, "plot.svg"), "utf8")).toContain("train.loss");
    const loaded = loadTiny(r.final);
    expect(loaded.model.config.dModel).toBe(32);
  });

  it("resumes from a checkpoint and reproduces the remaining steps exactly", async () => {
    // A copy of the finished run, cut back to its step-20 checkpoint, as if killed after step 20.
    const cut = `${out}-resumed`;
    cpSync(out, cut, { recursive: true });
    for (const d of ["checkpoints/step-000040", "final", "best"]) rmSync(join(cut, d), { recursive: true, force: true });
    const r = await trainSft({ ...config(cut) }, { resume: true, quiet: true });
    expect(r.steps).toBe(40);
    expect(trainRows(cut)).toEqual(trainRows(out));
  });

  it("init fine-tunes a model folder: its shape, weights and vocabulary, fresh optimizer", async () => {
    const dir = `${out}-init`;
    for (const d of [dir, `${dir}-drills`, `${dir}-missing`, `${dir}-grow`, `${dir}-grow2`, `${dir}-gone`, `${dir}-old`, `${dir}-vocab`]) rmSync(d, { recursive: true, force: true });
    const c = config(dir);
    // The config's model shape is ignored: the init folder's wins.
    await trainSft({ ...c, init: join(out, "final"), model: { ...c.model, dModel: 64 }, run: { ...c.run, steps: 5, evalEvery: 1000 } }, { quiet: true });
    const rows = metrics(dir);
    const init = rows.find((r) => r.kind === "init")!;
    expect([init.unknownCount, init.vocab]).toEqual([0, loadTiny(join(out, "final")).tokenizer.size]);
    expect(loadTiny(join(dir, "final")).model.config.dModel).toBe(32);
    // The run records the shape it trained, not the ignored one.
    expect((JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { model: { dModel: number } }).model.dModel).toBe(32);
    // It starts where the finished run ended, not from fresh weights.
    const first = (d: string) => metrics(d).find((r) => r.kind === "train")!.loss!;
    expect(first(dir)).toBeLessThan(first(out) * 0.7);
    await expect(trainSft({ ...c, init: join(out, "nope"), run: { ...c.run, out: `${dir}-missing` } }, { quiet: true })).rejects.toThrow(/no embedded model at/);
    expect(existsSync(`${dir}-missing`)).toBe(false); // refused before the run folder exists
    // An init run resumes from its checkpoint (config.json matches: the shape is the init's either way).
    await trainSft({ ...c, init: join(out, "final"), model: { ...c.model, dModel: 64 }, run: { ...c.run, steps: 6, evalEvery: 1000 } }, { resume: true, quiet: true });
    expect(metrics(dir).filter((r) => r.kind === "train").at(-1)!.step).toBe(6);
    // Drills only (no trajectory file): the init model's vocabulary covers them.
    await trainSft({ ...c, init: join(out, "final"), data: { ...c.data, train: "", val: "", drills: { ...c.data.drills, n: 2, seed: 5 } }, run: { ...c.run, out: `${dir}-drills`, steps: 2, evalEvery: 1000 } }, { quiet: true });
    expect(metrics(`${dir}-drills`).find((r) => r.kind === "drills")!.items).toBe(2);
    // An init model from before a base piece existed ("region") gets it appended, every old id kept.
    const fin = loadTiny(join(out, "final"));
    const d = fin.model.config.dModel;
    const keep = fin.tokenizer.vocab.map((p, i) => [p, i] as const).filter(([p]) => p.replace(SPACE, "") !== "region");
    const table = new Float32Array(keep.length * d);
    keep.forEach(([, i], k) => table.set(fin.model.params["tok_emb"]!.subarray(i * d, (i + 1) * d), k * d));
    const before = new TransformerModel({ ...fin.model.config, vocabSize: keep.length }, { ...fin.model.params, tok_emb: table });
    saveTiny(`${dir}-old`, before, new Tokenizer(keep.map(([p]) => p)));
    await trainSft({ ...c, init: `${dir}-old`, run: { ...c.run, out: `${dir}-vocab`, steps: 1, evalEvery: 1000 } }, { quiet: true });
    expect(metrics(`${dir}-vocab`).find((r) => r.kind === "init")!.vocabAdded).toBe(`region ${SPACE}region`);
    const widened = loadTiny(join(`${dir}-vocab`, "final")).tokenizer;
    expect([widened.size, widened.vocab.slice(0, keep.length), widened.encode('"region"').unknown]).toEqual([keep.length + 2, keep.map(([p]) => p), []]);
    // growLayers + addMotion: one more block and motion features, starting from the init model's exact outputs.
    await trainSft({ ...c, init: join(out, "final"), growLayers: 1, addMotion: true, run: { ...c.run, out: `${dir}-grow`, steps: 3, evalEvery: 1000 } }, { quiet: true });
    const grown = metrics(`${dir}-grow`);
    const shipped = loadTiny(join(`${dir}-grow`, "final")).model;
    expect([grown.find((r) => r.kind === "init")!.grownTo, shipped.config.nLayers]).toEqual([c.model.nLayers + 1, c.model.nLayers + 1]);
    expect([grown.find((r) => r.kind === "init")!.motion, shipped.config.patchMotion, shipped.params["motion.w"]!.some((x) => x !== 0)]).toEqual([1, true, true]);
    expect(() => parseConfig(SftConfigSchema, { data: { train: "x" }, addMotion: true })).toThrow(/addMotion.*set `init`/s);
    expect(grown.find((r) => r.kind === "train")!.loss!).toBeLessThan(first(out) * 0.7);
    expect(() => parseConfig(SftConfigSchema, { data: { train: "x" }, growLayers: 1 })).toThrow(/growLayers.*set `init`/s);
    // addStem: a conv stem beside the patch projection, its projection trained from zero at 10x the lr.
    const stemmed = `${dir}-stem`;
    rmSync(stemmed, { recursive: true, force: true });
    await trainSft({ ...c, init: join(out, "final"), addStem: { channels: 4, cell: 6, stride: 2, pool: 3 }, optim: { ...c.optim, lrScale: { "stem.": 10 } }, run: { ...c.run, out: stemmed, steps: 2, evalEvery: 1000 } }, { quiet: true });
    const st = loadTiny(join(stemmed, "final")).model;
    expect([st.config.stemChannels, st.config.stemBeside, st.params["stem.proj"]!.some((x) => x !== 0)]).toEqual([4, true, true]);
    expect(() => parseConfig(SftConfigSchema, { data: { train: "x" }, addStem: { channels: 4, cell: 4, stride: 2 } })).toThrow(/addStem.*set `init`/s);
    await expect(trainSft({ ...c, init: join(out, "final"), optim: { ...c.optim, lrScale: { "stme.": 10 } }, run: { ...c.run, out: `${stemmed}-typo`, steps: 1, evalEvery: 1000 } }, { quiet: true })).rejects.toThrow(/no parameter starts with 'stme\.'/);
    rmSync(`${stemmed}-typo`, { recursive: true, force: true });
    // Resuming needs the run folder only: its config.json holds the (grown) shape, its checkpoint the weights.
    const gone = `${dir}-gone`;
    cpSync(join(out, "final"), gone, { recursive: true });
    const g = { ...c, init: gone, growLayers: 1, run: { ...c.run, out: `${dir}-grow2`, steps: 2, evalEvery: 1000 } };
    await trainSft(g, { quiet: true });
    rmSync(gone, { recursive: true, force: true });
    await trainSft({ ...g, run: { ...g.run, steps: 3 } }, { resume: true, quiet: true });
    expect(metrics(`${dir}-grow2`).filter((r) => r.kind === "train").at(-1)!.step).toBe(3);
    expect(() => parseConfig(SftConfigSchema, { data: { train: "" } })).toThrow(/data\.train.*fresh model builds its vocabulary/s);
    expect(() => parseConfig(SftConfigSchema, { data: { requireEvidence: true, drills: { n: 10, wrongMoment: 0.5 } } })).toThrow(/data\.requireEvidence.*would drop exactly the drills/s);
  });

  it("skipFamilies leaves those trajectories out; readingWarmup trains on reading views first, and needs them", async () => {
    const dir = `${out}-warmup`;
    for (const d of [dir, `${dir}-none`]) rmSync(d, { recursive: true, force: true });
    const c = config(dir);
    const answerTurns = { n: 3, seed: 6, lastTurns: 1, families: { count: 1, "flash-digit": 0, order: 0, "small-code": 0, change: 0, when: 0 } };
    const cfg = { ...c, data: { ...c.data, val: "", skipFamilies: ["change"], drills: { ...c.data.drills, n: 6, seed: 5, reading: true, readingWarmup: 5, answerTurns } }, run: { ...c.run, steps: 10, evalEvery: 1000 } };
    await trainSft(cfg, { quiet: true });
    const rows = metrics(dir);
    const skipped = rows.find((r) => r.kind === "data-filter" && r.rule === "skipFamilies")!;
    expect([skipped.kept, skipped.dropped, skipped["kept.change"]]).toEqual([5, 1, "0/1"]);
    // The skipped family's words stay in the vocabulary: its drills still use them.
    expect(loadTiny(join(dir, "final")).tokenizer.encode("What changed on them? left sign: 3 became 7").unknown).toEqual([]);
    expect(rows.find((r) => r.kind === "drills")!.readingViews).toBe(4);
    // Answer-turn drills: one example per count item (its answer turn), no reading view.
    expect(rows.find((r) => r.kind === "answer-turns")).toMatchObject({ items: 3, seed: 6, lastTurns: 1, examples: 3, readingViews: 0, reading: 0, countSteps: 0, orderFromClip: 0, changeReads: 0 });
    // Steps 1-5 drew reading views only (short: one or two frames), steps 6-10 the whole mix.
    expect(rows.filter((r) => r.kind === "train").map((r) => r.readingSteps ?? 0)).toEqual([5, 0]);
    await expect(trainSft({ ...cfg, data: { ...cfg.data, drills: { ...cfg.data.drills, reading: false } }, run: { ...cfg.run, out: `${dir}-none` } }, { quiet: true })).rejects.toThrow(/readingWarmup needs reading views/);
  });

  it("validates configs naming the bad values, and flags override the file", () => {
    const none = Object.fromEntries(["flash-digit", "count", "order", "small-code", "change", "when"].map((f) => [f, 0]));
    expect(() => parseConfig(SftConfigSchema, { data: { drills: { n: 10, families: none } } })).toThrow(/data\.drills\.families.*at least one family/s);
    expect(() => parseConfig(SftConfigSchema, { data: { drills: { n: 10, families: { count: -1 } } } })).toThrow(/data\.drills\.families/);
    expect(() => parseConfig(SftConfigSchema, { data: { drills: { n: 10, families: { counting: 2 } } } })).toThrow(/data\.drills\.families/);
    expect(() => parseConfig(SftConfigSchema, { data: { drills: { n: 10, seed: 7, answerTurns: { n: 5, seed: 7 } } } })).toThrow(/data\.drills\.answerTurns\.seed.*repeat the drills' items/s);
    expect(() => parseConfig(SftConfigSchema, { data: { drills: { answerTurns: { n: 5, families: none } } } })).toThrow(/data\.drills\.answerTurns\.families.*at least one family/s);
    expect(() => parseConfig(SftConfigSchema, { optim: { lr: -1 }, run: { steps: 0 } })).toThrow(/optim\.lr.*got -1.*run\.steps.*got 0/s);
    expect(() => parseConfig(SftConfigSchema, { model: { dModel: 30, nHeads: 4 } })).toThrow(/not divisible/);
    expect(() => parseConfig(SftConfigSchema, { optim: { lrr: 1 } })).toThrow(/lrr/);
    const c = resolveConfig(SftConfigSchema, undefined, { lr: "0.01", "run.batchSize": "4", data: "x.jsonl" });
    expect([c.optim.lr, c.run.batchSize, c.data.train, c.model.dModel]).toEqual([0.01, 4, "x.jsonl", 128]);
  });
});
