/**
 * What every benchmark loader shares: finding videos under a user-given folder (benchmarks nest
 * their videos differently, so files are matched by relative path first, then by name), option
 * lettering, and the import result with missing videos reported instead of failing.
 */
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { FramemindError } from "../../src/errors.js";
import type { DatasetItem } from "../schema.js";

export const FORMATS = ["mvbench", "videomme", "mlvu"] as const;
export type BenchmarkFormat = (typeof FORMATS)[number];

/** A loader's view of one question before the video is resolved. */
export interface RawItem extends Omit<DatasetItem, "video"> {
  /** The video as the annotation names it (a relative path or a bare name). */
  videoRef: string;
}

export interface ImportResult {
  items: DatasetItem[];
  /** Questions whose video was not found under the videos folder (left out of `items`). */
  missing: Array<{ id: string; video: string }>;
  /** Annotation entries that could not be mapped, with the reason. */
  skipped: Array<{ index: number; reason: string }>;
}

const VIDEO_EXT = [".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v"];
const MAX_INDEXED = 200_000;

/** Files under `dir` by name (and by name without extension), for annotations that give bare ids. */
export class VideoFolder {
  private readonly byName = new Map<string, string>();
  constructor(readonly dir: string) {
    const stack = [resolve(dir)];
    let n = 0;
    while (stack.length && n < MAX_INDEXED) {
      const d = stack.pop()!;
      let entries;
      try {
        entries = readdirSync(d, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) {
        const p = join(d, e.name);
        if (e.isDirectory()) stack.push(p);
        else if (e.isFile()) {
          n++;
          const rel = relative(resolve(dir), p);
          this.byName.set(rel, p);
          if (!this.byName.has(e.name)) this.byName.set(e.name, p);
          const dot = e.name.lastIndexOf(".");
          if (dot > 0 && VIDEO_EXT.includes(e.name.slice(dot).toLowerCase()) && !this.byName.has(e.name.slice(0, dot))) this.byName.set(e.name.slice(0, dot), p);
        }
      }
    }
  }
  /** Absolute path of a referenced video, or undefined. */
  find(ref: string): string | undefined {
    return this.byName.get(ref) ?? this.byName.get(basename(ref)) ?? VIDEO_EXT.map((x) => this.byName.get(basename(ref) + x)).find(Boolean);
  }
}

/** ["red", "blue"] -> ["A. red", "B. blue"]; already-lettered options are kept. */
export function letterOptions(texts: readonly string[]): string[] {
  return texts.map((t, k) => (/^[A-Z]\. /.test(t) && t.charCodeAt(0) === 65 + k ? t : `${String.fromCharCode(65 + k)}. ${t.replace(/^\(?[A-Z][.)]\s*/, "")}`));
}

/** Letter of the candidate equal to `answer` (candidates given as plain text). */
export function answerLetter(candidates: readonly string[], answer: string): string | undefined {
  const k = candidates.findIndex((c) => c.trim() === answer.trim());
  return k < 0 ? undefined : String.fromCharCode(65 + k);
}

export async function readJson(path: string, format: BenchmarkFormat): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new FramemindError("FM_ERR_DATA_NOT_FOUND", { path });
  }
  try {
    // Some releases ship JSON lines instead of one array.
    if (/\.jsonl$/i.test(path)) return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new FramemindError("FM_ERR_DATA_FORMAT", { path, format, reason: `not JSON (${(e as Error).message})` });
  }
}

/** Resolves videos and makes `video` relative to the output JSONL's folder. */
export function resolveVideos(raw: readonly RawItem[], folder: VideoFolder, outFile: string, skipped: ImportResult["skipped"]): ImportResult {
  const res: ImportResult = { items: [], missing: [], skipped };
  const outDir = dirname(resolve(outFile));
  for (const r of raw) {
    const found = folder.find(r.videoRef);
    if (!found) {
      res.missing.push({ id: r.id, video: r.videoRef });
      continue;
    }
    const { videoRef: _ref, ...rest } = r;
    res.items.push({ ...rest, video: relative(outDir, found) });
  }
  return res;
}
