/**
 * The synthetic suite generator: seeded items (geometry, cue segment, family draw) rendered in
 * TypeScript and encoded to h264 by src/video's encoder, plus the dataset JSONL and a manifest
 * recording everything the output depends on.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Rng } from "../../src/nn/rng.js";
import { throwIfAborted } from "../../src/errors.js";
import { binaries, binaryVersion, encodeVideo, LADDERS, targetSize, type Size } from "../../src/video/index.js";
import { toJsonl } from "../io.js";
import type { DatasetItem } from "../schema.js";
import { FAMILIES, FAMILY_SPECS, type Family, type Geometry } from "./families.js";
import type { Mover, Scene } from "./scene.js";
import { renderFrames } from "./scene.js";

/** synth/2: `change` options no longer leak their answer (families.ts); every video and every other item as in synth/1. */
export const GENERATOR_VERSION = "synth/2";
export const SPLITS = ["train", "val", "test"] as const;
export type Split = (typeof SPLITS)[number];

const SIZES: ReadonlyArray<readonly [number, number]> = [
  [224, 224],
  [320, 180],
  [240, 180],
];
const FPS = [10, 12, 15];
const MOVER_COLORS = [
  [120, 100, 80],
  [105, 105, 105],
  [90, 115, 95],
] as const;

/**
 * Item seed: a hash of (suite seed, index) with the split in the low two bits, so two splits can
 * never produce the same item seed whatever suite seeds they are given.
 */
export function itemSeed(seed: number, split: Split, index: number): number {
  const h = new Rng(seed).fork(index).nextU32();
  return ((h & ~3) | SPLITS.indexOf(split)) >>> 0;
}

const rungSize = (src: Size, rung: "low" | "high") => targetSize(src, { ladder: "tiny", rung });

export function geometry(width: number, height: number, fps: number, duration: number): Geometry {
  const src = { width, height };
  const low = rungSize(src, "low"), high = rungSize(src, "high");
  return {
    width,
    height,
    fps,
    duration,
    srcPerLow: Math.max(width / low.width, height / low.height),
    srcPerHigh: Math.max(width / high.width, height / high.height),
    lowPixels: low.width * low.height,
    highPixels: high.width * high.height,
  };
}

/** Most videos are short (10-40 s); some medium; a few long (up to 3 min). */
function drawDuration(rng: Rng): number {
  const u = rng.uniform();
  if (u < 0.75) return 10 + Math.round(rng.uniform() * 30);
  if (u < 0.93) return 40 + Math.round(rng.uniform() * 50);
  return 90 + Math.round(rng.uniform() * 90);
}

export interface SynthItem {
  item: DatasetItem;
  scene: Scene;
}

/** Everything about one item, without rendering: a pure function of (split, index, seed). */
export function makeItem(seed: number, split: Split, index: number): SynthItem {
  const s = itemSeed(seed, split, index);
  const rng = new Rng(s);
  const family: Family = FAMILIES[index % FAMILIES.length]!;
  const spec = FAMILY_SPECS[family];
  const [width, height] = SIZES[rng.int(SIZES.length)]!;
  const fps = FPS[rng.int(FPS.length)]!;
  const duration = drawDuration(rng);
  const g = geometry(width, height, fps, duration);
  // The cue segment is at least the 8-frame overview's spacing plus one keyframe interval, so
  // exact and keyframe-tolerant overviews both land in it.
  const len = Math.round(Math.max(spec.minSegment, duration / 8 + 1) * fps) / fps;
  const start = Math.round((0.5 + rng.uniform() * (duration - 1 - len)) * fps) / fps;
  const cue = { start, end: Math.round((start + len) * fps) / fps };
  const draw = spec.draw(rng.fork(1), g, cue);
  const movers: Mover[] = Array.from({ length: 2 + rng.int(2) }, (_, k) => ({
    kind: rng.int(2) === 0 ? "disc" : "rect",
    size: Math.round((0.08 + 0.06 * rng.uniform()) * Math.min(width, height)),
    color: MOVER_COLORS[k % MOVER_COLORS.length]!,
    x0: rng.uniform() * width,
    y0: rng.uniform() * height,
    vx: (rng.uniform() - 0.5) * 60,
    vy: (rng.uniform() - 0.5) * 40,
  }));
  const scene: Scene = { width, height, fps, frameCount: Math.round(duration * fps), textureSeed: rng.nextU32(), scroll: 4 + rng.uniform() * 8, cue, movers, layers: draw.layers };
  const id = `synth-${split}-${String(index).padStart(5, "0")}-${family}`;
  const item: DatasetItem = {
    id,
    video: `videos/${id}.mp4`,
    question: draw.question,
    ...(draw.options ? { options: draw.options } : {}),
    answer: draw.answer,
    answer_type: draw.answer_type,
    evidence: draw.evidence,
    meta: {
      family,
      split,
      index,
      seed: s,
      generator: GENERATOR_VERSION,
      width,
      height,
      fps,
      duration,
      cue,
      ...(draw.tolerance !== undefined ? { tolerance: draw.tolerance } : {}),
      text: draw.text,
    },
  };
  return { item, scene };
}

export interface GenerateOptions {
  split: Split;
  n: number;
  seed: number;
  out: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface GenerateResult {
  jsonl: string;
  manifest: string;
  items: DatasetItem[];
}

/** Writes `<out>/<split>.jsonl`, `<out>/videos/*.mp4` and `<out>/<split>.manifest.json`. */
export async function generateSuite(opts: GenerateOptions): Promise<GenerateResult> {
  await mkdir(join(opts.out, "videos"), { recursive: true });
  const items: DatasetItem[] = [];
  opts.onProgress?.(0, opts.n);
  for (let i = 0; i < opts.n; i++) {
    throwIfAborted(opts.signal);
    const { item, scene } = makeItem(opts.seed, opts.split, i);
    const file = join(opts.out, item.video);
    await rm(file, { force: true });
    await encodeVideo({ out: file, width: scene.width, height: scene.height, fps: scene.fps, codec: "h264", gop: scene.fps, frames: renderFrames(scene), signal: opts.signal });
    items.push(item);
    opts.onProgress?.(i + 1, opts.n);
  }
  const jsonl = join(opts.out, `${opts.split}.jsonl`);
  await writeFile(jsonl, toJsonl(items));
  const ff = binaries().ffmpeg;
  const manifest = join(opts.out, `${opts.split}.manifest.json`);
  const families = Object.fromEntries(FAMILIES.map((f) => [f, items.filter((x) => x.meta.family === f).length]));
  await writeFile(
    manifest,
    JSON.stringify(
      {
        generator: GENERATOR_VERSION,
        split: opts.split,
        n: opts.n,
        seed: opts.seed,
        ladder: { name: "tiny", rungs: LADDERS.tiny.rungs },
        encoder: { codec: "h264", crf: 23, keyframe_interval_s: 1, ffmpeg: ff.path, ffmpeg_version: binaryVersion(ff).version },
        node: process.version,
        families,
        jsonl: `${opts.split}.jsonl`,
      },
      null,
      2,
    ) + "\n",
  );
  return { jsonl, manifest, items };
}
