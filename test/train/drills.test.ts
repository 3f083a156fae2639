import { describe, expect, it } from "vitest";
import { drillExamples, drillIndices, drillTurns, readingContext, READING_FAMILIES } from "../../src/train/drills.js";
import { makeItem } from "../../datasets/synth/generate.js";
import { readTrajectories, recordExamples, vocabularyTexts, withEvidenceSeen } from "../../src/train/sft.js";
import { evidenceByTurn } from "../../src/policy/tiny/evidence.js";
import { Tokenizer } from "../../src/policy/tiny/tokenizer.js";
import { areaResize } from "../../datasets/synth/render.js";
import { CLOSE_RUNG, createCueTeacher } from "../../src/policy/tiny/teacher.js";
import { answer } from "../../src/agent/loop.js";
import { splitTurn } from "../../src/agent/protocol.js";
import { loadDataset, videoPath } from "../../datasets/io.js";
import { evidenceRecall } from "../../src/eval/evidence.js";
import type { DatasetItem } from "../../datasets/schema.js";
import { FIXTURE_SEED, synthFixture } from "../tiny/fixture.js";

/** The arguments of a teacher turn's one tool call (the protocol's own split, then its JSON). */
const callArgs = <A>(text: string): A => (JSON.parse(splitTurn(text).toolCalls[0]!) as { arguments: A }).arguments;

/** A vocabulary for drill items 0..5 of seed 5 (one of each family): their turns, questions and options. */
async function seed5Vocabulary(): Promise<Tokenizer> {
  const texts = (await Promise.all([0, 1, 2, 3, 4, 5].map((i) => drillTurns(5, i)))).flatMap((d) => d.turns.flatMap((t) => [t.text, t.input.question, ...(t.input.options ?? [])]));
  return Tokenizer.build(texts, { frameRefs: 32 });
}

describe("SFT drills (rendered in-process)", () => {
  it("reproduce the real loop's teacher turns, frame times and pixels (up to h264 noise) on encoded videos", { timeout: 600_000 }, async () => {
    const fx = await synthFixture();
    const recs = readTrajectories(fx.teacher);
    expect(recs.length).toBe(6);
    const seen: (boolean | null)[] = [];
    for (const [i, rec] of recs.entries()) {
      const index = Number(/-(\d{5})-/.exec(rec.item!.id)![1]);
      const { turns: drill, evidenceSeen } = await drillTurns(FIXTURE_SEED, index);
      seen.push(evidenceSeen);
      const real = await evidenceByTurn(rec);
      expect(drill.map((d) => d.text), rec.item!.id).toEqual(rec.turns.map((t) => t.text));
      drill.forEach((d, k) => {
        const a = d.input.evidence, b = real[k]!;
        expect(a.map((f) => f.timestamp)).toEqual(b.map((f) => f.timestamp));
        let diff = 0, n = 0;
        a.forEach((f, j) => f.rgb.forEach((v, q) => ((diff += Math.abs(v - b[j]!.rgb[q]!)), n++)));
        expect(diff / n, `${rec.item!.id} turn ${k} (${i})`).toBeLessThan(4);
      });
    }
    // data.requireEvidence keeps the same records on both sides.
    expect((await withEvidenceSeen(recs)).map((r) => r.id)).toEqual(recs.filter((_, i) => seen[i] !== false).map((r) => r.id));
    // The same examples as the recorded trajectories, token for token, once pixels are set aside.
    const tok = Tokenizer.build(vocabularyTexts(recs), { frameRefs: 32 });
    const fromDrill = await drillExamples({ n: 6, seed: FIXTURE_SEED }, tok, 448);
    const fromRecs = (await Promise.all(recs.map((r) => recordExamples(r, tok)))).flat();
    expect(fromDrill.map((e) => e.target)).toEqual(fromRecs.map((e) => e.target));
  });

  it("family weights choose fresh items of each family in proportion; equal weights keep 0..n-1", () => {
    expect(drillIndices(7)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(drillIndices(7, { count: 1 })).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const n of [0, 1, 5, 6, 13, 6000]) expect(drillIndices(n, { order: 1 })).toEqual(Array.from({ length: n }, (_, i) => i));
    const idx = drillIndices(80, { count: 3, order: 2, "small-code": 0 });
    expect(idx.length).toBe(80);
    expect(new Set(idx).size).toBe(80);
    const fam = (i: number) => String(makeItem(9, "train", i).item.meta?.family);
    const tally: Record<string, number> = {};
    for (const i of idx) tally[fam(i)] = (tally[fam(i)] ?? 0) + 1;
    // Weights 1, 3, 2, 0, 1, 1 over 8: 10, 30, 20, 0, 10, 10 items.
    expect(tally).toEqual({ "flash-digit": 10, count: 30, order: 20, change: 10, when: 10 });
    expect(drillIndices(5, { count: 1, order: 1, "flash-digit": 1, "small-code": 0, change: 0, when: 0 }).length).toBe(5);
    expect(() => drillIndices(5, { count: 0, order: 0, "flash-digit": 0, "small-code": 0, change: 0, when: 0 })).toThrow(/must not all be 0/);
  });

  it("uniform drills are one answered turn over the uniform frames", async () => {
    const [turn, ...rest] = (await drillTurns(5, 0, { uniform: { frames: 24, rung: "low" } })).turns;
    expect(rest).toEqual([]);
    expect(turn!.input.evidence).toHaveLength(24);
    expect(turn!.input.turn.mustAnswer).toBe(true);
    expect(turn!.text).toMatch(/<answer>/);
  });

  it("flawed drills spoil the look as the flawed teacher does, and keep the answer", async () => {
    const { turns: good, evidenceSeen } = await drillTurns(5, 0);
    const { turns: bad, evidenceSeen: badSeen } = await drillTurns(5, 0, { flaws: { wrongMoment: 1, lowRung: 0, skipLook: 0, seed: 1 } });
    // The spoiled look misses the flash; requireEvidence drops such drills.
    expect([evidenceSeen, badSeen]).toEqual([true, false]);
    expect(await drillExamples({ n: 1, seed: 5, flaws: { wrongMoment: 1, lowRung: 0, skipLook: 0, seed: 1 }, requireEvidence: true }, Tokenizer.build([]), 448)).toEqual([]);
    expect(bad[0]!.text).not.toBe(good[0]!.text);
    expect(bad[0]!.text).toMatch(/get_clip/);
    expect(bad.at(-1)!.text.match(/<answer>(.*)<\/answer>/)?.[1]).toBe(good.at(-1)!.text.match(/<answer>(.*)<\/answer>/)?.[1]);
  });

  it("skip-look drills answer in the first turn, unforced, with the item's answer", async () => {
    const { turns: good } = await drillTurns(5, 0);
    const { turns, evidenceSeen } = await drillTurns(5, 0, { flaws: { wrongMoment: 0, lowRung: 0, skipLook: 1, seed: 1 } });
    expect(turns).toHaveLength(1);
    expect(evidenceSeen).toBe(false);
    expect(turns[0]!.input.turn.mustAnswer).toBe(false);
    expect(turns[0]!.input.tools.length).toBeGreaterThan(0);
    expect(turns[0]!.text.match(/<answer>(.*)<\/answer>/)?.[1]).toBe(good.at(-1)!.text.match(/<answer>(.*)<\/answer>/)?.[1]);
  });

  it("answer-turn drills keep each item's last turns (its answer turn, or also the one before), never a reading view", async () => {
    const tok = await seed5Vocabulary();
    const answers = await drillExamples({ n: 6, seed: 5, reading: true, lastTurns: 1 }, tok, 448);
    // Each item's last turn is its answer turn, and it is the same example as in the whole drill.
    const answerTag = tok.encode("<answer>").ids[0]!;
    const whole = await drillExamples({ n: 6, seed: 5 }, tok, 448);
    expect(answers).toHaveLength(6);
    expect(answers.map((e) => e.target)).toEqual(whole.filter((e) => e.target.includes(answerTag)).map((e) => e.target));
    expect(answers.some((e) => e.reading)).toBe(false);
    // lastTurns 2: also the turn before the answer (the one that decided to look again).
    const perItem = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => (await drillTurns(5, i)).turns.length));
    let k = 0;
    const lastTwo = perItem.flatMap((n) => whole.slice((k += n) - Math.min(2, n), k));
    expect(perItem.some((n) => n >= 3)).toBe(true);
    expect((await drillExamples({ n: 6, seed: 5, lastTurns: 2 }, tok, 448)).map((e) => e.target)).toEqual(lastTwo.map((e) => e.target));
  });

  it("reading drills add, per item of a reading family, its question over only the frames holding the answer", async () => {
    const tok = await seed5Vocabulary();
    // Items 0..5 are one of each family; four are reading families.
    const plain = await drillExamples({ n: 6, seed: 5 }, tok, 448);
    const withReading = await drillExamples({ n: 6, seed: 5, reading: true }, tok, 448);
    const extra = withReading.filter((e) => !plain.some((p) => p.items === e.items || (p.items.length === e.items.length && p.target.join() === e.target.join())));
    expect(withReading.length - plain.length).toBe(READING_FAMILIES.length);
    expect(extra).toHaveLength(READING_FAMILIES.length);
    // The flash-digit item (index 0): one low-rung frame in the middle of the flash, answered by the teacher's answer turn.
    const { item, scene } = makeItem(5, "train", 0);
    const ctx = readingContext(item, scene);
    expect(ctx.frames).toHaveLength(1);
    const ev = item.evidence![0]!;
    expect(ctx.frames[0]!.timestamp).toBeGreaterThanOrEqual(ev.start);
    expect(ctx.frames[0]!.timestamp).toBeLessThanOrEqual(ev.end);
    expect(ctx.frames[0]!.rung).toBe("low");
    expect(ctx.mustAnswer).toBe(true);
    const { turns } = await drillTurns(5, 0);
    expect(tok.decode(extra[0]!.target.slice(0, -1))).toBe(turns.at(-1)!.text);
    // Change (index 4): before and after, at the rung the teacher reads small text at.
    const change = makeItem(5, "train", 4);
    expect(readingContext(change.item, change.scene).frames.map((f) => f.rung)).toEqual([CLOSE_RUNG, CLOSE_RUNG]);
    expect(CLOSE_RUNG).toBe("full");
    expect(readingContext(change.item, change.scene, { close: "high" }).frames.map((f) => f.rung)).toEqual(["high", "high"]);
  });

  it("order, when the clip's only next-colour frame (5.333 s) would come back red at the 0.1 s time a call names: answer from the clip, no zoom", async () => {
    const { item } = makeItem(101, "train", 494);
    expect(item.meta.family).toBe("order");
    const { turns } = await drillTurns(101, 494);
    expect(turns.map((t) => /"name":"(\w+)"/.exec(t.text)?.[1] ?? "answer")).toEqual(["get_clip", "answer"]);
  });

  it("count and flash-digit: a second clip over just the tinted segment when the first can miss the event", async () => {
    const calls = (t: { text: string }[]) => t.map((x) => /"name":"(\w+)"/.exec(x.text)?.[1] ?? "answer");
    const covers = (item: DatasetItem, frames: readonly { timestamp: number; width: number; height: number }[]) => evidenceRecall(frames, item.evidence);
    // Count (seed 5, item 1): the first clip, over the overview gaps, misses a flash; the second,
    // from the first to the last tinted clip frame, sees all three.
    const count = makeItem(5, "train", 1).item;
    expect(count.meta.family).toBe("count");
    const c = (await drillTurns(5, 1)).turns;
    expect(calls(c)).toEqual(["get_clip", "get_clip", "answer"]);
    expect([covers(count, c[1]!.input.evidence), covers(count, c[2]!.input.evidence)]).toEqual([false, true]);
    const second = callArgs<{ start: number; end: number }>(c[1]!.text);
    const cue = count.meta.cue as { start: number; end: number };
    expect(second.start).toBeGreaterThanOrEqual(cue.start - 0.1);
    expect(second.end).toBeLessThanOrEqual(cue.end);
    // Flash-digit looks again only when no clip frame showed the digit (item 18), not otherwise (item 0).
    const missed = (await drillTurns(5, 18)).turns, caught = (await drillTurns(5, 0)).turns;
    expect([calls(missed), calls(caught)]).toEqual([["get_clip", "get_clip", "answer"], ["get_clip", "answer"]]);
    expect(covers(makeItem(5, "train", 18).item, missed[2]!.input.evidence)).toBe(true);
  });

  it("count: the answer turn counts one flash at a time, each at the first frame of its run, pointing at frames in view", async () => {
    const tok = Tokenizer.build(["flash at s , The circle flashes times."], { frameRefs: 16 });
    let listed = 0;
    for (const index of [1, 7, 13, 19]) {
      const { item } = makeItem(5, "train", index);
      expect(item.meta.family).toBe("count");
      const { turns, evidenceSeen } = await drillTurns(5, index, { teacher: { countSteps: true } });
      const last = turns.at(-1)!;
      // Without the option, the answer turn names the count (the shipped model's recipes).
      expect((await drillTurns(5, index)).turns.at(-1)!.text).toBe(`<think>The circle flashes ${item.answer} times.</think>\n<answer>${item.answer}</answer>`);
      const view = last.input.evidence;
      const lit = view.map((f) => item.evidence!.some((e) => f.timestamp >= e.start - 1e-6 && f.timestamp <= e.end + 1e-6));
      const runs = lit.filter((on, i) => on && !lit[i - 1]).length;
      const steps = [...last.text.matchAll(/flash (\d+) at (\d+\.\d) s/g)];
      if (evidenceSeen && runs === Number(item.answer)) {
        listed++;
        expect(steps.map((m) => Number(m[1]))).toEqual(Array.from({ length: runs }, (_, k) => k + 1));
        // Every listed time is a frame in view, so it becomes that frame's reference.
        const ids = tok.encode(last.text, view.map((f) => f.timestamp)).ids;
        expect(ids.filter((id) => tok.isRef(id))).toHaveLength(runs);
      } else expect(steps).toEqual([]); // a list that would not add up is not taught
      expect(last.text).toContain(`The circle flashes ${item.answer} times.</think>`);
      expect(last.text).toContain(`<answer>${item.answer}</answer>`);
    }
    expect(listed).toBeGreaterThanOrEqual(3);
  });

  it("order: the teacher looks again at just the last red clip frame and the first of the next colour", async () => {
    const [seed, index] = [5, 2];
    const { item } = makeItem(seed, "train", index);
    expect(item.meta.family).toBe("order");
    const { turns, evidenceSeen } = await drillTurns(seed, index);
    expect(evidenceSeen).toBe(true);
    expect(turns.map((t) => /"name":"(\w+)"/.exec(t.text)?.[1] ?? "answer")).toEqual(["get_clip", "get_frames", "answer"]);
    const [red, next] = item.evidence!;
    const zoom = turns[2]!.input.evidence;
    expect(zoom.map((f) => f.rung)).toEqual(["low", "low"]);
    // The frames shown (at the times the call names) are red, then the next colour.
    expect(zoom[0]!.timestamp).toBeGreaterThanOrEqual(red!.start - 1e-6);
    expect(zoom[0]!.timestamp).toBeLessThanOrEqual(red!.end + 1e-6);
    expect(zoom[1]!.timestamp).toBeGreaterThanOrEqual(next!.start - 1e-6);
    expect(zoom[1]!.timestamp).toBeLessThanOrEqual(next!.end + 1e-6);
    // The zoomed times are frames of the clip in view, so the model points at them.
    const clipTimes = turns[1]!.input.evidence.map((f) => f.timestamp.toFixed(1));
    for (const t of callArgs<{ timestamps: number[] }>(turns[1]!.text).timestamps) expect(clipTimes).toContain(t.toFixed(1));
    expect(turns[2]!.text).toMatch(new RegExp(`<answer>${item.answer}</answer>`));
  });

  it("changeReads: change's answer turn reads both signs at both ends, and the sign that changed is the answer's", async () => {
    let read = 0;
    for (const index of [4, 10, 16, 22]) {
      const { item } = makeItem(5, "train", index);
      expect(item.meta.family).toBe("change");
      const { turns, evidenceSeen } = await drillTurns(5, index, { teacher: { changeReads: true } });
      const plain = await drillTurns(5, index);
      // Only the answer turn's think differs; the looks are the same.
      expect(turns.slice(0, -1).map((t) => t.text)).toEqual(plain.turns.slice(0, -1).map((t) => t.text));
      const m = /^<think>The left sign reads (\S) and (\S), the right sign reads (\S) and (\S), option ([A-D])\.<\/think>\n<answer>([A-D])<\/answer>$/.exec(turns.at(-1)!.text);
      expect(m, turns.at(-1)!.text).not.toBeNull();
      const [l0, l1, r0, r1, letter, answer] = m!.slice(1) as [string, string, string, string, string, string];
      expect([letter, answer]).toEqual([item.answer, item.answer]);
      if (!evidenceSeen) continue;
      read++;
      // The option answered is "<side> sign: <first> became <last>" of the sign whose reads differ.
      const option = item.options!.find((o) => o.startsWith(`${item.answer}. `))!;
      expect(option).toBe(l0 !== l1 ? `${item.answer}. left sign: ${l0} became ${l1}` : `${item.answer}. right sign: ${r0} became ${r1}`);
      expect(l0 === l1).not.toBe(r0 === r1);
    }
    expect(read).toBeGreaterThan(1);
  });

  it("orderFromClip: order answers from the clip, which holds both colours, with the zoom's answer", async () => {
    const [seed, index] = [5, 2];
    const zoomed = await drillTurns(seed, index);
    const { turns, evidenceSeen } = await drillTurns(seed, index, { teacher: { orderFromClip: true } });
    expect(evidenceSeen).toBe(true);
    expect(turns.map((t) => /"name":"(\w+)"/.exec(t.text)?.[1] ?? "answer")).toEqual(["get_clip", "answer"]);
    expect(turns[0]!.text).toBe(zoomed.turns[0]!.text);
    expect(turns[1]!.input.evidence.map((f) => f.timestamp)).toEqual(zoomed.turns[1]!.input.evidence.map((f) => f.timestamp));
    expect(turns[1]!.text).toBe(zoomed.turns[2]!.text);
    // Other families are taught as before.
    for (const i of [0, 1, 3]) expect((await drillTurns(seed, i, { teacher: { orderFromClip: true } })).turns.map((t) => t.text)).toEqual((await drillTurns(seed, i)).turns.map((t) => t.text));
  });

  it("zoomRegion: small-code zooms on the sign's eighth, then on the code inside that crop, and reads it there", async () => {
    for (const index of [3, 9, 15, 21]) {
      const { item, scene } = makeItem(5, "train", index);
      expect(item.meta.family).toBe("small-code");
      const { turns, evidenceSeen } = await drillTurns(5, index, { teacher: { zoomRegion: true } });
      expect(turns.map((t) => /"name":"(\w+)"/.exec(t.text)?.[1] ?? "answer")).toEqual(["get_clip", "get_frames", "get_frames", "answer"]);
      const regionOf = (k: number) => callArgs<{ region: number[] }>(turns[k]!.text).region;
      const [first, second] = [regionOf(1), regionOf(2)];
      // The first crop: half the picture each way, on the eighth grid, holding the code's box.
      expect(first[2]! - first[0]!).toBe(0.5);
      expect(first[3]! - first[1]!).toBe(0.5);
      for (const v of first) expect((v * 8) % 1).toBe(0);
      const box = item.evidence![0]!.region!;
      const holds = (r: number[]) => box[0]! >= r[0]! && box[1]! >= r[1]! && box[2]! <= r[2]! && box[3]! <= r[3]!;
      expect(holds(first) && holds(second)).toBe(true);
      // The second inside the first; each frame shows its crop, the second at 84x56 (3 x 2 patches).
      expect(second[0]! >= first[0]! && second[1]! >= first[1]! && second[2]! <= first[2]! && second[3]! <= first[3]!).toBe(true);
      expect(turns[2]!.input.evidence[0]!.region).toEqual(first);
      const read = turns[3]!.input.evidence[0]!;
      expect([read.region, read.width, read.height]).toEqual([second, 84, 56]);
      expect(evidenceSeen).toBe(true);
      expect(turns[3]!.text).toContain(`<answer>${item.answer}</answer>`);
      // The reading view is that same crop at the evidence's middle frame.
      expect(readingContext(item, scene, { zoomRegion: true }).frames.map((f) => [f.width, f.height, f.region !== undefined])).toEqual([[84, 56, true]]);
    }
    // Other families are taught as before.
    for (const i of [0, 1, 2, 4, 5]) expect((await drillTurns(5, i, { teacher: { zoomRegion: true } })).turns.map((t) => t.text)).toEqual((await drillTurns(5, i)).turns.map((t) => t.text));
  });

  it("changeZoom: change reads the left sign's last digit, answers when a left option became it, else reads the right sign's", async () => {
    const routes = new Set<string>();
    for (let index = 4; index < 4 + 6 * 12; index += 6) {
      const { item, scene } = makeItem(5, "train", index);
      expect(item.meta.family).toBe("change");
      const { turns } = await drillTurns(5, index, { teacher: { changeZoom: true } });
      const names = turns.map((t) => /"name":"(\w+)"/.exec(t.text)?.[1] ?? "answer");
      const option = item.options!.find((o) => o.startsWith(`${item.answer}. `))!;
      const side = option.includes("left sign") ? "left" : "right";
      // Two zooms on the left sign; two more on the right only when the answer is a right option.
      expect(names).toEqual(["get_clip", ...Array<string>(side === "left" ? 2 : 4).fill("get_frames"), "answer"]);
      routes.add(side);
      const calls = turns.slice(1, -1).map((t) => callArgs<{ timestamps: number[]; region: number[] }>(t.text));
      // One moment, after the change: every zoom asks for it, and the sign that changed shows its last digit then.
      const [changed, after] = [item.evidence!.at(-1)!, calls[0]!.timestamps[0]!];
      for (const c of calls) expect(c.timestamps).toEqual([after]);
      expect(after).toBeGreaterThanOrEqual(Math.floor(changed.start * 10) / 10);
      // Each read (the second zoom of a sign) lies inside that sign's first crop and shows 84x56 (3 x 2 patches).
      for (let k = 1; k < calls.length; k += 2) {
        const [first, read] = [calls[k - 1]!.region, calls[k]!.region];
        expect(read[0]! >= first[0]! && read[1]! >= first[1]! && read[2]! <= first[2]! && read[3]! <= first[3]!).toBe(true);
        expect([turns[k + 2]!.input.evidence[0]!.width, turns[k + 2]!.input.evidence[0]!.height]).toEqual([84, 56]);
      }
      // The left sign's crops are on the left half, the right sign's on the right.
      expect(calls.map((c) => (c.region[0]! + c.region[2]!) / 2 < 0.5)).toEqual(calls.map((_, k) => k < 2));
      // The answer names the sign it read last and that sign's digit, which its option became.
      const m = /^<think>The (left|right) sign reads (\S), option ([A-D])\.<\/think>\n<answer>([A-D])<\/answer>$/.exec(turns.at(-1)!.text);
      expect(m, turns.at(-1)!.text).not.toBeNull();
      expect(m!.slice(1)).toEqual([side, option.slice(-1), item.answer, item.answer]);
      // The reading view is the read of the sign that changed, after its change.
      const view = readingContext(item, scene, { changeZoom: true }).frames;
      expect(view.map((f) => [f.width, f.height])).toEqual([[84, 56]]);
      expect(view[0]!.timestamp).toBeGreaterThanOrEqual(changed.start - 1e-6);
    }
    expect([...routes].sort()).toEqual(["left", "right"]);
    // Other families are taught as before.
    for (const i of [0, 1, 2, 3, 5]) expect((await drillTurns(5, i, { teacher: { changeZoom: true } })).turns.map((t) => t.text)).toEqual((await drillTurns(5, i)).turns.map((t) => t.text));
  });

  it("changeMargin: change zooms that many clip frames before the last on the signs, never before the change, and still answers right", async () => {
    let kept = 0;
    for (let index = 4; index < 4 + 6 * 12; index += 6) {
      const { item } = makeItem(5, "train", index);
      const time = (turns: Awaited<ReturnType<typeof drillTurns>>["turns"]) => callArgs<{ timestamps: number[] }>(turns[1]!.text).timestamps[0]!;
      const last = (await drillTurns(5, index, { teacher: { changeZoom: true } })).turns;
      const { turns } = await drillTurns(5, index, { teacher: { changeZoom: true, changeMargin: 1 } });
      const [t, tLast] = [time(turns), time(last)];
      // One clip frame back unless that frame is before the change (then the last, as without it).
      const clip = turns[1]!.input.evidence.map((f) => Number(f.timestamp.toFixed(1)));
      const back = clip[clip.indexOf(tLast) - 1]!;
      expect(t).toBe(back >= item.evidence!.at(-1)!.start - 1e-6 ? back : tLast);
      if (t < tLast) kept++;
      expect(t).toBeGreaterThanOrEqual(item.evidence!.at(-1)!.start - 1e-6);
      // The think names the signs' span and the moment read; every zoom asks for it; the answer is right.
      expect(turns[1]!.text).toContain(`I read the left sign at ${t.toFixed(1)} s closely.`);
      expect(turns[1]!.text.split("</think>")[0]).toBe(last[1]!.text.split("</think>")[0]!.replace("I read the left sign closely.", `I read the left sign at ${t.toFixed(1)} s closely.`));
      expect(turns.at(-1)!.text).toContain(`<answer>${item.answer}</answer>`);
    }
    expect(kept).toBeGreaterThan(6);
  });

  it("changeCompare: after a sign's read the think copies its side's options' last digits, then answers or goes on as before", async () => {
    for (let index = 4; index < 4 + 6 * 8; index += 6) {
      const { item } = makeItem(5, "train", index);
      const plain = (await drillTurns(5, index, { teacher: { changeZoom: true } })).turns.map((t) => t.text);
      const turns = (await drillTurns(5, index, { teacher: { changeZoom: true, changeCompare: true } })).turns.map((t) => t.text);
      // The same route and calls; only the reads' thinks grow by the compared digits.
      expect(turns.map((t) => t.split("</think>")[1])).toEqual(plain.map((t) => t.split("</think>")[1]));
      let compared = 0;
      for (const k of turns.keys()) {
        const m = /The (left|right) sign reads (\S)\. The (left|right) sign became (\S) and (\S)[,.]/.exec(turns[k]!);
        if (!m) {
          expect(turns[k]).toBe(plain[k]);
          continue;
        }
        const [side, digit, again, a, b] = m.slice(1);
        expect(again).toBe(side);
        // The digits are the side's options' last ones, in the options' order.
        expect([a, b]).toEqual(item.options!.filter((o) => o.includes(`${side} sign`)).map((o) => o.slice(-1)));
        // It answers exactly when the digit read is one of them.
        expect(turns[k]!.includes("<answer>")).toBe([a, b].includes(digit));
        compared++;
      }
      // Every read is compared: once when the answer is a left option, twice otherwise.
      expect(compared).toBe(item.options!.find((o) => o.startsWith(`${item.answer}. `))!.includes("left sign") ? 1 : 2);
    }
  });

  it("readJitter: the read lands up to that many px off the code, the same for the teacher's call and the reading view, and still holds it", async () => {
    let moved = 0;
    for (const index of [3, 9, 15, 21, 27, 33]) {
      const { item, scene } = makeItem(5, "train", index);
      const exact = await drillTurns(5, index, { teacher: { zoomRegion: true } });
      const jittered = await drillTurns(5, index, { teacher: { zoomRegion: true, readJitter: 5 } });
      const readOf = (d: typeof exact) => d.turns[3]!.input.evidence[0]!.region!;
      const [a, b] = [readOf(exact), readOf(jittered)];
      // Same crop size (x: 90 px of a 224-px picture), moved by at most 5 px each way (plus rounding to 0.001).
      for (const k of [0, 1, 2, 3]) expect(Math.abs(b[k]! - a[k]!) * (k % 2 ? scene.height : scene.width)).toBeLessThanOrEqual(5 + 0.5);
      if (a.some((v, k) => v !== b[k])) moved++;
      expect(jittered.evidenceSeen).toBe(true);
      expect(jittered.turns[3]!.text).toBe(exact.turns[3]!.text);
      // The reading view is cut where the teacher's read is.
      expect(readingContext(item, scene, { zoomRegion: true, readJitter: 5 }).frames[0]!.region).toEqual(b);
      // The first zoom is not moved.
      expect(jittered.turns[1]!.text).toBe(exact.turns[1]!.text);
    }
    expect(moved).toBeGreaterThan(3);
    // Where the read is held inside the first crop (about 1 in 12 items), the reading view is too.
    for (let index = 39; index < 39 + 6 * 40; index += 6) {
      const { item, scene } = makeItem(5, "train", index);
      const read = (await drillTurns(5, index, { teacher: { zoomRegion: true, readJitter: 5 } })).turns[3]!.input.evidence[0]!.region;
      expect(readingContext(item, scene, { zoomRegion: true, readJitter: 5 }).frames[0]!.region, item.id).toEqual(read);
    }
  });

  it("zoomRegion drills reproduce the real loop's crops (real ffmpeg on the fixture's small-code video)", { timeout: 600_000 }, async () => {
    const fx = await synthFixture();
    const item = (await loadDataset(fx.dataset)).find((i) => i.meta.family === "small-code")!;
    const r = await answer({ video: videoPath(fx.dataset, item), question: item.question, policy: createCueTeacher(item, { zoomRegion: true }), settings: { ladder: "tiny" } });
    expect(r.answer).toBe(item.answer);
    const index = Number(/-(\d{5})-/.exec(item.id)![1]);
    const drill = await drillTurns(FIXTURE_SEED, index, { teacher: { zoomRegion: true } });
    expect(drill.turns.map((t) => t.text)).toEqual(r.record.turns.map((t) => t.text));
    const real = await evidenceByTurn(r.record);
    drill.turns.forEach((d, k) => {
      const a = d.input.evidence, b = real[k]!;
      expect(a.map((f) => [f.timestamp, f.width, f.height, f.region])).toEqual(b.map((f) => [f.timestamp, f.width, f.height, f.region]));
      let diff = 0, n = 0;
      a.forEach((f, j) => f.rgb.forEach((v, q) => ((diff += Math.abs(v - b[j]!.rgb[q]!)), n++)));
      expect(diff / n, `turn ${k}`).toBeLessThan(6);
    });
    // The crops show the evidence, so the loop's recall counts them.
    expect(evidenceRecall(r.record.framesSeen, item.evidence)).toBe(true);
    expect(drill.evidenceSeen).toBe(true);
  });

  it("area resize averages exact blocks and weighs fractional ones", () => {
    const src = Buffer.from([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]); // 4x1
    expect([...areaResize(src, 4, 1, 2, 1)]).toEqual([50, 50, 50, 228, 228, 228]);
    expect([...areaResize(src, 4, 1, 3, 1)].filter((_, i) => i % 3 === 0)).toEqual([25, 150, 241]) // (100 / 3) / (4 / 3), (200 / 3 + 255) / (4 / 3);
  });
});
