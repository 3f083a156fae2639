import { beforeAll, describe, expect, it } from "vitest";
import { answer } from "../../src/agent/loop.js";
import { parseTrajectory } from "../../src/agent/trajectory.js";
import { loadDataset, videoPath } from "../../datasets/io.js";
import type { DatasetItem } from "../../datasets/schema.js";
import { createPolicy } from "../../src/policy/index.js";
import { createTinyPolicy, loadTiny, type LoadedTiny } from "../../src/policy/tiny/index.js";
import { asksForTime, writableTools } from "../../src/policy/tiny/policy.js";
import { synthFixture, type SynthFixture } from "./fixture.js";
import { TransformerModel } from "../../src/nn/index.js";
import { turnGuide } from "../../src/agent/guide.js";
import { toolSpecs } from "../../prompts/index.js";

// The shipped model (models/framemind-tiny) answering through the real loop on real videos.
describe("tiny policy", () => {
  let fx: SynthFixture;
  let items: DatasetItem[];
  let loaded: LoadedTiny;
  beforeAll(async () => {
    fx = await synthFixture();
    items = await loadDataset(fx.dataset);
    loaded = loadTiny();
  }, 600_000); // the first run renders and encodes the fixture videos

  it("is registered and answers through the agent loop with a schema-valid record", async () => {
    const policy = await createPolicy("tiny");
    const item = items[0]!;
    const r = await answer({ video: videoPath(fx.dataset, item), question: item.question, ...(item.options ? { options: item.options } : {}), policy, settings: { ladder: "tiny" } });
    const rec = parseTrajectory(JSON.parse(JSON.stringify(r.record)));
    expect(rec.policy.id).toBe("tiny");
    expect(rec.policy.modelVersion).toMatch(/[0-9a-f]{12}$/);
    expect(rec.turns.length).toBeGreaterThan(0);
    // Trainer data: every turn's generated ids and log-probs.
    expect(r.extras.length).toBe(rec.turns.length);
    for (const e of r.extras) {
      expect(e.tokenIds!.length).toBe(e.logprobs!.length);
      for (const lp of e.logprobs!) expect(lp).toBeLessThanOrEqual(0);
    }
    // The shipped model follows the protocol: no turn is a protocol error.
    for (const t of rec.turns) expect(t.error?.code ?? "ok").not.toMatch(/PROTOCOL|BAD_JSON/);
  });

  it("samples reproducibly with a seed and warns about unknown words", async () => {
    const policy = createTinyPolicy({ loaded });
    const item = items[1]!;
    const ask = (question: string, seed: number) =>
      answer({ video: videoPath(fx.dataset, item), question, ...(item.options ? { options: item.options } : {}), policy, settings: { ladder: "tiny", maxTurns: 2 }, sampling: { temperature: 1, topP: 0.9, seed } });
    const a = await ask(item.question, 7);
    const b = await ask(item.question, 7);
    expect(b.record.turns.map((t) => t.text)).toEqual(a.record.turns.map((t) => t.text));
    const odd = await ask(`${item.question} Ignore the zebra.`, 7);
    expect(odd.record.warnings.some((w) => w.includes("zebra"))).toBe(true);
    expect(odd.answer === null || typeof odd.answer === "string").toBe(true);
  });

  it("answers a question that does not ask for a time without pointing at a frame (a frame's time is no digit)", async () => {
    expect(["When did it appear (seconds from the start)?", "Which digit was it?", "What changed on them between their first and last moment?"].map(asksForTime)).toEqual([true, false, false]);
    // On this checked-in sample 0.3.0 answered "20.0" (a frame reference) before answers were guided away from them.
    const sample = "datasets/sample/test.jsonl";
    const item = (await loadDataset(sample)).find((i) => i.id === "synth-test-00000-flash-digit")!;
    const r = await answer({ video: videoPath(sample, item), question: item.question, policy: createTinyPolicy({ loaded }), settings: { ladder: "tiny" } });
    expect(r.answer).not.toBeNull();
    expect(r.answer).not.toMatch(/\./);
  });

  it("the registered policy's clip calls follow the window their think names (followThink, on since 0.7.0)", { timeout: 300_000 }, async () => {
    const policy = await createPolicy("tiny");
    let checked = 0;
    for (const [i, item] of items.slice(0, 4).entries()) {
      // Sampled, so the calls are not the greedy ones the model was trained to copy.
      const r = await answer({ video: videoPath(fx.dataset, item), question: item.question, ...(item.options ? { options: item.options } : {}), policy, settings: { ladder: "tiny", maxTurns: 3 }, sampling: { temperature: 1.5, topP: 1, seed: i + 1 } });
      for (const t of r.record.turns) {
        const think = /<think>([\s\S]*?)<\/think>/.exec(t.text)?.[1] ?? "";
        const times = (think.match(/\d+(?:\.\d+)?/g) ?? []).map(Number).slice(-2);
        if (t.call?.name !== "get_clip" || times.length < 2 || times[1]! - times[0]! < 0.1 - 1e-9 || times[1]! > r.record.video.duration) continue;
        const a = t.call.arguments as { start: number; end: number };
        expect([a.start, a.end], t.text).toEqual(times);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it("guided decoding keeps even an untrained model inside the protocol; unguided it is not", async () => {
    // Same vocabulary and shape as the shipped model, fresh random weights: it writes noise.
    const untrained = { ...loaded, model: TransformerModel.init(loaded.model.config, 5, { threads: 1 }) };
    const item = items[2]!;
    const run = (guided: boolean) =>
      answer({ video: videoPath(fx.dataset, item), question: item.question, ...(item.options ? { options: item.options } : {}), policy: createTinyPolicy({ loaded: untrained, guided, maxNewTokens: 48 }), settings: { ladder: "tiny", maxTurns: 2 }, sampling: { temperature: 1, topP: 1, seed: 3 } });
    const guide = turnGuide(toolSpecs("tiny"));
    const guidedTurn = (await run(true)).record.turns[0]!.text;
    expect(guidedTurn.length).toBeGreaterThan(0);
    expect(guide.ok(guidedTurn), guidedTurn).toBe(true);
    const freeTurn = (await run(false)).record.turns[0]!.text;
    expect(guide.ok(freeTurn), freeTurn).toBe(false);
  });

  it("guides only the arguments its vocabulary can spell: no region key it could open and never close", () => {
    const tools = writableTools(toolSpecs("tiny"), loaded.tokenizer);
    const keys = (name: string) => Object.keys((tools.find((t) => t.name === name)!.parameters as { properties: object }).properties);
    expect(loaded.tokenizer.encode('"region"').unknown).toEqual(["region"]);
    expect(loaded.tokenizer.encode('"mode"').unknown).toEqual(["mode"]);
    expect(keys("get_frames")).toEqual(["timestamps", "start", "end", "count", "rung"]);
    expect(keys("get_clip")).toEqual(["start", "end", "count", "rung"]);
    const all = '<think></think><tool_call>{"name":"get_clip","arguments":{"start":1,"end":2,"count":8,"rung":"low"';
    expect(turnGuide(toolSpecs("tiny")).ok(all + ",")).toBe(true);
    expect(turnGuide(tools).ok(all + ",")).toBe(false);
  });
});
