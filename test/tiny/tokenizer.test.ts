import { describe, expect, it } from "vitest";
import { formatTurn, parseTurn, type CallLimits } from "../../src/agent/protocol.js";
import { pieces, SPACE, SPECIAL, Tokenizer } from "../../src/policy/tiny/tokenizer.js";

const limits: CallLimits = { ladder: "tiny", duration: 30, video: { width: 224, height: 224 }, maxFramesPerCall: 16, remainingVisualTokens: 200 };

const turns = [
  formatTurn({ think: "The sign shows at 12.0 to 17.5 s. I watch 9.5 to 20.0 s closely.", call: { name: "get_clip", arguments: { start: 9.5, end: 20, count: 16, rung: "low" } } }),
  formatTurn({ think: "Text shows on the sign at 13.4 s. I read it at the high rung.", call: { name: "get_frames", arguments: { timestamps: [13.4, 14], rung: "high" } } }),
  formatTurn({ think: "The code on the sign reads K 3 Q.", answer: "K3Q" }),
  formatTurn({ think: "Right after red comes blue, option C.", answer: "C" }),
  formatTurn({ think: "The star is first seen at 7.4 s.", answer: "7.4" }),
];

describe("tokenizer", () => {
  const tok = Tokenizer.build([...turns, "Which digit was it?"]);

  it("round-trips protocol turns exactly, and the agent's parser accepts the decoded text", () => {
    for (const text of turns) {
      const { ids, unknown } = tok.encode(text);
      expect(unknown).toEqual([]);
      const back = tok.decode(ids);
      expect(back).toBe(text);
      const a = parseTurn({ text }, limits);
      const b = parseTurn({ text: back }, limits);
      expect(b).toEqual(a);
      expect(b.kind).not.toBe("invalid");
    }
  });

  it("writes numbers digit by digit and codes letter by letter", () => {
    expect(pieces("t 12.5 K3Q")).toEqual(["t", `${SPACE}1`, "2", ".", "5", `${SPACE}K`, "3", "Q"]);
  });

  it("maps unknown words to <unk> and reports them", () => {
    const { ids, unknown } = tok.encode("Which zebra digit was it?");
    expect(unknown).toEqual(["zebra"]);
    expect(ids).toContain(tok.id("<unk>"));
    expect(tok.decode(ids)).toBe("Which ? digit was it?");
  });

  it("keeps the special tokens at fixed ids and survives a JSON round trip", () => {
    expect(tok.vocab.slice(0, SPECIAL.length)).toEqual([...SPECIAL]);
    const again = new Tokenizer(JSON.parse(JSON.stringify(tok.toJSON())).vocab);
    expect(again.encode(turns[0]!).ids).toEqual(tok.encode(turns[0]!).ids);
    expect(() => new Tokenizer(["<unk>", "<pad>"])).toThrow(/must be <pad>/);
  });
});
