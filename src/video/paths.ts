/**
 * Input path policy: realpath inside the allowed roots (no `..` or symlink escape), regular files
 * only, size cap. Servers always pass roots; local CLI commands pass them only with --roots.
 */
// Sync fs on purpose: a realpath and a stat take microseconds, while each threadpool round trip
// costs milliseconds on a loaded machine, and a cached frame request is nothing but these.
import { realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { FramemindError } from "../errors.js";

export interface PathPolicy {
  /** Allowed root folders; undefined = any path. */
  roots?: readonly string[];
  /** Largest file accepted, in bytes. */
  maxBytes?: number;
}

export interface ResolvedFile {
  /** Canonical (realpath) location. */
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." && !isAbsolute(rel));
}

/** Canonical roots, resolved once by the caller (missing roots are an argument error). */
export async function canonicalRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) {
    try {
      out.push(realpathSync(resolve(r)));
    } catch {
      throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `root folder does not exist: ${r}` });
    }
  }
  return out;
}

/**
 * Resolves a user-given path against the policy. Relative paths are taken from the first root
 * (servers) or the working directory (CLI).
 */
export async function resolveVideoPath(input: string, policy: PathPolicy = {}): Promise<ResolvedFile> {
  if (typeof input !== "string" || input.length === 0 || input.includes("\0")) {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "video path must be a non-empty string" });
  }
  const roots = policy.roots ? await canonicalRoots(policy.roots) : undefined;
  const base = roots?.[0] ?? process.cwd();
  const wanted = resolve(base, input);
  const shown = input;
  if (roots && !roots.some((r) => inside(r, wanted))) {
    throw new FramemindError("FM_ERR_PATH_DENIED", { path: shown, roots: roots.join(", ") });
  }
  let real: string;
  try {
    real = realpathSync(wanted);
  } catch {
    throw new FramemindError("FM_ERR_VIDEO_NOT_FOUND", { path: shown });
  }
  // Checked again on the canonical path: a symlink inside a root may point outside it.
  if (roots && !roots.some((r) => inside(r, real))) {
    throw new FramemindError("FM_ERR_PATH_DENIED", { path: shown, roots: roots.join(", ") });
  }
  const st = statSync(real);
  if (!st.isFile()) throw new FramemindError("FM_ERR_VIDEO_NOT_A_FILE", { path: shown });
  if (policy.maxBytes !== undefined && st.size > policy.maxBytes) {
    throw new FramemindError("FM_ERR_VIDEO_LIMIT", { what: "file size", value: st.size, limit: policy.maxBytes });
  }
  return { path: real, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
}

/** Identity of a file's content for cache keys: changes when the file is rewritten. */
export function fileIdentity(f: ResolvedFile): string {
  return `${f.dev}:${f.ino}:${f.size}:${f.mtimeMs}:${f.path}`;
}
