import { describe, expect, it } from "vitest";
import { scoreAnswer } from "../../src/eval/score.js";
import { answerByOptionText, callCost, cheapestCall, formatError, formatObservation, formatQuestion, formatTurn, lastFramesTag, mapCallRegion, parseTurn, splitTurn, type CallLimits } from "../../src/agent/protocol.js";

// Costs come from callCost (the same targetSize math as the video layer), so no ladder sizes are hard-coded.
const limits: CallLimits = { ladder: "qwen", duration: 10, video: { width: 320, height: 180 }, maxFramesPerCall: 8, remainingVisualTokens: 10_000 };

describe("parseTurn", () => {
  it("parses think + tool_call, rounds timestamps to 0.1 s and applies schema defaults", () => {
    const t = parseTurn({ text: '<think>need a closer look</think>\n<tool_call>{"name": "get_frames", "arguments": {"timestamps": [1.234, 2.06], "rung": "high"}}</tool_call>' }, limits);
    expect(t.kind).toBe("call");
    if (t.kind !== "call") return;
    expect(t.think).toBe("need a closer look");
    expect(t.call).toEqual({ name: "get_frames", arguments: { timestamps: [1.2, 2.1], rung: "high", mode: "exact" }, source: "text" });
    expect(t.cost).toBe(callCost("get_frames", 2, "high", limits));
    expect(t.issues).toEqual([]);
  });

  it("takes a region, rounded to 0.001, costed as its crop; a bad region is a typed, readable error", () => {
    const t = parseTurn({ text: '<think>zoom on the sign</think><tool_call>{"name": "get_frames", "arguments": {"timestamps": [1], "rung": "high", "region": [0.12345, 0.5, 0.5, 0.9]}}</tool_call>' }, limits);
    expect(t.kind).toBe("call");
    if (t.kind !== "call") return;
    expect(t.call.arguments.region).toEqual([0.123, 0.5, 0.5, 0.9]);
    expect(t.cost).toBe(callCost("get_frames", 1, "high", limits, [0.123, 0.5, 0.5, 0.9]));
    expect(t.cost).toBeLessThan(callCost("get_frames", 1, "high", limits));
    for (const region of ["[0.5, 0, 0.4, 1]", "[0, 0, 1]", "[0, 0, 1, 2]", '"top"']) {
      const bad = parseTurn({ text: `<think>x</think><tool_call>{"name": "get_clip", "arguments": {"start": 1, "end": 2, "rung": "low", "region": ${region}}}</tool_call>` }, limits);
      expect(bad.kind).toBe("invalid");
      if (bad.kind === "invalid") expect(bad.error).toMatchObject({ code: "FM_ERR_AGENT_BAD_CALL", message: expect.stringContaining("region") });
    }
  });

  it("parses an answer", () => {
    const t = parseTurn({ text: "<think>it is red</think><answer> B </answer>" }, limits);
    expect(t).toEqual({ kind: "answer", think: "it is red", answer: "B", issues: [] });
  });

  it("accepts a native tool call and keeps its id", () => {
    const t = parseTurn({ text: "<think>look</think>", toolCalls: [{ id: "call_1", type: "function", function: { name: "get_clip", arguments: '{"start": 1, "end": 3.04, "count": 8, "rung": "low"}' } }] }, limits);
    expect(t.kind).toBe("call");
    if (t.kind === "call") expect(t.call).toEqual({ name: "get_clip", arguments: { start: 1, end: 3, count: 8, rung: "low" }, source: "native", id: "call_1" });
  });

  it("reports broken JSON as a typed error, not an exception", () => {
    const t = parseTurn({ text: '<think>x</think><tool_call>{"name": "get_frames", "arguments": {"timestamps": [1,}</tool_call>' }, limits);
    expect(t.kind).toBe("invalid");
    if (t.kind === "invalid") expect(t.error.code).toBe("FM_ERR_AGENT_BAD_JSON");
  });

  it.each([
    ["unknown tool", '{"name": "zoom", "arguments": {}}', "FM_ERR_AGENT_UNKNOWN_TOOL"],
    ["bad rung", '{"name": "get_frames", "arguments": {"timestamps": [1], "rung": "ultra"}}', "FM_ERR_AGENT_BAD_CALL"],
    ["timestamps and interval", '{"name": "get_frames", "arguments": {"timestamps": [1], "start": 1, "end": 2, "count": 2, "rung": "low"}}', "FM_ERR_AGENT_BAD_CALL"],
    ["negative time", '{"name": "get_frames", "arguments": {"timestamps": [-1], "rung": "low"}}', "FM_ERR_AGENT_BAD_CALL"],
    ["past the end", '{"name": "get_frames", "arguments": {"timestamps": [10.5], "rung": "low"}}', "FM_ERR_VIDEO_OUT_OF_RANGE"],
    ["clip past the end", '{"name": "get_clip", "arguments": {"start": 9, "end": 12, "rung": "low"}}', "FM_ERR_VIDEO_OUT_OF_RANGE"],
    ["too many frames", '{"name": "get_frames", "arguments": {"start": 0, "end": 9, "count": 9, "rung": "low"}}', "FM_ERR_AGENT_BAD_CALL"],
    ["arguments not an object", '{"name": "get_frames", "arguments": [1]}', "FM_ERR_AGENT_BAD_CALL"],
    ["call not an object", "[1, 2]", "FM_ERR_AGENT_BAD_JSON"],
  ])("rejects %s", (_, body, code) => {
    const t = parseTurn({ text: `<think>x</think><tool_call>${body}</tool_call>` }, limits);
    expect(t.kind).toBe("invalid");
    if (t.kind === "invalid") expect(t.error.code).toBe(code);
  });

  it("rejects a call over the remaining budget with the cost in the message", () => {
    const cost = callCost("get_frames", 4, "high", limits);
    const t = parseTurn({ text: '<think>x</think><tool_call>{"name": "get_frames", "arguments": {"start": 1, "end": 2, "count": 4, "rung": "high"}}</tool_call>' }, { ...limits, remainingVisualTokens: cost - 1 });
    expect(t.kind).toBe("invalid");
    if (t.kind === "invalid") {
      expect(t.error.code).toBe("FM_ERR_AGENT_OVER_BUDGET");
      expect(t.error.message).toContain(String(cost));
    }
  });

  it("accepts a time at the end of the video rounded to 0.1 s", () => {
    const t = parseTurn({ text: '<think>x</think><tool_call>{"name": "get_frames", "arguments": {"timestamps": [9.96], "rung": "low"}}</tool_call>' }, { ...limits, duration: 9.96 });
    expect(t.kind).toBe("call");
  });

  it("needs exactly one action", () => {
    const none = parseTurn({ text: "<think>hmm</think> I think it is red" }, limits);
    const two = parseTurn({ text: "<think>x</think><answer>A</answer><answer>B</answer>" }, limits);
    const mixed = parseTurn({ text: '<think>x</think><answer>A</answer>', toolCalls: [{ type: "function", function: { name: "get_frames", arguments: "{}" } }] }, limits);
    for (const t of [none, two, mixed]) expect(t.kind === "invalid" && t.error.code).toBe("FM_ERR_AGENT_PROTOCOL");
    expect(parseTurn({ text: "<think>x</think><answer>  </answer>" }, limits).kind).toBe("invalid");
  });

  it("notes format issues without failing the turn", () => {
    const t = parseTurn({ text: "sure! <answer>A</answer>" }, limits);
    expect(t.kind).toBe("answer");
    expect(t.issues).toEqual(["no <think> block", "text outside the protocol tags"]);
    const unclosed = parseTurn({ text: '<think>x</think><tool_call>{"name": "get_frames"' }, limits);
    expect(unclosed.kind === "invalid" && unclosed.error.message).toContain("unclosed <tool_call>");
  });

  it("on the last turn a call is an error", () => {
    const t = parseTurn({ text: '<think>x</think><tool_call>{"name": "get_frames", "arguments": {"timestamps": [1], "rung": "low"}}</tool_call>' }, limits, true);
    expect(t.kind === "invalid" && t.error.code).toBe("FM_ERR_AGENT_MUST_ANSWER");
  });
});

describe("formatTurn / parseTurn round trip", () => {
  const cases = [
    { think: "The overview is too coarse around 3 s.", call: { name: "get_frames", arguments: { timestamps: [2.9, 3.1], rung: "mid", mode: "exact" } } },
    { think: "Count the flashes.", call: { name: "get_clip", arguments: { start: 1.5, end: 4, count: 8, rung: "low" } } },
    { think: "Frames over an interval.", call: { name: "get_frames", arguments: { start: 0.5, end: 2.5, count: 5, rung: "high", mode: "tolerant" } } },
    { think: "The digit is 7.", answer: "7" },
    { think: "Red came first.", answer: "C" },
  ];
  it.each(cases)("%#", (c) => {
    const text = formatTurn(c);
    const t = parseTurn({ text }, limits);
    expect(t.issues).toEqual([]);
    if ("answer" in c) expect(t).toMatchObject({ kind: "answer", think: c.think, answer: c.answer });
    else expect(t).toMatchObject({ kind: "call", think: c.think, call: { name: c.call.name, arguments: c.call.arguments, source: "text" } });
    expect(splitTurn(text).think).toBe(c.think);
  });
});

describe("mapCallRegion", () => {
  const call = formatTurn({ think: "I read the code closely.", call: { name: "get_frames", arguments: { timestamps: [2.5], rung: "full", region: [0.25, 0.5, 0.75, 1] } } });
  it("rewrites only the call's region, written back as formatTurn writes it", () => {
    const out = mapCallRegion(call, (r) => r.map((v) => v / 2));
    expect(out).toBe(formatTurn({ think: "I read the code closely.", call: { name: "get_frames", arguments: { timestamps: [2.5], rung: "full", region: [0.125, 0.25, 0.375, 0.5] } } }));
  });
  it("leaves answers, calls without a region and broken calls alone", () => {
    const f = () => [0, 0, 1, 1];
    for (const t of [formatTurn({ think: "x", answer: "7" }), formatTurn({ think: "x", call: { name: "get_frames", arguments: { timestamps: [1], rung: "low" } } }), "<think>x</think>\n<tool_call>{\"name\": \"get_frames\", \"arguments\": {\"region\": [0, 0,</tool_call>", "<think>x</think>\n<tool_call>{\"name\":\"get_frames\",\"arguments\":{\"region\":[\"0\",1]}}</tool_call>"]) expect(mapCallRegion(t, f)).toBe(t);
  });
});

describe("answerByOptionText", () => {
  const options = ["A. blue", "B. green", "C. left sign: 3 became 7"];
  it("names the option by its words, keeps the think text, and the scorer still takes it", () => {
    const out = answerByOptionText("<think>Right after red comes green, option B.</think>\n<answer>B</answer>", options);
    expect(out).toBe("<think>Right after red comes green, option B.</think>\n<answer>green</answer>");
    const item = { answer: "C", answer_type: "option" as const, options };
    expect(scoreAnswer(item, splitTurn(answerByOptionText(formatTurn({ think: "x", answer: "C" }), options)).answers[0]!)).toMatchObject({ correct: true, parsed: "C" });
  });
  it("leaves calls, non-letter answers and letters past the options alone", () => {
    const call = formatTurn({ think: "look", call: { name: "get_frames", arguments: { timestamps: [1], rung: "low" } } });
    for (const t of [call, formatTurn({ think: "t", answer: "green" }), formatTurn({ think: "t", answer: "D" })]) expect(answerByOptionText(t, options)).toBe(t);
  });
});

describe("observations", () => {
  it("a crop says so in its frames line", () => {
    const text = formatObservation({ tool: "get_frames", timestamps: [1], width: 56, height: 28, tokens: 2, rung: "low", mode: "exact", cached: false, decodeMs: 1, region: [0, 0.5, 0.5, 1] }, { turnsLeft: 1, visualTokensLeft: 9, mustAnswer: false });
    expect(text).toContain('<frames source="get_frames" rung="low" region="0,0.5,0.5,1" size="56x28" tokens="2">1 frame at t = 1.0 s</frames>');
  });

  it("a crop's frames line is read back with its region (the tiny chat server zooms inside it)", () => {
    const r = { tool: "get_frames", timestamps: [1], width: 56, height: 28, tokens: 2, rung: "low", mode: "exact" as const, cached: false, decodeMs: 1 };
    expect(lastFramesTag(formatObservation({ ...r, region: [0, 0.5, 0.5, 1] }, { turnsLeft: 1, visualTokensLeft: 9, mustAnswer: false }))?.region).toEqual([0, 0.5, 0.5, 1]);
    const plain = lastFramesTag(formatObservation(r, { turnsLeft: 1, visualTokensLeft: 9, mustAnswer: false }));
    expect(plain?.timestamps).toEqual([1]);
    expect(plain?.region).toBeUndefined();
  });

  const meta = { tool: "get_frames", timestamps: [1, 1.5], width: 448, height: 252, tokens: 288, rung: "mid", mode: "exact" as const, cached: false, decodeMs: 5 };
  it("describes frames, budget and the last turn", () => {
    expect(formatObservation(meta, { turnsLeft: 2, visualTokensLeft: 100, mustAnswer: false })).toBe(
      '<frames source="get_frames" rung="mid" size="448x252" tokens="288">2 frames at t = 1.0, 1.5 s</frames>\nTurns left: 2. Visual tokens left: 100.',
    );
    expect(formatError({ code: "FM_ERR_AGENT_BAD_JSON", message: "bad" }, { turnsLeft: 1, visualTokensLeft: 0, mustAnswer: true })).toContain("This is your last turn");
    const q = formatQuestion({ question: "What colour?", options: ["A. red", "B. blue"] }, { ...meta, timestamps: [0.5] }, { turnsLeft: 4, visualTokensLeft: 10, mustAnswer: false });
    expect(q.split("\n").slice(0, 4)).toEqual(["Question: What colour?", "Options:", "A. red", "B. blue"]);
    expect(q).toContain('source="overview"');
  });
  it("cheapest call is one frame at the lowest rung", () => {
    expect(cheapestCall(limits)).toBe(callCost("get_frames", 1, "low", limits));
    expect(callCost("get_clip", 9, "low", limits)).toBe(5 * callCost("get_frames", 1, "low", limits));
  });
});
