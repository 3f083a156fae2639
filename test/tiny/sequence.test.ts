import { describe, expect, it } from "vitest";
import { buildContext, makeBatch, type TurnContext } from "../../src/policy/tiny/sequence.js";
import { Tokenizer } from "../../src/policy/tiny/tokenizer.js";

const frame = (timestamp: number) => ({ timestamp, width: 56, height: 28, rgb: Buffer.alloc(56 * 28 * 3, 9) });
const ctx: TurnContext = { question: "Which digit was it?", history: [], mustAnswer: false, frames: [frame(1), frame(2.5)] };
const texts = ["Which digit was it?", "<think>The sign shows at 2.5 s.</think>\n<answer>7</answer>"];

describe("turn sequence", () => {
  it("with frame references: each frame is its reference token, which every patch of the frame also carries", () => {
    const tok = Tokenizer.build(texts, { frameRefs: 4 });
    const built = buildContext(ctx, tok);
    const markers = built.items.filter((it) => !("patch" in it) && (it.token === tok.ref(0) || it.token === tok.ref(1)));
    expect(markers.map((it) => it.token)).toEqual([tok.ref(0), tok.ref(1)]);
    expect(built.items.filter((it) => "patch" in it).map((it) => ("patch" in it ? it.token : -1))).toEqual([tok.ref(0), tok.ref(0), tok.ref(1), tok.ref(1)]);
    expect(built.frameTimes).toEqual([1, 2.5]);
    expect(tok.decode(tok.encode(texts[1]!, built.frameTimes).ids, built.frameTimes)).toBe(texts[1]);
  });

  it("without them: <frame> and the time in digits, patches without a token", () => {
    const tok = Tokenizer.build(texts);
    const built = buildContext(ctx, tok);
    expect(built.items.filter((it) => !("patch" in it) && it.token === tok.id("<frame>"))).toHaveLength(2);
    expect(built.items.every((it) => !("patch" in it) || it.token === undefined)).toBe(true);
  });

  it("each patch of a later frame points back at the same cell of the previous one (motion); a new grid starts afresh", () => {
    const tok = Tokenizer.build(texts, { frameRefs: 4 });
    const wide = { timestamp: 4, width: 84, height: 28, rgb: Buffer.alloc(84 * 28 * 3, 9) };
    const backs = buildContext({ ...ctx, frames: [frame(1), frame(2.5), wide] }, tok).items.flatMap((it) => ("patch" in it ? [it.back ?? 0] : []));
    expect(backs).toEqual([0, 0, 2, 2, 0, 0, 0]);
    const b = makeBatch([{ items: buildContext(ctx, tok).items, target: [tok.id("<eos>")] }], 448);
    expect(Array.from(b.patchPrev!)).toEqual([0, 1, 0, 1]);
  });

  it("an example's weight becomes the loss weight of its target tokens", () => {
    const tok = Tokenizer.build(texts, { frameRefs: 4 });
    const items = buildContext(ctx, tok).items;
    const target = [...tok.encode(texts[1]!, [1, 2.5]).ids, tok.id("<eos>")];
    const b = makeBatch([{ items, target }, { items, target, weight: 8 }], 448);
    const row = (r: number) => Array.from(b.lossMask.slice(r * b.seq, (r + 1) * b.seq)).filter((x) => x > 0);
    expect(row(0)).toEqual(target.map(() => 1));
    expect(row(1)).toEqual(target.map(() => 8));
  });
});
