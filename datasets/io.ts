/**
 * Reading and writing dataset JSONL. One reader for every consumer (data check, eval, teacher):
 * each line is parsed and validated on its own, so one bad line never hides the others.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { FramemindError } from "../src/errors.js";
import { DatasetItem } from "./schema.js";

export interface LineError {
  /** 1-based line number in the file. */
  line: number;
  message: string;
}

export interface DatasetFile {
  path: string;
  /** Valid items with their line numbers. */
  items: Array<{ line: number; item: DatasetItem }>;
  errors: LineError[];
  /** Non-empty lines. */
  lines: number;
}

export interface ReadOptions {
  /** Also report items whose video file does not exist (default true). */
  checkVideos?: boolean;
}

/** Absolute path of an item's video (`video` is relative to the JSONL's folder). */
export function videoPath(datasetFile: string, item: Pick<DatasetItem, "video">): string {
  return isAbsolute(item.video) ? item.video : resolve(dirname(datasetFile), item.video);
}

/** Reads a JSONL dataset; never throws for bad lines (they are listed with line numbers). */
export async function readDataset(path: string, opts: ReadOptions = {}): Promise<DatasetFile> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new FramemindError("FM_ERR_DATA_NOT_FOUND", { path });
  const text = await readFile(path, "utf8");
  const out: DatasetFile = { path, items: [], errors: [], lines: 0 };
  const seen = new Map<string, number>();
  text.split("\n").forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") return;
    out.lines++;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      out.errors.push({ line, message: `not JSON: ${(e as Error).message}` });
      return;
    }
    const r = DatasetItem.safeParse(value);
    if (!r.success) {
      out.errors.push({ line, message: r.error.issues.map((iss) => `${iss.path.join(".") || "item"}: ${iss.message}`).join("; ") });
      return;
    }
    const item = r.data;
    const problems: string[] = [];
    const first = seen.get(item.id);
    if (first !== undefined) problems.push(`duplicate id '${item.id}' (first on line ${first})`);
    else seen.set(item.id, line);
    if ((opts.checkVideos ?? true) && !existsSync(videoPath(path, item))) problems.push(`video not found: ${videoPath(path, item)}`);
    if (problems.length) out.errors.push({ line, message: problems.join("; ") });
    else out.items.push({ line, item });
  });
  return out;
}

/** Loads a dataset for use (eval, teacher): any bad line is an error listing the first few. */
export async function loadDataset(path: string): Promise<DatasetItem[]> {
  const d = await readDataset(path);
  if (d.errors.length) {
    const detail = d.errors.slice(0, 20).map((e) => `line ${e.line}: ${e.message}`).join("\n");
    throw new FramemindError("FM_ERR_DATA_INVALID", { path, bad: d.errors.length, total: d.lines }, { detail });
  }
  return d.items.map((x) => x.item);
}

export function toJsonl(items: readonly DatasetItem[]): string {
  return items.map((i) => JSON.stringify(i)).join("\n") + (items.length ? "\n" : "");
}

export async function writeDataset(path: string, items: readonly DatasetItem[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, toJsonl(items));
}
