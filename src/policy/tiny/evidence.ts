/**
 * The frames a trajectory record showed at each turn, fetched again through the same tools the
 * loop used (first observation, then each call's result), so training sees what the policy saw.
 *
 * Fetching needs a probe per video (ffprobe, not persisted by the video layer) plus the frame
 * requests; for thousands of records that dominates data loading. So results are also kept in
 * an evidence cache (one file per record, keyed by the video's identity and the record's
 * requests): the teacher writer fills it while the video layer's caches are still warm, and
 * every later training run reads it without starting ffmpeg.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../nn/index.js";
import { uniformTimes } from "../../video/index.js";
import { getClipTool, getFramesTool, type FramesOutput, type ToolContext } from "../../../tools/index.js";
import type { Trajectory } from "../../agent/trajectory.js";
import type { EvidenceFrame } from "../types.js";

export type Frames = Pick<EvidenceFrame, "timestamp" | "width" | "height" | "rgb" | "region">[];

let cacheDir: string | undefined;

/** Where evidence files are kept (undefined: always fetch). */
export function setEvidenceCacheDir(dir: string | undefined): void {
  cacheDir = dir;
  if (dir) mkdirSync(dir, { recursive: true });
}

function keyOf(rec: Trajectory): string {
  let id = rec.video.path;
  try {
    const s = statSync(rec.video.path);
    id += `:${s.size}:${s.mtimeMs}`;
  } catch {
    // A missing video fails in the fetch below with the video layer's error.
  }
  const calls = rec.turns.map((t) => (t.call && t.result ? t.call : null));
  return createHash("sha256").update(JSON.stringify([id, rec.settings.ladder, rec.settings.firstObservation, rec.video.duration, calls])).digest("hex").slice(0, 32);
}

interface Header {
  turns: { timestamp: number; width: number; height: number; bytes: number; region?: EvidenceFrame["region"] }[][];
}

function encode(turns: Frames[]): Buffer {
  const header: Header = { turns: turns.map((fs) => fs.map((f) => ({ timestamp: f.timestamp, width: f.width, height: f.height, bytes: f.rgb.length, ...(f.region ? { region: f.region } : {}) }))) };
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.length, 0);
  // Frames repeat across turns (the evidence persists after an error): store each turn's own copy; they are small.
  return Buffer.concat([len, h, ...turns.flatMap((fs) => fs.map((f) => f.rgb))]);
}

function decode(buf: Buffer): Frames[] {
  const n = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + n).toString("utf8")) as Header;
  let off = 4 + n;
  return header.turns.map((fs) =>
    fs.map((f) => {
      const rgb = buf.subarray(off, off + f.bytes);
      off += f.bytes;
      return { timestamp: f.timestamp, width: f.width, height: f.height, rgb, ...(f.region ? { region: f.region } : {}) };
    }),
  );
}

async function fetchEvidence(rec: Trajectory): Promise<Frames[]> {
  const ctx: ToolContext = { ladder: rec.settings.ladder as ToolContext["ladder"], paths: {}, maxFrames: 64 };
  const frames = (r: FramesOutput): Frames => r.frames.map((f) => ({ timestamp: f.timestamp, width: f.width, height: f.height, rgb: f.rgb, ...(r.region ? { region: r.region } : {}) }));
  const fo = rec.settings.firstObservation;
  let current = frames(await getFramesTool.run(rec.video.path, { timestamps: uniformTimes(rec.video.duration, fo.frames), rung: fo.rung, mode: fo.mode }, ctx));
  const out: Frames[] = [];
  for (const t of rec.turns) {
    out.push(current);
    if (t.call && t.result) {
      const tool = t.call.name === "get_clip" ? getClipTool : getFramesTool;
      current = frames(await tool.run(rec.video.path, t.call.arguments as never, ctx));
    }
  }
  return out;
}

/** The evidence in view at each turn of a record (from the evidence cache when present). */
export async function evidenceByTurn(rec: Trajectory): Promise<Frames[]> {
  const file = cacheDir ? join(cacheDir, `${keyOf(rec)}.bin`) : undefined;
  if (file && existsSync(file)) return decode(readFileSync(file));
  const ev = await fetchEvidence(rec);
  if (file) writeFileAtomic(file, encode(ev));
  return ev;
}
