import { describe, expect, it } from "vitest";
import { alreadySeen, bringsNewEvidence, callStats, covers, evidenceRecall, isRedundant } from "../../src/eval/evidence.js";

const low = (t: number) => ({ timestamp: t, width: 56, height: 56 });
const high = (t: number) => ({ timestamp: t, width: 112, height: 112 });
const iv = (start: number, end: number, min_pixels = 56 * 56) => ({ start, end, min_pixels });

describe("evidence definitions", () => {
  it("a frame covers an interval when inside it (ends included) with enough pixels", () => {
    expect(covers(low(5), iv(5, 6))).toBe(true);
    expect(covers(low(6), iv(5, 6))).toBe(true);
    expect(covers(low(6.01), iv(5, 6))).toBe(false);
    expect(covers(low(5.5), iv(5, 6, 112 * 112))).toBe(false);
    expect(covers(high(5.5), iv(5, 6, 112 * 112))).toBe(true);
  });
  it("a crop covers only an interval that says where, when it holds that box at enough pixels (scaled to the picture)", () => {
    const crop = (t: number, region = [0, 0, 0.5, 0.5]) => ({ ...high(t), region });
    expect(covers(crop(5.5), iv(5, 6))).toBe(false);
    const at = (region: number[], min_pixels = 56 * 56) => ({ ...iv(5, 6, min_pixels), region });
    expect(covers(crop(5.5), at([0.1, 0.1, 0.3, 0.2]))).toBe(true);
    expect(covers(crop(5.5), at([0.4, 0.1, 0.6, 0.2]))).toBe(false); // half outside the crop
    expect(covers(crop(6.5), at([0.1, 0.1, 0.3, 0.2]))).toBe(false); // not then
    // 112x112 of a quarter of the picture: as sharp as a 224x224 whole frame, not more.
    expect(covers(crop(5.5), at([0.1, 0.1, 0.3, 0.2], 224 * 224))).toBe(true);
    expect(covers(crop(5.5), at([0.1, 0.1, 0.3, 0.2], 224 * 224 + 1))).toBe(false);
    expect(covers(high(5.5), at([0.4, 0.1, 0.6, 0.2]))).toBe(true); // whole frames as before
  });
  it("a crop is seen again only as the same crop", () => {
    const crop = (t: number, region = [0, 0, 0.5, 0.5]) => ({ ...high(t), region });
    expect(alreadySeen(crop(1), [high(1)], 0.1)).toBe(false);
    expect(alreadySeen(high(1), [crop(1)], 0.1)).toBe(false);
    expect(alreadySeen(crop(1), [crop(1)], 0.1)).toBe(true);
    expect(alreadySeen(crop(1), [crop(1, [0.5, 0, 1, 0.5])], 0.1)).toBe(false);
  });
  it("evidence recall needs every interval; null without intervals", () => {
    expect(evidenceRecall([low(1), low(3)], [iv(0.5, 1.5), iv(2.5, 3.5)])).toBe(true);
    expect(evidenceRecall([low(1)], [iv(0.5, 1.5), iv(2.5, 3.5)])).toBe(false);
    expect(evidenceRecall([low(1)], [])).toBeNull();
    expect(evidenceRecall([low(1)], undefined)).toBeNull();
  });
  it("redundant: every frame already seen within half a frame period at the same or more pixels", () => {
    const period = 0.1;
    expect(alreadySeen(low(1.04), [low(1)], period)).toBe(true);
    expect(alreadySeen(low(1.06), [low(1)], period)).toBe(false);
    expect(alreadySeen(low(1), [high(1)], period)).toBe(true);
    expect(alreadySeen(high(1), [low(1)], period)).toBe(false);
    expect(isRedundant([low(1), low(2)], [high(1), low(2.02)], period)).toBe(true);
    expect(isRedundant([low(1), low(3)], [high(1)], period)).toBe(false);
    expect(isRedundant([], [low(1)], period)).toBe(false);
  });
  it("new evidence: covers an interval no earlier frame covered", () => {
    const ivs = [iv(2, 3, 112 * 112)];
    expect(bringsNewEvidence([low(2.5)], [], ivs)).toBe(false);
    expect(bringsNewEvidence([high(2.5)], [low(2.5)], ivs)).toBe(true);
    expect(bringsNewEvidence([high(2.6)], [high(2.5)], ivs)).toBe(false);
  });
  it("callStats counts calls after an overview", () => {
    const ivs = [iv(2, 3, 112 * 112)];
    const s = callStats([[low(0.5), low(2.5)], [high(2.5)], [high(2.5)], [low(7)]], false, 0.1, ivs);
    expect(s).toEqual({ calls: 3, redundant: 1, newEvidence: 1 });
    expect(callStats([[high(2.5)]], true, 0.1, ivs)).toEqual({ calls: 1, redundant: 0, newEvidence: 1 });
  });
});
