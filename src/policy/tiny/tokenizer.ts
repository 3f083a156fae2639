/**
 * Word-level tokenizer of the embedded model (DESIGN.md §5).
 *
 * Text is cut into pieces: protocol tags, words (lower-case runs, underscores kept so tool and
 * argument names stay whole; capitals alone), single digits (numbers are written digit by digit, '.' is its own
 * piece), newlines and single punctuation characters. A piece preceded by a space is a different
 * token ("▁word") from the same piece glued to its left neighbour ("word"), so decoding gives back
 * the exact text for canonical input (single spaces), and the agent's parser accepts it.
 * Pieces missing from the vocabulary become <unk> and are reported, so the record can warn.
 */

/** Special tokens; their ids are fixed (0..n-1) so every vocabulary agrees on them. */
export const SPECIAL = [
  "<pad>",
  "<unk>",
  "<bos>",
  /** End of the generated turn. */
  "<eos>",
  /** Start of one frame: followed by its grid token, its timestamp digits and its patches. */
  "<frame>",
  /** Placeholder id at visual-token positions (the patch replaces the embedding). */
  "<img>",
  /** One earlier turn in the compact history. */
  "<turn>",
  /** What that turn's action brought back. */
  "<obs>",
  /** This turn must answer. */
  "<last>",
  /** Start of the text the model generates. */
  "<gen>",
] as const;
export type SpecialToken = (typeof SPECIAL)[number];

export const SPACE = "\u2581";
const TAGS = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<answer>", "</answer>"];
/** Always in the vocabulary, both spaced and glued: the protocol and number writing. */
export const BASE_PIECES = [
  ...TAGS,
  "\n",
  ..."0123456789",
  ...'.,:;{}[]"-?!()/x='.split(""),
  "name",
  "arguments",
  "get_frames",
  "get_clip",
  "timestamps",
  "start",
  "end",
  "count",
  "rung",
  "low",
  "high",
  "frames",
  "error",
  // Capitals stand alone (codes, option letters): all of them, so an unseen code is not <unk>.
  ..."ABCDEFGHIJKLMNOPQRSTUVWXYZ",
];

// Words are lower-case runs (optionally capitalized); other capitals stand alone, so codes like
// "K3Q" or "AB7" are spelt letter by letter instead of growing the vocabulary.
const PIECE = /<\/?(?:think|tool_call|answer)>|[A-Z]?[a-z]+(?:_[a-z]+)*|[A-Z]|[0-9]|\n|[^\sA-Za-z0-9]/g;

/** Splits text into pieces, each marked with whether a space came before it. */
export function pieces(text: string): string[] {
  const out: string[] = [];
  let last = 0;
  for (const m of text.matchAll(PIECE)) {
    const gap = text.slice(last, m.index);
    const p = m[0];
    out.push(p !== "\n" && /[ \t]/.test(gap) ? SPACE + p : p);
    last = m.index + p.length;
  }
  return out;
}

export interface Encoded {
  ids: number[];
  /** Distinct pieces that were not in the vocabulary (without the space mark). */
  unknown: string[];
}

export class Tokenizer {
  private readonly index: Map<string, number>;

  constructor(readonly vocab: readonly string[]) {
    SPECIAL.forEach((s, i) => {
      if (vocab[i] !== s) throw new Error(`vocabulary entry ${i} must be ${s}, found ${String(vocab[i])}`);
    });
    this.index = new Map(vocab.map((p, i) => [p, i]));
    if (this.index.size !== vocab.length) throw new Error("vocabulary has duplicate entries");
  }

  /** Vocabulary from texts: the specials, the base pieces (spaced and glued) and every piece seen. */
  static build(texts: Iterable<string>): Tokenizer {
    const seen = new Set<string>();
    for (const p of BASE_PIECES) {
      seen.add(p);
      if (p !== "\n") seen.add(SPACE + p);
    }
    for (const t of texts) for (const p of pieces(t)) seen.add(p);
    for (const s of SPECIAL) seen.delete(s);
    return new Tokenizer([...SPECIAL, ...[...seen].sort()]);
  }

  get size(): number {
    return this.vocab.length;
  }

  id(token: SpecialToken): number {
    return this.index.get(token)!;
  }

  encode(text: string): Encoded {
    const ids: number[] = [];
    const unknown = new Set<string>();
    for (const p of pieces(text)) {
      // A spaced piece the vocabulary only knows glued (or the reverse) still maps to it.
      const id = this.index.get(p) ?? this.index.get(p.startsWith(SPACE) ? p.slice(1) : SPACE + p);
      if (id === undefined) {
        unknown.add(p.startsWith(SPACE) ? p.slice(1) : p);
        ids.push(this.id("<unk>"));
      } else ids.push(id);
    }
    return { ids, unknown: [...unknown] };
  }

  /** Text of generated ids; special tokens other than <unk> are dropped. */
  decode(ids: readonly number[]): string {
    let s = "";
    for (const id of ids) {
      const p = this.vocab[id];
      if (p === undefined) continue;
      if (p === "<unk>") s += " ?";
      else if ((SPECIAL as readonly string[]).includes(p)) continue;
      else s += p.startsWith(SPACE) ? " " + p.slice(1) : p;
    }
    return s;
  }

  toJSON(): { vocab: readonly string[] } {
    return { vocab: this.vocab };
  }
}
