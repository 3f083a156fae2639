import { describe, expect, it } from "vitest";
import { buildContext, makeBatch, turnExample, type TurnContext } from "../../src/policy/tiny/sequence.js";
import { pointInPicture, pointInView, zoomsAsCalled, zoomsAsWritten } from "../../src/policy/tiny/zoom.js";
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

  it("a zoom is written as its centre: the picture's fractions (0.001), or the crop in view's (0.01); read back as the crop it asks for", () => {
    const video = { width: 224, height: 224 };
    const zoom = (region: number[]) => formatTurn({ think: "I read the code closely.", call: { name: "get_frames", arguments: { timestamps: [2.5], rung: "full", region } } });
    // Whole frames in view: half the picture each way around the centre.
    expect(zoomsAsWritten(zoom([0.125, 0.5, 0.625, 1]))).toBe(zoom([0.375, 0.75]));
    expect(zoomsAsCalled(zoom([0.375, 0.75]), video)).toBe(zoom([0.125, 0.5, 0.625, 1]));
    expect(zoomsAsCalled(zoom([0.1, 0.9]), video)).toBe(zoom([0, 0.5, 0.5, 1])); // kept inside the picture
    // A crop in view: 90 x 62 source pixels around the centre, inside the crop.
    const view = [0.5, 0.5, 1, 1] as [number, number, number, number];
    const read = [0.567, 0.701, 0.969, 0.978];
    expect(zoomsAsWritten(zoom(read), view)).toBe(zoom([0.54, 0.68]));
    expect(zoomsAsCalled(zoom([0.54, 0.68]), video, view)).toBe(zoom([0.569, 0.702, 0.971, 0.978]));
    expect(zoomsAsCalled(zoom([0.99, 0.99]), video, view)).toBe(zoom([0.598, 0.723, 1, 1]));
    // Four corners (another policy's call) pass through for the parser to judge.
    expect(zoomsAsCalled(zoom(read), video, view)).toBe(zoom(read));
    // The training target is the written form, relative to the crop in view when there is one.
    const tok = Tokenizer.build([...texts, zoom(read)], { frameRefs: 4 });
    const crop = { ...frame(2.5), region: view };
    const built = buildContext({ ...ctx, frames: [crop] }, tok);
    expect(built.view).toEqual(view);
    expect(tok.decode(turnExample({ ...ctx, frames: [crop] }, zoom(read), tok).target, built.frameTimes)).toBe(zoom([0.54, 0.68]));
    expect(tok.decode(turnExample(ctx, zoom([0.125, 0.5, 0.625, 1]), tok).target, [1, 2.5])).toBe(zoom([0.375, 0.75]));
  });

  it("a point in a crop's fractions maps into the picture's and back; outside the crop it is clamped to its edge", () => {
    const view = [0.25, 0.5, 0.75, 1] as [number, number, number, number];
    expect(pointInPicture(view, [0, 0])).toEqual([0.25, 0.5]);
    expect(pointInPicture(view, [0.5, 0.5])).toEqual([0.5, 0.75]);
    pointInPicture(view, pointInView(view, [0.3, 0.6])).forEach((v, i) => expect(v).toBeCloseTo([0.3, 0.6][i]!, 12));
    expect(pointInView(view, [0, 0.25])).toEqual([0, 0]);
    expect(pointInView(view, [0.9, 0.75])).toEqual([1, 0.5]);
  });
});
