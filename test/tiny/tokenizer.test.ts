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

  it("a region's corners are never read as times, even where a frame in view has that time", () => {
    const t = Tokenizer.build([...turns], { frameRefs: 4 });
    const text = formatTurn({ think: "I read the code closely.", call: { name: "get_frames", arguments: { timestamps: [0.5], rung: "full", region: [0.25, 0.5, 0.75, 1] } } });
    const ids = t.encode(text, [0.5, 0.75]).ids;
    expect(ids.filter((id) => t.isRef(id))).toHaveLength(1); // the timestamp only
    expect(t.decode(ids, [0.5, 0.75])).toBe(text);
  });

  it("withBasePieces appends the base pieces an older vocabulary lacks, keeping every id", () => {
    const old = new Tokenizer(tok.vocab.filter((p) => p.replace(SPACE, "") !== "region"));
    const { tokenizer, added } = old.withBasePieces();
    expect(added).toEqual(["region", `${SPACE}region`]);
    expect(tokenizer.vocab.slice(0, old.size)).toEqual(old.vocab);
    expect(tokenizer.encode('"region"').unknown).toEqual([]);
    expect(tokenizer.withBasePieces().added).toEqual([]);
  });

  it("keeps the special tokens at fixed ids and survives a JSON round trip", () => {
    expect(tok.vocab.slice(0, SPECIAL.length)).toEqual([...SPECIAL]);
    const again = new Tokenizer(JSON.parse(JSON.stringify(tok.toJSON())).vocab);
    expect(again.encode(turns[0]!).ids).toEqual(tok.encode(turns[0]!).ids);
    expect(() => new Tokenizer(["<unk>", "<pad>"])).toThrow(/must be <pad>/);
  });

  describe("frame references", () => {
    const refs = Tokenizer.build([...turns, "The digit on the sign is 7."], { frameRefs: 4 });
    // Four frames in view; 9.5 is a window start written floored (9.56 -> 9.5), 20 an integer in JSON.
    const frames = [7.4, 9.56, 13.4, 20];
    const names = (ids: number[]) => ids.map((i) => refs.vocab[i]);

    it("turns times naming a frame in view into its reference, and decodes them back to protocol text", () => {
      const { ids } = refs.encode(turns[0]!, frames);
      const n = names(ids);
      expect(n.filter((p) => /<f\d>/.test(p!))).toEqual([`${SPACE}<f1>`, `${SPACE}<f3>`, "<f1>", "<f3>"]);
      // 12.0 and 17.5 name no frame in view: spelt in digits.
      expect(n.join("")).toContain(`${SPACE}12.0`);
      const back = refs.decode(ids, frames);
      expect(back).toBe(turns[0]!.replace("9.5 to 20.0", "9.6 to 20.0").replace('"start":9.5,"end":20', '"start":9.6,"end":20.0'));
      expect(parseTurn({ text: back }, limits).kind).toBe("call");
    });

    it("points at times in timestamps and time answers, but never at counts, digits or codes", () => {
      expect(names(refs.encode(turns[1]!, frames).ids)).toContain("<f2>");
      expect(names(refs.encode(turns[4]!, frames).ids).filter((p) => /<f\d>/.test(p!))).toEqual([`${SPACE}<f0>`, "<f0>"]);
      const digit = refs.encode("The digit on the sign is 7.", [7, 3]).ids;
      expect(names(digit).some((p) => /<f\d>/.test(p!))).toBe(false);
      expect(names(refs.encode(turns[2]!, [3]).ids).some((p) => /<f\d>/.test(p!))).toBe(false);
      // Without frame times, or past the vocabulary's slots, times stay digits.
      expect(refs.encode(turns[0]!).ids).toEqual(refs.encode(turns[0]!, []).ids);
      expect(names(refs.encode(turns[4]!, [1, 2, 3, 4, 7.4]).ids).some((p) => /<f\d>/.test(p!))).toBe(false);
    });

    it("knows its slot count from the vocabulary alone", () => {
      expect(refs.frameRefs).toBe(4);
      expect(new Tokenizer(refs.toJSON().vocab).frameRefs).toBe(4);
      expect(tok.frameRefs).toBe(0);
      expect(refs.ref(3)).toBeDefined();
      expect(refs.ref(4)).toBeUndefined();
    });
  });
});
