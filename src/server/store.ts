/**
 * TrajectoryStore: trajectory records persisted on disk with the frames each observation showed
 * (PNG thumbnails at the resolution the policy saw them; the video itself is not kept).
 * Shared by the HTTP server (JSON route + viewer) and the MCP server (framemind://trajectories/{id}).
 *
 *   const store = new TrajectoryStore({ dir, retain: 1000 });
 *   await store.save(record, thumbnails);     // atomic: written to a temp folder, then renamed
 *   const t = await store.get(id);            // { record, frames } | undefined
 *   const recent = await store.list();        // newest first: { id, createdAt, question, answer }
 *   const png = await store.readFrame(id, t.frames[0].file);
 *
 * Layout: `<dir>/<id>/trajectory.json` ({record, frames}) and `<dir>/<id>/o<obs>-<k>.png`.
 * A save renames a complete folder into place, so readers (other processes included) never see
 * a half-written trajectory. Beyond `retain` trajectories the oldest are removed. Everything
 * survives a restart: the index is rebuilt from the folder on first use.
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

const StoredSchema = z.object({ record: TrajectorySchema, frames: z.array(StoredFrameSchema) });
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
const RECORD = "trajectory.json";

export class TrajectoryStore {
  readonly dir: string;
  readonly retain: number;
  /** id -> summary, in save order (oldest first); built lazily from disk. */
  private index?: Map<string, TrajectorySummary & { mtimeMs: number }>;
  private loading?: Promise<void>;

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
    const tmp = join(this.dir, `.tmp-${record.id}-${randomBytes(4).toString("hex")}`);
    await mkdir(tmp, { recursive: true });
    try {
      const frames: StoredFrame[] = [];
      for (const t of thumbnails) {
        const file = `o${t.observation}-${t.index}.png`;
        await writeFile(join(tmp, file), t.png);
        frames.push({ file, observation: t.observation, index: t.index, timestamp: t.timestamp, width: t.width, height: t.height, tokens: t.tokens, rung: t.rung });
      }
      await writeFile(join(tmp, RECORD), JSON.stringify({ record, frames }));
      const final = join(this.dir, record.id);
      // rename() cannot replace a non-empty folder: move the old one aside first.
      const old = `${final}.old-${randomBytes(4).toString("hex")}`;
      const replaced = await rename(final, old).then(
        () => true,
        () => false,
      );
      await rename(tmp, final);
      if (replaced) await rm(old, { recursive: true, force: true });
      this.index!.delete(record.id);
      this.index!.set(record.id, { id: record.id, createdAt: record.createdAt, question: record.question, answer: record.answer, mtimeMs: Date.now() });
      await this.enforceRetention();
      return frames;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  async get(id: string): Promise<StoredTrajectory | undefined> {
    if (!ID_RE.test(id)) return undefined;
    let text: string;
    try {
      text = await readFile(join(this.dir, id, RECORD), "utf8");
    } catch {
      return undefined;
    }
    return StoredSchema.parse(JSON.parse(text));
  }

  /** Newest first. */
  async list(limit = 100): Promise<TrajectorySummary[]> {
    await this.load();
    return [...this.index!.values()]
      .reverse()
      .slice(0, limit)
      .map(({ id, createdAt, question, answer }) => ({ id, createdAt, question, answer }));
  }

  async readFrame(id: string, file: string): Promise<Buffer | undefined> {
    if (!ID_RE.test(id) || !FILE_RE.test(file)) return undefined;
    return readFile(join(this.dir, id, file)).catch(() => undefined);
  }

  async delete(id: string): Promise<void> {
    if (!ID_RE.test(id)) return;
    await this.load();
    this.index!.delete(id);
    await rm(join(this.dir, id), { recursive: true, force: true });
  }

  private async enforceRetention(): Promise<void> {
    const idx = this.index!;
    while (idx.size > this.retain) {
      const oldest = idx.keys().next().value as string;
      idx.delete(oldest);
      await rm(join(this.dir, oldest), { recursive: true, force: true });
    }
  }

  /** Rebuilds the index from disk once (also removes temp folders left by a crash). */
  private load(): Promise<void> {
    return (this.loading ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      const entries: Array<TrajectorySummary & { mtimeMs: number }> = [];
      for (const name of await readdir(this.dir)) {
        const p = join(this.dir, name);
        if (name.startsWith(".tmp-") || name.includes(".old-")) {
          await rm(p, { recursive: true, force: true });
          continue;
        }
        if (!ID_RE.test(name)) continue;
        try {
          const st = await stat(join(p, RECORD));
          const { record } = StoredSchema.parse(JSON.parse(await readFile(join(p, RECORD), "utf8")));
          entries.push({ id: record.id, createdAt: record.createdAt, question: record.question, answer: record.answer, mtimeMs: st.mtimeMs });
        } catch {
          // Not ours or unreadable: left alone, not listed.
        }
      }
      entries.sort((a, b) => a.mtimeMs - b.mtimeMs || a.createdAt.localeCompare(b.createdAt));
      this.index = new Map(entries.map((e) => [e.id, e]));
      await this.enforceRetention();
    })());
  }
}
