import { describe, expect, it } from "vitest";
import { buildContext, makeBatch, regionsInPicture, regionsInView, turnExample, type TurnContext } from "../../src/policy/tiny/sequence.js";
import { formatTurn } from "../../src/agent/protocol.js";
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

  it("a zoom made inside a crop is written in the crop's fractions (0.01) and read back in the picture's (0.001)", () => {
    const view = [0.5, 0.5, 1, 1] as [number, number, number, number];
    const zoom = (region: number[]) => formatTurn({ think: "I read the code closely.", call: { name: "get_frames", arguments: { timestamps: [2.5], rung: "full", region } } });
    const absolute = zoom([0.567, 0.701, 0.969, 0.978]);
    expect(regionsInView(absolute, view)).toBe(zoom([0.13, 0.4, 0.94, 0.96]));
    expect(regionsInPicture(zoom([0.13, 0.4, 0.94, 0.96]), view)).toBe(zoom([0.565, 0.7, 0.97, 0.98]));
    expect(regionsInView(absolute, undefined)).toBe(absolute);
    // The training target is the relative text; without a crop in view the call is taught as written.
    const tok = Tokenizer.build([...texts, absolute], { frameRefs: 4 });
    const crop = { ...frame(2.5), region: view };
    const built = buildContext({ ...ctx, frames: [crop] }, tok);
    expect(built.view).toEqual(view);
    expect(tok.decode(turnExample({ ...ctx, frames: [crop] }, absolute, tok).target, built.frameTimes)).toBe(zoom([0.13, 0.4, 0.94, 0.96]));
    expect(tok.decode(turnExample(ctx, absolute, tok).target, [1, 2.5])).toBe(absolute);
  });
});
