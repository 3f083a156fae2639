/**
 * `framemind mcp` over stdio, spawned from the built CLI as a desktop/coding agent would, with
 * the SDK's real Client. video_qa runs the `openai` policy against the fake OpenAI server.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CallToolResultSchema, type CallToolResult, type Progress } from "@modelcontextprotocol/sdk/types.js";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai.js";
import { tmpDir } from "../helpers/videos.js";
import { CLI, ensureBuilt, ffmpegChildren, fixtureVideo, imageSize, images, textOf, waitFor } from "./helpers.js";

let dir: string;
let outside: string;
let fake: FakeOpenAI;
let client: Client;
let transport: StdioClientTransport;
let stderr = "";

beforeAll(async () => {
  await ensureBuilt();
  dir = tmpDir("fm-mcp-stdio-");
  outside = tmpDir("fm-mcp-stdio-out-");
  await fixtureVideo("idx", dir);
  await fixtureVideo("slow", dir);
  copyFileSync(join(dir, "idx.mp4"), join(outside, "secret.mp4"));
  fake = await startFakeOpenAI([
    { content: '<think>check 2 s</think><tool_call>{"name": "get_frames", "arguments": {"timestamps": [2.0], "rung": "low"}}</tool_call>' },
    { content: "<think>bars say 20</think><answer>20</answer>" },
  ]);
  transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp", "--roots", dir, "--policy", "openai", "--base-url", fake.url, "--model", "fake-vlm-1"],
    stderr: "pipe",
    env: { ...process.env, OPENAI_API_KEY: "test" } as Record<string, string>,
  });
  transport.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  client = new Client({ name: "framemind-stdio-test", version: "1.0.0" });
  await client.connect(transport);
}, 180_000);

afterAll(async () => {
  await client?.close();
  await fake?.close();
});

const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

describe("framemind mcp (stdio)", () => {
  it("announces itself on stderr, not stdout", async () => {
    expect(client.getServerVersion()).toMatchObject({ name: "framemind" });
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, resources: {}, prompts: {}, logging: {}, completions: {} });
    expect(stderr).toMatch(/framemind mcp: stdio; roots: /);
  });

  it("lists the tools with schemas", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["get_clip", "get_frames", "probe_video", "video_qa"]);
    const frames = tools.find((t) => t.name === "get_frames")!;
    expect((frames.inputSchema.properties as Record<string, { enum?: string[] }>).rung!.enum).toEqual(["low", "mid", "high"]);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true && t.outputSchema)).toBe(true);
  });

  it("calls probe_video, get_frames and get_clip", async () => {
    const p = await call("probe_video", { video: join(dir, "idx.mp4") });
    expect(p.structuredContent).toMatchObject({ duration: 5, width: 320, height: 240 });
    const f = await call("get_frames", { video: "idx.mp4", start: 0, end: 4, count: 3, rung: "mid" });
    const fs = f.structuredContent as { width: number; height: number };
    expect(images(f)).toHaveLength(3);
    for (const img of images(f)) expect(imageSize(img.bytes)).toEqual({ format: "png", width: fs.width, height: fs.height });
    const c = await call("get_clip", { video: "idx.mp4", start: 0.5, end: 2.5, rung: "low", format: "jpeg" });
    const cs = c.structuredContent as { width: number; height: number; timestamps: number[] };
    expect(cs.timestamps).toHaveLength(16);
    for (const img of images(c)) expect(imageSize(img.bytes)).toEqual({ format: "jpeg", width: cs.width, height: cs.height });
  });

  it("video_qa runs the agent against the model endpoint with progress per turn", async () => {
    const progress: Progress[] = [];
    const r = (await client.callTool({ name: "video_qa", arguments: { video: "idx.mp4", question: "Which frame index is at 2 s?" } }, CallToolResultSchema, { onprogress: (x) => progress.push(x), timeout: 120_000 })) as CallToolResult;
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ answer: "20", stopReason: "answer", policy: { id: expect.stringContaining("openai") } });
    expect(progress.map((p) => p.progress)).toEqual([1, 2]);
    expect(fake.requests).toHaveLength(2);
    const uri = (r.structuredContent as { trajectory: string }).trajectory;
    const res = await client.readResource({ uri });
    expect(JSON.parse((res.contents[0] as { text: string }).text)).toMatchObject({ answer: "20" });
  });

  it("cancellation mid-call leaves no ffmpeg process behind", async () => {
    const ac = new AbortController();
    const pending = client.callTool({ name: "get_frames", arguments: { video: "slow.mp4", timestamps: [15, 16, 17, 18, 19, 19.5], rung: "high" } }, CallToolResultSchema, { signal: ac.signal });
    pending.catch(() => undefined);
    expect(await waitFor(() => ffmpegChildren(transport.pid!).length > 0, 15_000, 10)).toBe(true);
    ac.abort();
    await expect(pending).rejects.toThrow();
    expect(await waitFor(() => ffmpegChildren(transport.pid!).length === 0, 5_000, 50)).toBe(true);
    expect((await call("probe_video", { video: "idx.mp4" })).isError).toBeFalsy();
  });

  it("a path outside the roots, a missing file and bad arguments are tool errors", async () => {
    const out = await call("get_frames", { video: join(outside, "secret.mp4"), timestamps: [1], rung: "low" });
    expect(out.isError).toBe(true);
    expect(textOf(out)).toMatch(/FM_ERR_PATH_DENIED: path is outside the allowed roots/);
    const missing = await call("probe_video", { video: "missing.mp4" });
    expect(textOf(missing)).toMatch(/FM_ERR_VIDEO_NOT_FOUND/);
    const bad = await call("get_clip", { video: "idx.mp4", start: 0, end: 2, count: 50, rung: "low" });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/count/);
    const noVideo = await call("video_qa", { question: "?" });
    expect(noVideo.isError).toBe(true);
    expect(textOf(noVideo)).toMatch(/video/);
  });
});
