import { describe, expect, it } from "vitest";
import { clipTokens, findRung, LADDERS, roundHalfEven, smartResize, targetSize, tokensFor } from "../../src/video/index.js";

describe("smart_resize (Qwen2.5-VL reference values)", () => {
  it.each([
    // h, w, min, max -> H, W
    [720, 1280, 100352, 602112, 560, 1008],
    [720, 1280, 3136, 100352, 224, 420],
    [98, 98, 3136, 12845056, 112, 112],
    [42, 70, 3136, 12845056, 56, 56],
  ])("%ix%i in [%i, %i] -> %ix%i", (h, w, min, max, H, W) => {
    expect(smartResize(h, w, min, max)).toEqual({ height: H, width: W });
  });

  it("720x1280 at max 602112 costs 720 tokens", () => {
    expect(tokensFor({ height: 560, width: 1008 })).toBe(720);
  });

  it("rounds half to even like Python", () => {
    expect([0.5, 1.5, 2.5, 3.5, -0.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 4, 0, 2, 3]);
    // 42/28 = 1.5 -> 2 (even), 70/28 = 2.5 -> 2 (even): both sides 56
    expect(smartResize(42, 70, 28 * 28, 1e9)).toEqual({ height: 56, width: 56 });
  });

  it("rejects impossible inputs with a typed error", () => {
    expect(() => smartResize(0, 10, 1, 2)).toThrow(expect.objectContaining({ code: "FM_ERR_ARGS_INVALID" }));
    expect(() => smartResize(10, 10, 100, 50)).toThrow(expect.objectContaining({ code: "FM_ERR_ARGS_INVALID" }));
    expect(() => smartResize(1, 1000, 1, 1e9)).toThrow(expect.objectContaining({ code: "FM_ERR_ARGS_INVALID" }));
  });
});

describe("ladders and rungs", () => {
  const big = { width: 1920, height: 1080 };
  it.each([
    ["qwen", "low", 128],
    ["qwen", "mid", 384],
    ["qwen", "high", 768],
    ["tiny", "low", 4],
    ["tiny", "high", 16],
    ["tiny", "full", 64],
  ] as const)("%s/%s stays within %i tokens per frame, sides multiples of 28", (ladder, rung, maxTokens) => {
    const s = targetSize(big, { ladder, rung });
    expect(s.width % 28).toBe(0);
    expect(s.height % 28).toBe(0);
    expect(tokensFor(s)).toBeLessThanOrEqual(maxTokens);
    expect(tokensFor(s)).toBeGreaterThanOrEqual(maxTokens / 2);
  });

  it("rungs grow monotonically on a large source", () => {
    for (const ladder of Object.values(LADDERS)) {
      const tokens = ladder.rungs.map((r) => tokensFor(targetSize(big, { ladder: ladder.name, rung: r.name })));
      expect([...tokens].sort((a, b) => a - b)).toEqual(tokens);
    }
  });

  it("a rung never upscales a small source, so two rungs can coincide", () => {
    const small = { width: 100, height: 60 };
    const mid = targetSize(small, { ladder: "qwen", rung: "mid" });
    const high = targetSize(small, { ladder: "qwen", rung: "high" });
    expect(mid).toEqual(high);
    expect(mid.width * mid.height).toBeLessThanOrEqual(Math.max(findRung("qwen", "mid").minPixels, 112 * 84));
  });

  it("explicit bounds are taken as given", () => {
    expect(targetSize({ width: 1280, height: 720 }, { minPixels: 100352, maxPixels: 602112 })).toEqual({ width: 1008, height: 560 });
  });

  it("unknown rungs name the valid ones", () => {
    expect(() => findRung("tiny", "mid")).toThrow(/low, high, full/);
  });

  it("clips count frames in pairs", () => {
    const s = { width: 56, height: 56 };
    expect(clipTokens(16, s)).toBe(8 * 4);
    expect(clipTokens(9, s)).toBe(5 * 4);
  });
});
