/**
 * The MCP Inspector CLI 0.15 (as `npx @modelcontextprotocol/inspector --cli ...`), offline, against
 * the built CLI over stdio and against /mcp over Streamable HTTP. 0.15 exits 0 even when the tool
 * result has isError, so the JSON it prints is checked too.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallToolResult, ListToolsResult } from "@modelcontextprotocol/sdk/types.js";
import type { FastifyInstance } from "fastify";
import { createRuntime, listenHttp } from "../../src/mcp/index.js";
import { tmpDir } from "../helpers/videos.js";
import { CLI, ROOT, ensureBuilt, fixtureVideo, scriptedPolicy } from "./helpers.js";

const INSPECTOR = join(ROOT, "node_modules", "@modelcontextprotocol", "inspector", "cli", "build", "cli.js");
const run = promisify(execFile);

async function inspector(args: string[]): Promise<{ code: number; json: unknown }> {
  try {
    const { stdout } = await run(process.execPath, [INSPECTOR, "--cli", ...args], { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, json: JSON.parse(stdout) };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`inspector exited ${err.code}: ${err.stderr ?? ""}${err.stdout ?? ""}`);
  }
}

let dir: string;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  await ensureBuilt();
  dir = tmpDir("fm-mcp-insp-");
  await fixtureVideo("idx", dir);
  const runtime = await createRuntime({ roots: [dir] }, { createPolicy: () => scriptedPolicy([]), diagnostics: () => undefined });
  ({ app, url } = await listenHttp(runtime, { host: "127.0.0.1", port: 0 }));
}, 180_000);

afterAll(async () => {
  await app?.close();
});

describe("MCP Inspector CLI 0.15", () => {
  const stdio = () => ["node", CLI, "mcp", "--roots", dir];

  it("stdio: tools/list", async () => {
    const { code, json } = await inspector([...stdio(), "--method", "tools/list"]);
    expect(code).toBe(0);
    expect((json as ListToolsResult).tools.map((t) => t.name).sort()).toEqual(["get_clip", "get_frames", "probe_video", "video_qa"]);
  });

  it("stdio: tools/call with an error result exits 0 but says isError in the JSON", async () => {
    const bad = (await inspector([...stdio(), "--method", "tools/call", "--tool-name", "probe_video", "--tool-arg", "video=/etc/passwd"])).json as CallToolResult;
    expect(bad.isError).toBe(true);
    expect(JSON.stringify(bad.content)).toMatch(/FM_ERR_PATH_DENIED/);
  });

  it("Streamable HTTP: tools/call get_frames returns image blocks", async () => {
    const ok = (await inspector([url, "--transport", "http", "--method", "tools/call", "--tool-name", "get_frames", "--tool-arg", "video=idx.mp4", "--tool-arg", "timestamps=[1.0,2.0]", "--tool-arg", "rung=low"])).json as CallToolResult;
    expect(ok.isError).toBeFalsy();
    expect(ok.content.filter((c) => c.type === "image" && c.mimeType === "image/png")).toHaveLength(2);
    expect(ok.structuredContent).toMatchObject({ timestamps: [1, 2], width: 308, height: 224 });
  });
});
