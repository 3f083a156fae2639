import { describe, expect, it } from "vitest";
import { normalizeText, parseSeconds, sameAnswer, scoreAnswer, type Gradable } from "../../src/eval/score.js";

const option: Gradable = { answer: "B", answer_type: "option", options: ["A. red", "B. light blue", "C. green"], meta: {} };

describe("scoreAnswer", () => {
  it.each(["B", "B.", "(B)", "B. light blue", "b", "Answer: B", "<answer>B</answer>", "light blue", "Light Blue!", " B) light blue"])("accepts option form %j", (p) => {
    expect(scoreAnswer(option, p)).toMatchObject({ correct: true, parsed: "B" });
  });
  it.each(["A", "C. green", "blue", "D", "", "BB"])("rejects %j", (p) => {
    expect(scoreAnswer(option, p).correct).toBe(false);
  });
  it("numbers: numerals, words, tolerance", () => {
    const n: Gradable = { answer: "3", answer_type: "number", meta: {} };
    expect(scoreAnswer(n, "3").correct).toBe(true);
    expect(scoreAnswer(n, "three").correct).toBe(true);
    expect(scoreAnswer(n, "3 times").correct).toBe(true);
    expect(scoreAnswer(n, "4").correct).toBe(false);
    expect(scoreAnswer({ ...n, meta: { tolerance: 1 } }, "4").correct).toBe(true);
    expect(scoreAnswer(n, "none").parsed).toBeNull();
  });
  it("sameAnswer: graded alike without the key (options by letter or words, numbers and times within tolerance)", () => {
    expect(sameAnswer(option, "B", "light blue")).toBe(true);
    expect(sameAnswer(option, "A", "B")).toBe(false);
    expect(sameAnswer(option, "junk", "junk")).toBe(false);
    const t: Gradable = { answer: "20", answer_type: "time", meta: { tolerance: 0.5 } };
    expect(sameAnswer(t, "16.3", "16.7")).toBe(true);
    expect(sameAnswer(t, "16.3", "16.9")).toBe(false);
    const n: Gradable = { answer: "3", answer_type: "number", meta: {} };
    expect([sameAnswer(n, "2", "two"), sameAnswer(n, "2", "3")]).toEqual([true, false]);
  });
  it("times: seconds within tolerance, clock notation", () => {
    const t: Gradable = { answer: "65.2", answer_type: "time", meta: {} };
    expect(scoreAnswer(t, "65").correct).toBe(true);
    expect(scoreAnswer(t, "1:05").correct).toBe(true);
    expect(scoreAnswer(t, "66.1s").correct).toBe(true);
    expect(scoreAnswer(t, "67").correct).toBe(false);
    expect(scoreAnswer({ ...t, meta: { tolerance: 3 } }, "67").correct).toBe(true);
    expect(parseSeconds("0:01:05")).toBe(65);
  });
  it("words and text: normalized exact match", () => {
    const w: Gradable = { answer: "The Red Car", answer_type: "text", meta: {} };
    expect(scoreAnswer(w, "red car.").correct).toBe(true);
    expect(scoreAnswer(w, "a red  car").correct).toBe(true);
    expect(scoreAnswer(w, "red cars").correct).toBe(false);
    expect(scoreAnswer({ answer: "K7A", answer_type: "text", meta: {} }, "k7a").correct).toBe(true);
    expect(scoreAnswer({ answer: "K7A", answer_type: "text", meta: {} }, "K7").correct).toBe(false);
    expect(normalizeText("  Hello, World! ")).toBe("hello world");
  });
  it("no answer is wrong, never a crash", () => {
    expect(scoreAnswer(option, null)).toEqual({ correct: false, parsed: null });
    expect(scoreAnswer({ answer: "x", answer_type: "word", meta: {} }, "   ")).toEqual({ correct: false, parsed: null });
  });
});
