/**
 * The cue teacher: writes SFT trajectories the embedded model CAN imitate. The oracle policy
 * (src/policy/oracle.ts) looks straight at the evidence interval, which the model cannot know
 * from an 8-frame overview (where a 0.3 s flash happens is not visible in it). This teacher
 * decides only from what the frames in view show, as the synthetic suite's cues allow:
 *
 *  turn 0 (overview): the cue (tinted segment / dark sign) is visible in some overview frames;
 *    watch a dense low clip between the overview frames just before and just after them
 *    (times copied from the frames in view);
 *  turn 1 (clip): when: answer from the clip. count: watch again from the first to the last
 *    clip frame on the tinted segment (16 frames over the segment alone see every flash for 90%
 *    of items, the one look over the overview gaps 17%: npm run bench:teacher-coverage), then
 *    answer; flash-digit: the same when no clip frame showed the digit (the digit is in the last
 *    view for 85% of items instead of 64%), else answer. order: look again at just the last red
 *    clip frame and the first of the next colour (answer from the clip when it caught only one of
 *    them, or always with orderFromClip); small-code: ask for the top rung (CLOSE_RUNG) at a clip frame showing text on the
 *    sign; change: the same at the first and last clip frames showing the signs;
 *  turn 2 (second clip, close frames): read and answer.
 * With zoomRegion (small-code) and changeZoom (change) the close look is two region zooms instead,
 * and change may take two more (CHANGE_ZOOM_TURNS).
 *
 * Think texts are short and copy what is in view (times, counts), so a small model can learn
 * them. It needs the item's meta from the synthetic generator (family, cue, text boxes).
 */
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { answer } from "../../agent/loop.js";
import { loadDataset, videoPath } from "../../../datasets/io.js";
import { createUniformPolicy } from "../uniform.js";
import { evidenceByTurn } from "./evidence.js";
import { FramemindError } from "../../errors.js";
import { hashString, Rng } from "../../nn/index.js";
import { LADDERS, type Region, type Size } from "../../video/index.js";
import { SIGN_ZOOM_SIDE, zoomAt } from "./zoom.js";
import { textSize } from "../../../datasets/synth/font.js";
import type { TextPlace } from "../../../datasets/synth/families.js";
import { formatTurn, optionWords } from "../../agent/protocol.js";
import type { DatasetItem } from "../../../datasets/schema.js";
import type { EvidenceFrame, Policy, PolicyInput, PolicyStep } from "../types.js";

const Meta = z.object({
  family: z.enum(["flash-digit", "count", "order", "small-code", "change", "when"]),
  cue: z.object({ start: z.number(), end: z.number() }),
  text: z.array(z.object({ x: z.number(), y: z.number().optional(), cell: z.number().optional(), from: z.number(), to: z.number(), text: z.string() })).default([]),
});

/**
 * Where the first zoom on small text is centred: the eighth of the picture nearest the text's
 * centre, kept a quarter from the edges (the crop is half the picture, zoom.ts). That is as finely
 * as the model points from the clip it has in view (80% the right eighth, bench:reading-probe
 * --view point --pointStep 0.125 --pointFrom clip); the text then sits within 1/16 of the picture
 * of the crop's centre.
 */
export function signZoomCentre(text: { x: number; y: number }, video: Size): [number, number] {
  const at = (c: number, whole: number) => Math.min(1 - SIGN_ZOOM_SIDE / 2, Math.max(SIGN_ZOOM_SIDE / 2, Math.round((c / whole) * 8) / 8));
  return [at(text.x, video.width), at(text.y, video.height)];
}

/** The centre of a text box (source pixels). */
export const textCentre = (b: TextPlace) => {
  const size = textSize(b.text.length, b.cell);
  return { x: b.x + size.width / 2, y: b.y + size.height / 2 };
};

/**
 * Where the read (the second zoom) is centred, as fractions of the picture: the text's centre moved
 * by up to `jitter` source px each way, the same for every call on one item. A model's own pointing
 * lands a few px off (within 4 px for 98% of held-out items, bench:reading-probe --view point
 * --crop 2.6), and a model taught to read only centred crops reads no code moved by a few px
 * (session 16); jittered reads teach it to read where it points.
 */
function readCentre(box: TextPlace, video: Size, itemId: string, jitter: number): [number, number] {
  const c = textCentre(box);
  const rng = new Rng(hashString(`read:${itemId}`));
  const d = () => (jitter > 0 ? (rng.uniform() * 2 - 1) * jitter : 0);
  return [(c.x + d()) / video.width, (c.y + d()) / video.height];
}

/** The teacher's first zoom on small text: the sign's part of the picture (signZoomCentre). */
const signCrop = (box: TextPlace, video: Size): Region => zoomAt(signZoomCentre(textCentre(box), video), video);

/** The earlier looks that were region zooms. */
const regionZooms = (looks: readonly PolicyInput["history"][number][]) => looks.filter((h) => h.call && Array.isArray((h.call.arguments as { region?: unknown }).region));

/**
 * The teacher's read on small text: READ_ZOOM_PX around readCentre, inside the sign's crop `first`
 * (by default the crop the teacher's first zoom asks for), so a reading view is cut where the
 * teacher's read is.
 */
export function readZoom(box: TextPlace, video: Size, itemId: string, jitter = 0, first: Region = signCrop(box, video)): Region {
  return zoomAt(readCentre(box, video, itemId, jitter), video, first);
}

/**
 * The rung small text is read at: the tiny ladder's top. Small text is sized for 1.3 output pixels
 * per glyph pixel at "high", where the embedded model stays at chance (bench:reading-probe); at
 * "full" it gets ~2.6, the size at which it reads a flashed digit.
 */
export const CLOSE_RUNG: string = LADDERS.tiny.rungs[LADDERS.tiny.rungs.length - 1]!.name;

/** Frames in a clip request: the densest look one turn can get (capped by the per-call limit). */
export const CLIP_FRAMES = 16;

const f1 = (t: number) => t.toFixed(1);
/** Times are taken at 0.1 s and never past the video's last 0.1 s. */
const floor1 = (t: number) => Math.floor(t * 10 + 1e-6) / 10;

export interface CueTeacherOptions {
  /**
   * Count's answer turn counts one flash at a time ("flash k at <first frame of run k>", then k)
   * instead of naming the count (session 11). Off by default: the shipped model's recipes were
   * written without it and reproduce.
   */
  countSteps?: boolean;
  /**
   * Order answers from the clip instead of zooming on two of its frames (session 18): 0.8.0
   * fine-tuned on the clip view reads 88% of held-out items in 100 steps (bench:reading-probe
   * --view clip), and the agent's own zoom is where its order answers fail.
   */
  orderFromClip?: boolean;
  /**
   * Change's answer turn reads both signs at both ends before it names the side ("The left sign
   * reads 8 and 2, the right sign reads 6 and 6, option C."), where the old think named the side
   * first: 0.9.0 answered "right sign" for 48 of 49 val-300 change questions (session 19).
   */
  changeReads?: boolean;
  /**
   * Small-code zooms on the sign in two steps instead of asking for the whole frame at the top
   * rung (session 21): a crop around signZoomCentre from the clip, then READ_ZOOM_PX inside it (zoom.ts), then the code is read.
   */
  zoomRegion?: boolean;
  /** With zoomRegion or changeZoom: the read is centred up to this many source px off the text (readZoom). */
  readJitter?: number;
  /**
   * Change zooms as small-code does (session 25): the left sign's part of the picture at the last
   * clip frame on the signs, then its digit; the answer when a left option became that digit,
   * else the same two zooms on the right sign and the right option that became its digit. The
   * last moment decides (each option names its sign's last digit, and only the answer's holds),
   * and no turn needs a digit read in an earlier turn, whose think the model no longer sees.
   * Takes up to 6 turns (CHANGE_ZOOM_TURNS).
   */
  changeZoom?: boolean;
  /**
   * With changeZoom: zoom this many clip frames before the last one on the signs (never before
   * the change). Session 25's expert zoomed one frame past the signs' end for 9 of 50 val
   * questions; a frame kept back leaves that slip on the signs. 0: the last frame (session 25).
   */
  changeMargin?: number;
  /**
   * With changeZoom: after reading a sign's digit, the think copies the digits its side's options
   * "became" before it answers or goes on ("The left sign reads 3. The left sign became 7 and 6. I
   * read the right sign closely."), so the digit is compared with text of the same turn. Session
   * 26's expert read the left digit (33 of 35) but went on to the right sign for 11 of 23 questions
   * that needed it.
   */
  changeCompare?: boolean;
}

/** Turns the changeZoom route takes at most: clip, two zooms per sign, answer. */
export const CHANGE_ZOOM_TURNS = 6;

export function createCueTeacher(item: Pick<DatasetItem, "id" | "answer" | "options" | "meta" | "evidence">, opts: CueTeacherOptions = {}): Policy {
  const m = Meta.safeParse(item.meta);
  if (!m.success) throw new FramemindError("FM_ERR_POLICY_CONFIG", { policy: "teacher", reason: `item '${item.id}' lacks synthetic meta (family, cue): ${m.error.issues[0]?.message}` });
  const { family, cue, text } = m.data;
  const inCue = (f: EvidenceFrame) => f.timestamp >= cue.start - 1e-6 && f.timestamp < cue.end;
  /** The frame shows one of the evidence intervals (count: a flash), judged at its own time. */
  const isLit = (f: EvidenceFrame) => (item.evidence ?? []).some((e) => f.timestamp >= e.start - 1e-6 && f.timestamp <= e.end + 1e-6);
  const optionText = (letter: string) => {
    const o = item.options?.find((x) => x.startsWith(`${letter}. `));
    return o === undefined ? letter : optionWords(o);
  };

  /** What each sign shows at the first and last frame in view, left sign first ("?" where none is drawn). */
  const signReads = (frames: readonly EvidenceFrame[]): string => {
    const xs = [...new Set(text.map((b) => b.x))].sort((a, b) => a - b);
    const at = (x: number, f: EvidenceFrame | undefined) => text.find((b) => b.x === x && f !== undefined && f.timestamp >= b.from - 1e-6 && f.timestamp < b.to)?.text ?? "?";
    const read = (x: number) => `reads ${at(x, frames[0])} and ${at(x, frames.at(-1))}`;
    return `The left sign ${read(xs[0] ?? 0)}, the right sign ${read(xs.at(-1) ?? 0)}`;
  };
  const answer = (think: string): PolicyStep => ({ text: formatTurn({ think, answer: item.answer }) });
  const readAnswer = (frames: readonly EvidenceFrame[]): PolicyStep => {
    switch (family) {
      case "flash-digit":
        return answer(`The digit on the sign is ${item.answer}.`);
      case "count": {
        // Counting lit runs among 16 frames in one step stays at chance (session 9's probe); one
        // flash at a time is a pointing step: "flash k at <the first frame of run k>", then k.
        const starts = frames.filter((f, i) => isLit(f) && !(i > 0 && isLit(frames[i - 1]!)));
        // Only a list that adds up to the answer is taught (flashes one frame apart merge in view).
        const steps = opts.countSteps && starts.length === Number(item.answer) ? starts.map((f, i) => `flash ${i + 1} at ${f1(f.timestamp)} s , `).join("") : "";
        return answer(`${steps}The circle flashes ${item.answer} times.`);
      }
      case "order":
        return answer(`Right after red comes ${optionText(item.answer)}, option ${item.answer}.`);
      case "when": {
        // The first frame in view that shows the star (what the model can copy); the truth otherwise.
        const ts = Number(item.answer);
        const first = frames.find((f) => f.timestamp >= ts - 1e-6 && f.timestamp < cue.end);
        const t = first ? f1(first.timestamp) : item.answer;
        return { text: formatTurn({ think: `The star is first seen at ${t} s.`, answer: t }) };
      }
      case "small-code":
        return answer(`The code on the sign reads ${item.answer.split("").join(" ")}.`);
      case "change":
        return answer(opts.changeReads ? `${signReads(frames)}, option ${item.answer}.` : `The ${optionText(item.answer)}, option ${item.answer}.`);
    }
  };

  const margin = opts.changeMargin ?? 0;
  /** The clip frame change zooms at: margin frames before the last on the signs, moved later while it is before the change. */
  const zoomFrame = (onSigns: readonly EvidenceFrame[]): EvidenceFrame => {
    const changed = (item.evidence ?? []).at(-1)?.start ?? 0;
    let k = Math.max(0, onSigns.length - 1 - margin);
    while (k < onSigns.length - 1 && Number(f1(onSigns[k]!.timestamp)) < changed - 1e-6) k++;
    return onSigns[k]!;
  };
  /** The change route of opts.changeZoom (undefined: fall through to the answer). */
  const changeZoomStep = (stage: string, looks: readonly PolicyInput["history"][number][], frames: readonly EvidenceFrame[], seen: readonly EvidenceFrame[], video: Size): PolicyStep | undefined => {
    const xs = [...new Set(text.map((b) => b.x))].sort((a, b) => a - b);
    const zooms = regionZooms(looks);
    if (xs.length !== 2 || (stage !== "clip" && stage !== "close") || zooms.length > 4) return undefined;
    const onSigns = seen.length > 0 ? seen : frames;
    const t = stage === "clip" ? f1(zoomFrame(onSigns).timestamp) : f1(frames[0]!.timestamp);
    /** The sign's box shown at t (the changing sign has two: before and after its change). */
    const boxAt = (x: number) => {
      const b = text.find((b) => b.x === x && Number(t) >= b.from - 1e-6 && Number(t) < b.to);
      return b?.y !== undefined && b.cell !== undefined ? { ...b, y: b.y, cell: b.cell } : undefined;
    };
    const [left, right] = [boxAt(xs[0]!), boxAt(xs[1]!)];
    if (!left || !right) return undefined;
    const zoom = (think: string, region: Region): PolicyStep => ({ text: formatTurn({ think, call: { name: "get_frames", arguments: { timestamps: [Number(t)], rung: CLOSE_RUNG, region } } }) });
    const inView = zooms.length <= 2 ? left : right;
    const span = `The signs show from ${f1(onSigns[0]!.timestamp)} to ${f1(onSigns.at(-1)!.timestamp)} s.`;
    if (zooms.length === 0) return stage === "clip" ? zoom(margin > 0 ? `${span} I read the left sign at ${t} s closely.` : `${span} I read the left sign closely.`, signCrop(left, video)) : undefined;
    if (zooms.length % 2 === 1) return zoom("I read the digit closely.", readZoom(inView, video, item.id, opts.readJitter, (zooms.at(-1)!.call!.arguments as { region: Region }).region));
    const side = inView === left ? "left" : "right";
    /** The digits this side's options say its sign became (each option ends with one), in the options' order. */
    const became = (item.options ?? []).filter((o) => optionWords(o).startsWith(side)).map((o) => o.slice(-1));
    const read = `The ${side} sign reads ${inView.text}${opts.changeCompare ? `. The ${side} sign became ${became.join(" and ")}` : ""}`;
    if (zooms.length === 2 && !optionText(item.answer).startsWith("left")) return zoom(`${read}. I read the right sign closely.`, signCrop(right, video));
    return answer(`${read}, option ${item.answer}.`);
  };

  return {
    id: "teacher",
    async step(input: PolicyInput): Promise<PolicyStep> {
      const frames = input.evidence;
      const seen = frames.filter(inCue);
      const looks = input.history.filter((h) => h.observation.kind === "frames");
      const lastCall = looks.at(-1)?.call;
      const stage = !lastCall ? "overview" : lastCall.name !== "get_clip" ? "close" : looks.length === 1 ? "clip" : "clip2";
      const changeRoute = family === "change" && opts.changeZoom ? changeZoomStep(stage, looks, frames, seen, input.video) : undefined;
      if (input.turn.mustAnswer || input.tools.length === 0) return changeRoute && !changeRoute.text.includes("<tool_call>") ? changeRoute : readAnswer(frames);
      /** A dense low clip over [start, end] (the think names what is in view first). */
      const watch = (where: string, start: number, end: number) =>
        formatTurn({ think: `${where} I watch ${f1(start)} to ${f1(end)} s closely.`, call: { name: "get_clip", arguments: { start, end, count: Math.min(CLIP_FRAMES, input.budget.maxFramesPerCall), rung: "low" } } });

      if (stage === "overview") {
        const times = frames.map((f) => f.timestamp);
        const i0 = frames.findIndex(inCue);
        const i1 = frames.length - 1 - [...frames].reverse().findIndex(inCue);
        const last = floor1(input.video.duration);
        const start = i0 > 0 ? floor1(times[i0 - 1]!) : 0;
        const end = i0 >= 0 && i1 < frames.length - 1 ? floor1(times[i1 + 1]!) : last;
        const where = i0 < 0 ? "The sign is not in view, so I watch the whole video." : `The sign shows at ${f1(times[i0]!)} to ${f1(times[i1]!)} s.`;
        return {
          text: watch(where, start, i0 < 0 ? last : end),
        };
      }
      const lit = frames.filter((f) => text.some((b) => f.timestamp >= b.from - 1e-6 && f.timestamp < b.to));
      // Count always looks again (no frame tells it a flash was missed); flash-digit only when no
      // clip frame showed the digit.
      if (stage === "clip" && (family === "count" || (family === "flash-digit" && lit.length === 0)) && seen.length > 0) {
        // The segment alone, edge frames included: flashes sit >= 0.3 s inside it, and one
        // tinted frame alone still gets the frames around it.
        const i0 = frames.indexOf(seen[0]!), i1 = frames.indexOf(seen.at(-1)!);
        const [a, b] = i1 > i0 ? [frames[i0]!, frames[i1]!] : [frames[i0 - 1] ?? frames[i0]!, frames[i1 + 1] ?? frames[i1]!];
        const start = floor1(a.timestamp), end = floor1(b.timestamp);
        if (end - start >= 0.1 - 1e-9) {
          const what = family === "count" ? "The circle flashes" : "The sign shows";
          return { text: watch(`${what} from ${f1(start)} to ${f1(end)} s.`, start, end) };
        }
      }
      /** The middle clip frame showing text on the sign (else the cue, else the clip's middle): where small text is read. */
      const textTime = () => f1((lit[Math.floor(lit.length / 2)] ?? seen[Math.floor(seen.length / 2)] ?? frames[Math.floor(frames.length / 2)]!).timestamp);
      const sign = text[0];
      // Zooming needs to know where the text is (every synth generator writes y and cell).
      if (family === "small-code" && opts.zoomRegion && sign?.y !== undefined && sign.cell !== undefined) {
        const box = { ...sign, y: sign.y, cell: sign.cell };
        const zooms = regionZooms(looks);
        if (stage === "clip") {
          const t = textTime();
          const region = signCrop(box, input.video);
          return { text: formatTurn({ think: `Text shows on the sign at ${t} s. I read the sign closely.`, call: { name: "get_frames", arguments: { timestamps: [Number(t)], rung: CLOSE_RUNG, region } } }) };
        }
        if (stage === "close" && zooms.length === 1 && frames[0]) {
          const first = (zooms[0]!.call!.arguments as { region: Region }).region;
          // The read: READ_ZOOM_PX around the code, inside the first crop (where the model points within 4 px, 98%).
          const region = readZoom(box, input.video, item.id, opts.readJitter, first);
          return { text: formatTurn({ think: "I read the code closely.", call: { name: "get_frames", arguments: { timestamps: [Number(f1(frames[0].timestamp))], rung: CLOSE_RUNG, region } } }) };
        }
      }
      if (changeRoute) return changeRoute;
      if (stage === "clip" && family === "small-code") {
        const t = textTime();
        return { text: formatTurn({ think: `Text shows on the sign at ${t} s. I read it at the ${CLOSE_RUNG} rung.`, call: { name: "get_frames", arguments: { timestamps: [Number(t)], rung: CLOSE_RUNG } } }) };
      }
      if (stage === "clip" && family === "order" && !opts.orderFromClip) {
        // Zoom: the last red frame and the first frame of the next colour, alone, are the view the
        // model reads (98% in bench:reading-probe) where the whole clip is not (25%).
        const [red, next] = item.evidence ?? [];
        // Judged at the time the call will name (0.1 s): the frame on screen then must still show
        // that colour (a next-colour frame at 5.333 s asked for as 5.3 s would come back red).
        const within = (e: { start: number; end: number } | undefined) => frames.filter((f) => e !== undefined && Number(f1(f.timestamp)) >= e.start - 1e-6 && Number(f1(f.timestamp)) <= e.end + 1e-6);
        const a = within(red).at(-1), b = within(next)[0];
        if (a && b) {
          const ta = f1(a.timestamp), tb = f1(b.timestamp);
          return { text: formatTurn({ think: `The red shows at ${ta} s. I read ${ta} and ${tb} s closely.`, call: { name: "get_frames", arguments: { timestamps: [Number(ta), Number(tb)], rung: "low" } } }) };
        }
      }
      if (stage === "clip" && family === "change") {
        const a = seen[0] ?? frames[0]!;
        const b = seen[seen.length - 1] ?? frames[frames.length - 1]!;
        const ta = f1(a.timestamp), tb = f1(b.timestamp);
        return { text: formatTurn({ think: `The signs show from ${ta} to ${tb} s. I read both ends at the ${CLOSE_RUNG} rung.`, call: { name: "get_frames", arguments: { timestamps: [Number(ta), Number(tb)], rung: CLOSE_RUNG } } }) };
      }
      return readAnswer(frames);
    },
  };
}

export interface CueTrajectoryOptions {
  dataset: string;
  out: string;
  /** Uniform-baseline data instead: this many uniform frames at this rung, answered in one turn. */
  uniform?: { frames: number; rung: string };
  /** Questions run at once (each spawns ffmpeg). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Runs the cue teacher (or the uniform policy answered by it) through the real agent loop on
 * every item of a synthetic dataset and writes one trajectory record per line. Records whose
 * answer is not the item's answer are kept out (there are none unless a look failed).
 */
export async function writeCueTrajectories(opts: CueTrajectoryOptions): Promise<{ written: number; skipped: string[] }> {
  const items = await loadDataset(opts.dataset);
  const lines: string[] = new Array(items.length).fill("");
  const skipped: string[] = [];
  // Lines are appended as questions finish (a killed run leaves usable data), then rewritten in item order.
  await mkdir(dirname(resolve(opts.out)), { recursive: true });
  await writeFile(opts.out, "");
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      const item = items[k]!;
      const teacher = createCueTeacher(item);
      const policy = opts.uniform ? createUniformPolicy({ ...opts.uniform, answerer: teacher }) : teacher;
      const r = await answer({
        video: videoPath(opts.dataset, item),
        question: item.question,
        ...(item.options ? { options: item.options } : {}),
        policy,
        settings: { ladder: "tiny" },
        ...(opts.signal ? { signal: opts.signal } : {}),
        item: { id: item.id, file: resolve(opts.dataset) },
        meta: { family: item.meta.family, teacher: opts.uniform ? "uniform" : "cue" },
      });
      if (r.answer === null || r.error) skipped.push(item.id);
      else {
        lines[k] = JSON.stringify(r.record);
        // The video layer's caches are warm now: storing the record's evidence here spares training the probes and decodes.
        await evidenceByTurn(r.record);
        await appendFile(opts.out, lines[k] + "\n");
      }
      opts.onProgress?.(++done, items.length);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 2 }, worker));
  const kept = lines.filter((l) => l.length > 0);
  await writeFile(opts.out, kept.join("\n") + (kept.length ? "\n" : ""));
  return { written: kept.length, skipped };
}
