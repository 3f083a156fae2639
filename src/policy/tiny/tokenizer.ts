/**
 * Word-level tokenizer of the embedded model (DESIGN.md §5).
 *
 * Text is cut into pieces: protocol tags, words (lower-case runs, underscores kept so tool and
 * argument names stay whole; capitals alone), single digits (numbers are written digit by digit, '.' is its own
 * piece), newlines and single punctuation characters. A piece preceded by a space is a different
 * token ("▁word") from the same piece glued to its left neighbour ("word"), so decoding gives back
 * the exact text for canonical input (single spaces), and the agent's parser accepts it.
 * Pieces missing from the vocabulary become <unk> and are reported, so the record can warn.
 *
 * Frame references: a vocabulary built with `frameRefs: N` also holds `<f0>`..`<fN-1>` (spaced and
 * glued), one per frame slot of the latest observation. The model points at a frame instead of
 * spelling its time digit by digit: encoding (given the observation's frame times) turns a time
 * written in a turn into the reference of the frame it names, decoding writes the frame's time back
 * (0.1 s, as the protocol rounds). Pointing is one attention lookup; copying four digits from
 * positions chosen by what the pixels show was the step the digit layout failed to learn.
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
  "full",
  "frames",
  "error",
  "region",
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

/** Times of the frames in view, slot by slot: what frame references point at. */
export type FrameTimes = readonly number[];

const REF = /^\u2581?<f(\d+)>$/;
const refPiece = (k: number, spaced: boolean) => `${spaced ? SPACE : ""}<f${k}>`;
/** How a referenced frame's time is written (the protocol's 0.1 s). */
export const refText = (t: number) => t.toFixed(1);

/**
 * Spans of `text` that are times a frame reference may replace: decimals anywhere ("6.0 s"), and in
 * a tool call also whole numbers given as start / end / timestamps (JSON drops ".0"). Integers
 * elsewhere are counts or digits ("flashes 3 times", "<answer>7</answer>") and stay digits.
 */
function timeSpans(text: string): { from: number; to: number; value: number }[] {
  const out: { from: number; to: number; value: number }[] = [];
  const calls = [...text.matchAll(/<tool_call>[\s\S]*?<\/tool_call>/g)].map((m) => [m.index, m.index + m[0].length] as const);
  for (const m of text.matchAll(/(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g)) {
    const from = m.index, to = from + m[0].length;
    let ok = m[0].includes(".");
    const inCall = calls.some(([a, b]) => from > a && to < b);
    const before = inCall ? text.slice(0, from) : "";
    // A region's corners are fractions of the picture, never times.
    if (inCall && /"region"\s*:\s*\[[^\]]*$/.test(before)) continue;
    if (!ok && inCall) ok = /"(?:start|end)"\s*:\s*$/.test(before) || /"timestamps"\s*:\s*\[[^\]]*$/.test(before);
    if (ok) out.push({ from, to, value: Number(m[0]) });
  }
  return out;
}

/** The first frame slot whose time, written at 0.1 s (rounded, or floored as window starts are), is `v`. */
function slotOf(v: number, times: FrameTimes, n: number): number {
  const at = (f: (t: number) => number) => times.findIndex((t, k) => k < n && Math.abs(f(t) - v) < 1e-6);
  const k = at((t) => Number(refText(t)));
  return k >= 0 ? k : at((t) => Math.floor(t * 10 + 1e-6) / 10);
}

export interface Encoded {
  ids: number[];
  /** Distinct pieces that were not in the vocabulary (without the space mark). */
  unknown: string[];
}

export class Tokenizer {
  private readonly index: Map<string, number>;

  /** Frame slots the vocabulary can point at (0 = times are spelt in digits). */
  readonly frameRefs: number;

  constructor(readonly vocab: readonly string[]) {
    SPECIAL.forEach((s, i) => {
      if (vocab[i] !== s) throw new Error(`vocabulary entry ${i} must be ${s}, found ${String(vocab[i])}`);
    });
    this.index = new Map(vocab.map((p, i) => [p, i]));
    if (this.index.size !== vocab.length) throw new Error("vocabulary has duplicate entries");
    let n = 0;
    while (this.index.has(refPiece(n, false)) && this.index.has(refPiece(n, true))) n++;
    this.frameRefs = n;
  }

  /** Vocabulary from texts: the specials, the base pieces (spaced and glued) and every piece seen. */
  static build(texts: Iterable<string>, opts: { frameRefs?: number } = {}): Tokenizer {
    const seen = new Set<string>();
    for (const p of BASE_PIECES) {
      seen.add(p);
      if (p !== "\n") seen.add(SPACE + p);
    }
    for (const t of texts) for (const p of pieces(t)) seen.add(p);
    for (const s of SPECIAL) seen.delete(s);
    const refs = Array.from({ length: opts.frameRefs ?? 0 }, (_, k) => [refPiece(k, false), refPiece(k, true)]).flat();
    return new Tokenizer([...SPECIAL, ...[...seen].sort(), ...refs]);
  }

  /**
   * This vocabulary with the base pieces it lacks appended (spaced and glued), so a model trained
   * before a tool argument existed can learn to write it: existing ids keep their meaning.
   */
  withBasePieces(): { tokenizer: Tokenizer; added: string[] } {
    const added = BASE_PIECES.flatMap((p) => (p === "\n" ? [p] : [p, SPACE + p])).filter((p) => !this.index.has(p));
    return { tokenizer: added.length ? new Tokenizer([...this.vocab, ...added]) : this, added };
  }

  get size(): number {
    return this.vocab.length;
  }

  id(token: SpecialToken): number {
    return this.index.get(token)!;
  }

  /** Whether an id is a frame reference (spaced or glued). */
  isRef(id: number): boolean {
    return /^\u2581?<f\d+>$/.test(this.vocab[id] ?? "");
  }

  /** The (glued) reference token of frame slot k, or undefined past the vocabulary's slots. */
  ref(k: number): number | undefined {
    return k < this.frameRefs ? this.index.get(refPiece(k, false)) : undefined;
  }

  /**
   * Text -> ids. With `frames` (the times of the frames in view) and a vocabulary with frame
   * references, times naming a frame in view become that frame's reference.
   */
  encode(text: string, frames?: FrameTimes): Encoded {
    const ids: number[] = [];
    const unknown = new Set<string>();
    if (frames && this.frameRefs) {
      let last = 0;
      for (const s of timeSpans(text)) {
        const k = slotOf(s.value, frames, this.frameRefs);
        if (k < 0) continue;
        const head = this.encode(text.slice(last, s.from));
        ids.push(...head.ids, this.index.get(refPiece(k, /[ \t]/.test(text[s.from - 1] ?? "")))!);
        for (const u of head.unknown) unknown.add(u);
        last = s.to;
      }
      const tail = this.encode(text.slice(last));
      for (const u of tail.unknown) unknown.add(u);
      return { ids: [...ids, ...tail.ids], unknown: [...unknown] };
    }
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

  /** Text of generated ids; special tokens other than <unk> are dropped, frame references become times. */
  decode(ids: readonly number[], frames: FrameTimes = []): string {
    let s = "";
    for (const id of ids) {
      const p = this.vocab[id];
      if (p === undefined) continue;
      const ref = REF.exec(p);
      if (ref) {
        const t = frames[Number(ref[1])];
        s += (p.startsWith(SPACE) ? " " : "") + (t === undefined ? "?" : refText(t));
      } else if (p === "<unk>") s += " ?";
      else if ((SPECIAL as readonly string[]).includes(p)) continue;
      else s += p.startsWith(SPACE) ? " " + p.slice(1) : p;
    }
    return s;
  }

  toJSON(): { vocab: readonly string[] } {
    return { vocab: this.vocab };
  }
}
