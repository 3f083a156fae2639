/** Benchmark annotation files -> dataset items (DESIGN.md §7), one mapper per benchmark. */
import { FramemindError } from "../../src/errors.js";
import { DatasetItem } from "../schema.js";
import { FORMATS, readJson, resolveVideos, VideoFolder, type BenchmarkFormat, type ImportResult, type RawItem } from "./common.js";
import { mapMlvu } from "./mlvu.js";
import { mapMvbench } from "./mvbench.js";
import { mapVideomme } from "./videomme.js";

export { FORMATS, type BenchmarkFormat, type ImportResult } from "./common.js";

const MAPPERS: Record<BenchmarkFormat, (entries: unknown[], file: string, skipped: ImportResult["skipped"]) => RawItem[]> = {
  mvbench: mapMvbench,
  videomme: mapVideomme,
  mlvu: mapMlvu,
};

export interface ImportRequest {
  format: BenchmarkFormat;
  annotations: string;
  videos: string;
  /** The JSONL the items will be written to (videos are made relative to its folder). */
  out: string;
}

export async function importBenchmark(req: ImportRequest): Promise<ImportResult> {
  const data = await readJson(req.annotations, req.format);
  // Hugging Face exports sometimes wrap rows: {"data": [...]} / {"test": [...]}.
  const entries = Array.isArray(data) ? data : typeof data === "object" && data !== null ? Object.values(data).find(Array.isArray) : undefined;
  if (!entries) throw new FramemindError("FM_ERR_DATA_FORMAT", { path: req.annotations, format: req.format, reason: "expected a list of entries" });
  const skipped: ImportResult["skipped"] = [];
  const raw = MAPPERS[req.format](entries as unknown[], req.annotations, skipped);
  if (raw.length === 0 && entries.length > 0) {
    const reason = `no entry matched the ${req.format} layout (first problem: ${skipped[0]?.reason ?? "unknown"})`;
    throw new FramemindError("FM_ERR_DATA_FORMAT", { path: req.annotations, format: req.format, reason });
  }
  const res = resolveVideos(raw, new VideoFolder(req.videos), req.out, skipped);
  // The mapped items go through the one schema like any hand-written dataset.
  res.items = res.items.map((i) => DatasetItem.parse(i));
  return res;
}

export const isFormat = (s: string): s is BenchmarkFormat => (FORMATS as readonly string[]).includes(s);
