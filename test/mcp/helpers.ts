/** Shared pieces of the MCP tests: decoded image sizes, scripted policies, clients, ffmpeg checks. */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Policy, PolicyStep } from "../../src/policy/types.js";
import { makeIndexVideo } from "../helpers/videos.js";

export const ROOT = process.cwd();
export const CLI = join(ROOT, "dist", "src", "cli", "framemind.js");

/** Width/height from a PNG IHDR or a JPEG SOFn header. */
export function imageSize(b: Buffer): { format: "png" | "jpeg"; width: number; height: number } {
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return { format: "png", width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  if (b[0] === 0xff && b[1] === 0xd8) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) throw new Error(`bad JPEG marker at ${i}`);
      const m = b[i + 1]!;
      const len = b.readUInt16BE(i + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC).
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return { format: "jpeg", height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
      i += 2 + len;
    }
    throw new Error("no SOF marker in JPEG");
  }
  throw new Error("neither PNG nor JPEG");
}

/** RGB of an 8-bit RGB PNG whose rows all use filter 0 (what the video layer writes). */
export function decodePng(b: Buffer): { width: number; height: number; rgb: Buffer } {
  const { width, height } = imageSize(b);
  const idat: Buffer[] = [];
  for (let i = 8; i < b.length; ) {
    const len = b.readUInt32BE(i);
    if (b.toString("ascii", i + 4, i + 8) === "IDAT") idat.push(b.subarray(i + 8, i + 8 + len));
    i += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    if (raw[y * (width * 3 + 1)] !== 0) throw new Error("PNG row filter is not 0");
    raw.copy(rgb, y * width * 3, y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1));
  }
  return { width, height, rgb };
}

export function images(r: CallToolResult): Array<{ mimeType: string; bytes: Buffer }> {
  return r.content.flatMap((c) => (c.type === "image" ? [{ mimeType: c.mimeType, bytes: Buffer.from(c.data, "base64") }] : []));
}

export function textOf(r: CallToolResult): string {
  return r.content.flatMap((c) => (c.type === "text" ? [c.text] : [])).join("\n");
}

/** A policy that replies with the given texts in order; `hang` waits until the call is aborted. */
export function scriptedPolicy(replies: Array<string | { hang: true }>, seen: { entered: number; aborted: number } = { entered: 0, aborted: 0 }): Policy {
  const queue = [...replies];
  return {
    id: "scripted",
    async step(_input, { signal }): Promise<PolicyStep> {
      seen.entered++;
      const next = queue.shift() ?? "<think>out of script</think><answer>none</answer>";
      if (typeof next === "string") return { text: next };
      return new Promise((_resolve, reject) => {
        signal?.addEventListener("abort", () => {
          seen.aborted++;
          reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        });
      });
    },
  };
}

export async function httpClient(url: string, opts: { roots?: string[] } = {}): Promise<Client> {
  const client = new Client({ name: "framemind-test", version: "1.0.0" }, { capabilities: opts.roots ? { roots: { listChanged: true } } : {} });
  if (opts.roots) {
    const { ListRootsRequestSchema } = await import("@modelcontextprotocol/sdk/types.js");
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: opts.roots!.map((r) => ({ uri: `file://${r}`, name: r })) }));
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/** ffmpeg/ffprobe processes whose parent is `pid` (ps, so it works for a spawned server too). */
export function ffmpegChildren(pid: number): string[] {
  try {
    return execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /ff(mpeg|probe)/.test(l));
  } catch {
    return []; // ps exits 1 when there are no children
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, stepMs = 5): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return cond();
}

/** Newest mtime of the .ts files under `dir` (recursive). */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (/\.ts$/.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function builtIsFresh(): boolean {
  const server = join(ROOT, "dist", "src", "mcp", "server.js");
  if (!existsSync(CLI) || !existsSync(server)) return false;
  const src = Math.max(newest(join(ROOT, "src", "mcp")), statSync(join(ROOT, "src", "cli", "commands", "mcp.ts")).mtimeMs);
  return statSync(server).mtimeMs >= src;
}

/**
 * Builds dist/ when it is missing or older than the MCP sources (`npm test` builds first anyway).
 * Test files run in parallel: a lock folder lets one build while the others wait for it.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(tmpdir(), `framemind-mcp-build-${Buffer.from(ROOT).toString("hex").slice(-16)}.lock`);
  for (let waited = 0; !builtIsFresh(); waited += 500) {
    try {
      mkdirSync(lock);
    } catch {
      if (waited > 170_000) throw new Error(`build lock ${lock} held too long`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: ROOT, stdio: "pipe" });
    } catch {
      // Type errors elsewhere in the tree still emit JavaScript (noEmitOnError is off); the spawn fails loudly if not.
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
    if (!builtIsFresh()) throw new Error("dist/ is still older than src/mcp after `tsc -p tsconfig.json`");
  }
}

/**
 * The test videos, encoded once per machine and copied into each test's root:
 * idx = 5 s, 320x240, 10 fps, keyframe every second (frame index readable from the pixels);
 * slow = 20 s, 640x360, 25 fps, ONE keyframe, so exact frames near its end keep ffmpeg busy
 * long enough to cancel mid-decode.
 */
const VIDEOS = {
  idx: { width: 320, height: 240, fps: 10, frames: 50, gop: 10 },
  slow: { width: 640, height: 360, fps: 25, frames: 500, gop: 500 },
} as const;

export async function fixtureVideo(kind: keyof typeof VIDEOS, into: string, name = `${kind}.mp4`): Promise<string> {
  const cacheDir = join(tmpdir(), "framemind-mcp-fixtures-v1");
  const cached = join(cacheDir, `${kind}.mp4`);
  if (!existsSync(cached)) {
    mkdirSync(cacheDir, { recursive: true });
    // Written aside and renamed: test files running in parallel never see half a video.
    const part = join(cacheDir, `${kind}.${process.pid}.part.mp4`);
    await makeIndexVideo({ out: part, ...VIDEOS[kind] });
    renameSync(part, cached);
  }
  const out = join(into, name);
  copyFileSync(cached, out);
  return out;
}
