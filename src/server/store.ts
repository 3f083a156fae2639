/**
 * TrajectoryStore: trajectory records persisted on disk with the frames each observation showed
 * (PNG thumbnails at the resolution the policy saw them; the video itself is not kept).
 * Shared by the HTTP server (JSON route + viewer) and the MCP server (framemind://trajectories/{id}).
 *
 *   const store = new TrajectoryStore({ dir, retain: 1000 });
 *   await store.save(record, thumbnails);     // atomic: a temp file, then renamed into place
 *   const t = await store.get(id);            // { record, frames } | undefined
 *   const recent = await store.list();        // newest first: { id, createdAt, question, answer }
 *   const png = await store.readFrame(id, t.frames[0].file);
 *
 * One file per trajectory, `<dir>/<id>.trj`: a one-line JSON header ({record, frames} with each
 * frame's byte range) followed by the PNGs. One write and one rename per question (a folder of
 * files cost five times the time per answer under load), and readers (other processes
 * included) never see a half-written trajectory. Beyond `retain` trajectories the oldest are
 * removed. Everything survives a restart: the index is rebuilt from the folder on first use.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { TrajectorySchema, type Trajectory } from "../agent/trajectory.js";

/** One frame shown to the policy, as handed to save(). */
export interface Thumbnail {
  /** 0 = the first observation, i + 1 = the result of turn i. */
  observation: number;
  /** Position within the observation. */
  index: number;
  timestamp: number;
  width: number;
  height: number;
  tokens: number;
  rung: string;
  png: Buffer;
}

export const StoredFrameSchema = z.object({
  file: z.string(),
  observation: z.number().int().min(0),
  index: z.number().int().min(0),
  timestamp: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  tokens: z.number().int(),
  rung: z.string(),
});
export type StoredFrame = z.infer<typeof StoredFrameSchema>;

/** On-disk header: the public frame list plus each PNG's byte range after the header line. */
const HeaderSchema = z.object({
  record: TrajectorySchema,
  frames: z.array(StoredFrameSchema.extend({ offset: z.number().int().min(0), length: z.number().int().min(0) })),
});

export interface StoredTrajectory {
  record: Trajectory;
  frames: StoredFrame[];
}

export interface TrajectorySummary {
  id: string;
  createdAt: string;
  question: string;
  answer: string | null;
}

export interface TrajectoryStoreOptions {
  dir: string;
  /** Most trajectories kept; the oldest are removed beyond it (default 1000). */
  retain?: number;
}

const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const FILE_RE = /^o\d{1,4}-\d{1,4}\.png$/;
const EXT = ".trj";

interface Parsed {
  header: z.infer<typeof HeaderSchema>;
  body: Buffer;
}

export class TrajectoryStore {
  readonly dir: string;
  readonly retain: number;
  /** id -> summary, in save order (oldest first); built lazily from disk. */
  private index?: Map<string, TrajectorySummary>;
  private loading?: Promise<void>;
  /** The last few files read: a viewer page fetches all thumbnails of one trajectory at once. */
  private readonly recent = new Map<string, { mtimeMs: number; parsed: Parsed }>();

  constructor(opts: TrajectoryStoreOptions) {
    this.dir = opts.dir;
    this.retain = Math.max(1, opts.retain ?? 1000);
  }

  static isValidId(id: string): boolean {
    return ID_RE.test(id);
  }

  /** Saves a record and its thumbnails atomically; returns the stored frame list. */
  async save(record: Trajectory, thumbnails: readonly Thumbnail[] = []): Promise<StoredFrame[]> {
    if (!ID_RE.test(record.id)) throw new Error(`invalid trajectory id: ${record.id}`);
    await this.load();
    const frames: StoredFrame[] = [];
    const ranges: Array<StoredFrame & { offset: number; length: number }> = [];
    let offset = 0;
    for (const t of thumbnails) {
      const f: StoredFrame = { file: `o${t.observation}-${t.index}.png`, observation: t.observation, index: t.index, timestamp: t.timestamp, width: t.width, height: t.height, tokens: t.tokens, rung: t.rung };
      frames.push(f);
      ranges.push({ ...f, offset, length: t.png.length });
      offset += t.png.length;
    }
    // JSON.stringify escapes newlines inside strings: the header is exactly one line.
    const header = Buffer.from(JSON.stringify({ record, frames: ranges }) + "\n");
    const final = join(this.dir, record.id + EXT);
    const tmp = `${final}.tmp-${randomBytes(4).toString("hex")}`;
    try {
      await writeFile(tmp, Buffer.concat([header, ...thumbnails.map((t) => t.png)]));
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    this.recent.delete(record.id);
    this.index!.delete(record.id);
    this.index!.set(record.id, { id: record.id, createdAt: record.createdAt, question: record.question, answer: record.answer });
    await this.enforceRetention();
    return frames;
  }

  async get(id: string): Promise<StoredTrajectory | undefined> {
    const p = await this.read(id);
    if (!p) return undefined;
    return { record: p.header.record, frames: p.header.frames.map(({ offset: _o, length: _l, ...f }) => f) };
  }

  /** Newest first. */
  async list(limit = 100): Promise<TrajectorySummary[]> {
    await this.load();
    return [...this.index!.values()].reverse().slice(0, limit);
  }

  async readFrame(id: string, file: string): Promise<Buffer | undefined> {
    if (!FILE_RE.test(file)) return undefined;
    const p = await this.read(id);
    const f = p?.header.frames.find((x) => x.file === file);
    return f && p ? p.body.subarray(f.offset, f.offset + f.length) : undefined;
  }

  async delete(id: string): Promise<void> {
    if (!ID_RE.test(id)) return;
    await this.load();
    this.index!.delete(id);
    this.recent.delete(id);
    await rm(join(this.dir, id + EXT), { force: true });
  }

  private async read(id: string): Promise<Parsed | undefined> {
    if (!ID_RE.test(id)) return undefined;
    const path = join(this.dir, id + EXT);
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      return undefined;
    }
    const hit = this.recent.get(id);
    if (hit && hit.mtimeMs === mtimeMs) return hit.parsed;
    const parsed = parse(await readFile(path).catch(() => undefined));
    if (!parsed) return undefined;
    this.recent.set(id, { mtimeMs, parsed });
    if (this.recent.size > 8) this.recent.delete(this.recent.keys().next().value as string);
    return parsed;
  }

  private async enforceRetention(): Promise<void> {
    const idx = this.index!;
    while (idx.size > this.retain) {
      const oldest = idx.keys().next().value as string;
      idx.delete(oldest);
      this.recent.delete(oldest);
      await rm(join(this.dir, oldest + EXT), { force: true });
    }
  }

  /** Rebuilds the index from disk once (also removes temp files left by a crash). */
  private load(): Promise<void> {
    return (this.loading ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const entries: Array<TrajectorySummary & { mtimeMs: number }> = [];
      for (const name of await readdir(this.dir)) {
        const p = join(this.dir, name);
        if (name.includes(`${EXT}.tmp-`)) {
          await rm(p, { force: true });
          continue;
        }
        if (!name.endsWith(EXT) || !ID_RE.test(name.slice(0, -EXT.length))) continue;
        try {
          const st = await stat(p);
          const parsed = parse(await readFile(p));
          if (!parsed) continue;
          const { record } = parsed.header;
          entries.push({ id: record.id, createdAt: record.createdAt, question: record.question, answer: record.answer, mtimeMs: st.mtimeMs });
        } catch {
          // Unreadable: left alone, not listed.
        }
      }
      entries.sort((a, b) => a.mtimeMs - b.mtimeMs || a.createdAt.localeCompare(b.createdAt));
      this.index = new Map(entries.map(({ mtimeMs: _m, ...e }) => [e.id, e]));
      await this.enforceRetention();
    })());
  }
}

function parse(buf: Buffer | undefined): Parsed | undefined {
  if (!buf) return undefined;
  const nl = buf.indexOf(0x0a);
  if (nl < 0) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(buf.subarray(0, nl).toString("utf8"));
  } catch {
    return undefined;
  }
  const r = HeaderSchema.safeParse(json);
  return r.success ? { header: r.data, body: buf.subarray(nl + 1) } : undefined;
}
