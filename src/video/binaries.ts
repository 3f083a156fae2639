/**
 * Finds ffmpeg and ffprobe. Order (DESIGN.md §2): FFMPEG_PATH/FFPROBE_PATH -> ffmpeg-static's
 * binary if its file exists -> `ffmpeg`/`ffprobe` on PATH -> in-package binaries
 * (@ffmpeg-installer/ffmpeg, ffprobe-static) as last resort.
 */
import { accessSync, constants, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { execFile, execFileSync } from "node:child_process";
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
  minor: number;
}

/** `ffmpeg -version` first line, parsed; used by `framemind doctor`. */
export function binaryVersion(b: ResolvedBinary): BinaryVersion {
  return parseVersion(b, execFileSync(b.path, ["-version"], { encoding: "utf8", timeout: 10_000 }));
}

let ffmpegVersionMemo: Promise<BinaryVersion> | undefined;

/** The resolved ffmpeg's version, asked once per process (options differ between 4.x, 5.x and 7.x). */
export function ffmpegVersion(): Promise<BinaryVersion> {
  ffmpegVersionMemo ??= new Promise<BinaryVersion>((resolve, reject) => {
    const b = binaries().ffmpeg;
    execFile(b.path, ["-version"], { encoding: "utf8", timeout: 10_000 }, (err, out) => {
      if (err) reject(new FramemindError("FM_ERR_VIDEO_FFMPEG_FAILED", { exitCode: -1, reason: `${b.path} -version: ${err.message}` }));
      else resolve(parseVersion(b, out));
    });
  });
  return ffmpegVersionMemo;
}

function parseVersion(b: ResolvedBinary, out: string): BinaryVersion {
  const m = /version\s+n?(\S+)/.exec(out.split("\n")[0] ?? "");
  const version = m?.[1] ?? "unknown";
  const [major, minor] = version.split(".").map((x) => Number.parseInt(x, 10));
  return { ...b, version, major: Number.isFinite(major) ? major! : 0, minor: Number.isFinite(minor) ? minor! : 0 };
}

/** Per-output passthrough of frame timestamps: `-fps_mode` since 5.1 (`-vsync` is gone in 9). */
export function passthroughArgs(v: BinaryVersion, mode: "passthrough" | "vfr" = "passthrough"): string[] {
  return v.major > 5 || (v.major === 5 && v.minor >= 1) ? ["-fps_mode", mode] : ["-vsync", mode];
}
