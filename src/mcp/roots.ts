/**
 * Which files an MCP session may open: the configured roots (--roots) and, when the client
 * declares MCP roots, those too (both must allow a path). Without --roots the client's roots are
 * used, else the working directory. Client roots are fetched on first use and refetched after
 * `notifications/roots/list_changed`.
 */
import { readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { RootsListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { FramemindError } from "../errors.js";
import { canonicalRoots, resolveVideoPath, type PathPolicy } from "../video/index.js";

const VIDEO_EXT = /\.(mp4|m4v|mov|mkv|webm|avi|mpg|mpeg|ts|mts|wmv|flv|3gp|ogv)$/i;
const ROOTS_TIMEOUT_MS = 5_000;

export type Logger = (level: "debug" | "info" | "warning" | "error", data: string) => void;

export class RootAccess {
  private clientRoots?: Promise<string[] | undefined>;

  constructor(
    private readonly server: Server,
    /** Canonical configured roots; undefined = none given. */
    private readonly configured: readonly string[] | undefined,
    private readonly maxBytes: number | undefined,
    private readonly log: Logger,
  ) {
    server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
      this.clientRoots = undefined;
    });
  }

  /** The folders paths are checked against, in order (relative paths start at the first). */
  async roots(): Promise<{ base: string[]; client?: string[] }> {
    const client = await this.fetchClientRoots();
    if (this.configured) return { base: [...this.configured], client };
    return { base: client ?? (await canonicalRoots([process.cwd()])) };
  }

  /** Path policy for the tools plus the canonical file, after every root rule passed. */
  async resolve(video: string): Promise<{ path: string; policy: PathPolicy }> {
    const { base, client } = await this.roots();
    const policy: PathPolicy = { roots: base, maxBytes: this.maxBytes };
    const file = await resolveVideoPath(video, policy);
    if (client && !client.some((r) => inside(r, file.path))) {
      throw new FramemindError("FM_ERR_PATH_DENIED", { path: video, roots: `${client.join(", ")} (the client's roots)` });
    }
    return { path: file.path, policy };
  }

  /** Video files under the allowed roots whose relative path starts with `prefix` (for completions). */
  async videos(prefix: string, limit = 50): Promise<string[]> {
    const { base, client } = await this.roots();
    const out: string[] = [];
    const first = base[0]!;
    scan: for (const root of base) {
      for await (const file of walk(root, 3)) {
        if (client && !client.some((r) => inside(r, file))) continue;
        // Relative to the first root (how tools resolve them), absolute for the others.
        const shown = inside(first, file) ? relative(first, file) : file;
        if (shown.startsWith(prefix)) out.push(shown);
        if (out.length >= limit) break scan;
      }
    }
    return out.sort();
  }

  private fetchClientRoots(): Promise<string[] | undefined> {
    if (!this.server.getClientCapabilities()?.roots) return Promise.resolve(undefined);
    this.clientRoots ??= this.server
      .listRoots(undefined, { timeout: ROOTS_TIMEOUT_MS })
      .then(async ({ roots }) => {
        const dirs = roots.filter((r) => r.uri.startsWith("file://")).map((r) => fileURLToPath(r.uri));
        // An empty list restricts nothing (clients declare the capability before a folder is open).
        if (dirs.length === 0) return undefined;
        const ok: string[] = [];
        for (const d of dirs) {
          try {
            ok.push(...(await canonicalRoots([d])));
          } catch {
            this.log("warning", `client root does not exist here, ignored: ${d}`);
          }
        }
        // Declared roots that all do not exist here allow nothing rather than everything.
        return ok;
      })
      .catch((e: unknown) => {
        this.clientRoots = undefined;
        this.log("warning", `roots/list failed, using the configured roots only: ${(e as Error).message}`);
        return undefined;
      });
    return this.clientRoots;
  }
}

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === "" || (!rel.startsWith(".." + sep) && rel !== ".." && !rel.startsWith(sep) && !/^[a-zA-Z]:/.test(rel));
}

async function* walk(dir: string, depth: number): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.isFile() && VIDEO_EXT.test(e.name)) yield p;
    else if (e.isDirectory() && depth > 0) yield* walk(p, depth - 1);
  }
}
