/**
 * Uploaded videos. `readMultipart` streams a multipart body's single file part to a temp file
 * (never buffered; cut at the size cap -> 413) and collects the text fields. `VideoStore` keeps
 * uploads made with POST /v1/videos under an id until their time to live runs out; a lease keeps
 * a file on disk while a question is reading it, even if it is deleted or expires meanwhile.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { extname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { FastifyRequest } from "fastify";
import { FramemindError } from "../errors.js";
import { probe, type VideoInfo } from "../video/index.js";

export interface UploadedFile {
  path: string;
  filename: string;
  mimetype: string;
  bytes: number;
}

export interface MultipartResult {
  fields: Record<string, string | string[]>;
  file?: UploadedFile;
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("base64url")}`;
}

/** A safe file extension from an uploaded name (ffmpeg probes content, the extension only helps). */
function safeExt(filename: string): string {
  const e = extname(filename).toLowerCase();
  return /^\.[a-z0-9]{1,5}$/.test(e) ? e : ".bin";
}

/** Reads a multipart body: fields as strings (repeated fields become arrays), at most one file. */
export async function readMultipart(request: FastifyRequest, opts: { dir: string; maxBytes: number; fileField?: string }): Promise<MultipartResult> {
  if (!request.isMultipart()) {
    throw new FramemindError("FM_ERR_SERVER_UNSUPPORTED_MEDIA", { type: request.headers["content-type"] ?? "(none)", expected: "multipart/form-data" });
  }
  await mkdir(opts.dir, { recursive: true });
  const fields: Record<string, string | string[]> = {};
  let file: UploadedFile | undefined;
  try {
    for await (const part of request.parts({ limits: { fileSize: opts.maxBytes, files: 1, fields: 32, fieldSize: 64 * 1024 } })) {
      if (part.type === "file") {
        const path = join(opts.dir, `${newId("up")}${safeExt(part.filename ?? "")}`);
        // Recorded before writing so a failure mid-stream still removes the partial file.
        file = { path, filename: part.filename ?? "upload", mimetype: part.mimetype, bytes: 0 };
        let bytes = 0;
        part.file.on("data", (b: Buffer) => (bytes += b.length));
        await pipeline(part.file, createWriteStream(path));
        if (part.file.truncated) throw new FramemindError("FM_ERR_SERVER_PAYLOAD_TOO_LARGE", { what: "the uploaded video", limit: opts.maxBytes });
        file.bytes = bytes;
      } else {
        const v = typeof part.value === "string" ? part.value : String(part.value);
        const prev = fields[part.fieldname];
        fields[part.fieldname] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
    }
  } catch (e) {
    if (file) await rm(file.path, { force: true });
    throw e;
  }
  return { fields, ...(file ? { file } : {}) };
}

/** Probes an upload, enforcing the duration cap; removes the file when it is refused. */
export async function checkVideo(path: string, opts: { maxDurationS: number; signal?: AbortSignal }): Promise<VideoInfo> {
  try {
    const info = await probe(path, { signal: opts.signal, timeoutMs: 30_000 });
    if (info.duration > opts.maxDurationS) throw new FramemindError("FM_ERR_VIDEO_LIMIT", { what: "video duration (s)", value: info.duration, limit: opts.maxDurationS });
    return info;
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
}

interface StoredVideo {
  id: string;
  path: string;
  filename: string;
  info: VideoInfo;
  expiresAt: number;
  leases: number;
  deleted: boolean;
}

export interface VideoLease {
  path: string;
  info: VideoInfo;
  release: () => Promise<void>;
}

export class VideoStore {
  private readonly videos = new Map<string, StoredVideo>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly dir: string, readonly ttlS: number) {
    this.timer = setInterval(() => void this.sweep(), Math.min(60_000, ttlS * 1000));
    this.timer.unref();
  }

  add(file: UploadedFile, info: VideoInfo): StoredVideo {
    const v: StoredVideo = { id: newId("vid"), path: file.path, filename: file.filename, info, expiresAt: Date.now() + this.ttlS * 1000, leases: 0, deleted: false };
    this.videos.set(v.id, v);
    return v;
  }

  /** Keeps the file until release(), even if deleted or expired meanwhile. */
  lease(id: string): VideoLease {
    const v = this.videos.get(id);
    if (!v || v.deleted || v.expiresAt <= Date.now()) throw new FramemindError("FM_ERR_SERVER_NOT_FOUND", { what: "video", id });
    v.leases++;
    let done = false;
    return {
      path: v.path,
      info: v.info,
      release: async () => {
        if (done) return;
        done = true;
        v.leases--;
        if (v.deleted || v.expiresAt <= Date.now()) await this.remove(v);
      },
    };
  }

  async delete(id: string): Promise<boolean> {
    const v = this.videos.get(id);
    if (!v || v.deleted) return false;
    v.deleted = true;
    await this.remove(v);
    return true;
  }

  get size(): number {
    return this.videos.size;
  }

  async sweep(now = Date.now()): Promise<void> {
    for (const v of [...this.videos.values()]) if (v.expiresAt <= now) {
      v.deleted = true;
      await this.remove(v);
    }
  }

  /** Removes every upload (shutdown). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const v of [...this.videos.values()]) {
      v.leases = 0;
      v.deleted = true;
      await this.remove(v);
    }
  }

  private async remove(v: StoredVideo): Promise<void> {
    if (v.leases > 0) return;
    this.videos.delete(v.id);
    await rm(v.path, { force: true });
  }
}
