/**
 * Turns whatever the client sent as "the video" into a local file the agent may open, with the
 * roots that confine it and a cleanup that removes anything temporary (uploads, downloads,
 * data: URLs) once the question is done:
 *   video_id -> a leased upload; path / file:// -> a file inside the configured roots;
 *   data: -> a temp file; http(s) -> a checked download; multipart file -> the uploaded temp file.
 * Temp files are probed first so a non-video (415), an over-long video (413) or a corrupt file
 * (422) is refused before a queue slot is spent on the agent.
 */
import { rm } from "node:fs/promises";
import { FramemindError } from "../errors.js";
import { canonicalRoots, probe, resolveVideoPath } from "../video/index.js";
import type { ServerConfig } from "./config.js";
import { downloadUrl, fileUrlPath, saveDataUrl } from "./fetch.js";
import { checkVideo, type UploadedFile, type VideoStore } from "./uploads.js";

export type VideoSource =
  | { kind: "id"; id: string }
  | { kind: "path"; path: string }
  | { kind: "url"; url: string }
  | { kind: "upload"; file: UploadedFile };

export interface LocalVideo {
  path: string;
  /** Roots the agent's tools are confined to for this question. */
  roots: string[];
  /** Removes temp files / releases the lease (idempotent). */
  cleanup: () => Promise<void>;
}

export interface InputContext {
  config: ServerConfig;
  videos: VideoStore;
  /** Folder for downloads and data: URLs. */
  tmpDir: string;
  signal?: AbortSignal;
}

/** Exactly one source: the error lists what was given. */
export function pickSource(given: { video_id?: string; path?: string; url?: string; file?: UploadedFile }): VideoSource {
  const present = (["video_id", "path", "url", "file"] as const).filter((k) => given[k] !== undefined);
  if (present.length !== 1) {
    throw new FramemindError("FM_ERR_ARGS_INVALID", {
      reason: present.length === 0 ? "no video: give one of video_id, path, url, or a multipart file" : `give exactly one video source, got ${present.join(" + ")}`,
    });
  }
  if (given.video_id !== undefined) return { kind: "id", id: given.video_id };
  if (given.path !== undefined) return { kind: "path", path: given.path };
  if (given.url !== undefined) return { kind: "url", url: given.url };
  return { kind: "upload", file: given.file! };
}

async function temp(path: string, ctx: InputContext): Promise<LocalVideo> {
  await checkVideo(path, { maxDurationS: ctx.config.limits.maxDurationS, signal: ctx.signal });
  let done = false;
  return {
    path,
    roots: [ctx.tmpDir],
    cleanup: async () => {
      if (done) return;
      done = true;
      await rm(path, { force: true });
    },
  };
}

async function insideRoots(path: string, ctx: InputContext): Promise<LocalVideo> {
  const roots = await canonicalRoots(ctx.config.roots);
  const file = await resolveVideoPath(path, { roots, maxBytes: ctx.config.limits.maxUploadBytes });
  const info = await probe(file.path, { roots, signal: ctx.signal, timeoutMs: 30_000 });
  if (info.duration > ctx.config.limits.maxDurationS) throw new FramemindError("FM_ERR_VIDEO_LIMIT", { what: "video duration (s)", value: info.duration, limit: ctx.config.limits.maxDurationS });
  return { path: file.path, roots, cleanup: async () => undefined };
}

export async function localVideo(src: VideoSource, ctx: InputContext): Promise<LocalVideo> {
  switch (src.kind) {
    case "id": {
      const lease = ctx.videos.lease(src.id);
      return { path: lease.path, roots: [ctx.videos.dir], cleanup: lease.release };
    }
    case "path":
      return insideRoots(src.path, ctx);
    case "upload":
      return temp(src.file.path, ctx);
    case "url": {
      const scheme = src.url.slice(0, src.url.indexOf(":") + 1).toLowerCase();
      if (scheme === "file:") return insideRoots(fileUrlPath(src.url), ctx);
      if (scheme === "data:") return temp(await saveDataUrl(src.url, ctx.tmpDir, ctx.config.limits.maxUploadBytes), ctx);
      if (scheme === "http:" || scheme === "https:") {
        const { limits, urls } = ctx.config;
        return temp(await downloadUrl(src.url, ctx.tmpDir, { ...urls, maxBytes: limits.maxDownloadBytes }, ctx.signal), ctx);
      }
      throw new FramemindError("FM_ERR_SERVER_URL_DENIED", { reason: `scheme '${scheme || src.url.slice(0, 20)}' is not supported (http, https, data, file)` });
    }
  }
}
