/**
 * Finds ffmpeg and ffprobe. Order (DESIGN.md §2): FFMPEG_PATH/FFPROBE_PATH -> ffmpeg-static's
 * binary if its file exists -> `ffmpeg`/`ffprobe` on PATH -> in-package binaries
 * (@ffmpeg-installer/ffmpeg, ffprobe-static) as last resort.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { execFileSync } from "node:child_process";
import { FramemindError } from "../errors.js";

export type BinarySource = "env" | "ffmpeg-static" | "PATH" | "@ffmpeg-installer/ffmpeg" | "ffprobe-static";

export interface ResolvedBinary {
  path: string;
  source: BinarySource;
}

export interface Binaries {
  ffmpeg: ResolvedBinary;
  ffprobe: ResolvedBinary;
}

const require = createRequire(import.meta.url);

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/** Optional packages export a path (string) or an object with .path; absent ones throw. */
function fromPackage(pkg: string): string | undefined {
  try {
    const mod: unknown = require(pkg);
    const p = typeof mod === "string" ? mod : (mod as { path?: unknown })?.path;
    return typeof p === "string" && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

function resolveOne(name: "ffmpeg" | "ffprobe"): ResolvedBinary {
  const envVar = name === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH";
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new FramemindError("FM_ERR_VIDEO_FFMPEG_MISSING", { binary: `${name} at ${envVar}=${fromEnv}`, env: envVar });
    return { path: fromEnv, source: "env" };
  }
  if (name === "ffmpeg") {
    const s = fromPackage("ffmpeg-static");
    if (s) return { path: s, source: "ffmpeg-static" };
  }
  const p = onPath(name);
  if (p) return { path: p, source: "PATH" };
  const last = name === "ffmpeg" ? fromPackage("@ffmpeg-installer/ffmpeg") : fromPackage("ffprobe-static");
  if (last) return { path: last, source: name === "ffmpeg" ? "@ffmpeg-installer/ffmpeg" : "ffprobe-static" };
  throw new FramemindError("FM_ERR_VIDEO_FFMPEG_MISSING", { binary: name, env: envVar });
}

let cached: Binaries | undefined;

/** Resolved once per process; throws FM_ERR_VIDEO_FFMPEG_MISSING with what to do. */
export function binaries(): Binaries {
  cached ??= { ffmpeg: resolveOne("ffmpeg"), ffprobe: resolveOne("ffprobe") };
  return cached;
}

export interface BinaryVersion extends ResolvedBinary {
  version: string;
  major: number;
}

/** `ffmpeg -version` first line, parsed; used by `framemind doctor`. */
export function binaryVersion(b: ResolvedBinary): BinaryVersion {
  const out = execFileSync(b.path, ["-version"], { encoding: "utf8", timeout: 10_000 });
  const m = /version\s+n?(\S+)/.exec(out.split("\n")[0] ?? "");
  const version = m?.[1] ?? "unknown";
  const major = Number.parseInt(version, 10);
  return { ...b, version, major: Number.isFinite(major) ? major : 0 };
}
