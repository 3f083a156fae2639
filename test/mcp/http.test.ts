/**
 * The MCP server over Streamable HTTP (the plugin on a real socket on 127.0.0.1) with the SDK's
 * real Client: schemas, every tool on a generated video, image sizes, progress, cancellation,
 * roots (configured and the client's), errors, prompt + completions, resources, sessions,
 * stateless mode and DNS-rebinding protection.
 */
import { mkdirSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { CallToolResultSchema, LoggingMessageNotificationSchema, type CallToolResult, type LoggingMessageNotification, type Progress } from "@modelcontextprotocol/sdk/types.js";
import type { FastifyInstance } from "fastify";
import { createRuntime, listenHttp } from "../../src/mcp/index.js";
import type { Policy } from "../../src/policy/types.js";
import { processStats } from "../../src/video/index.js";
import { readIndex, tmpDir } from "../helpers/videos.js";
import { decodePng, fixtureVideo, httpClient, imageSize, images, scriptedPolicy, textOf, waitFor } from "./helpers.js";

let dir: string;
let outside: string;
let app: FastifyInstance;
let url: string;
let client: Client;
let policy: Policy = scriptedPolicy([]);

beforeAll(async () => {
  dir = tmpDir("fm-mcp-http-");
  outside = tmpDir("fm-mcp-outside-");
  mkdirSync(join(dir, "sub"));
  await fixtureVideo("idx", dir);
  copyFileSync(join(dir, "idx.mp4"), join(dir, "sub", "copy.mp4"));
  copyFileSync(join(dir, "idx.mp4"), join(outside, "secret.mp4"));
  await fixtureVideo("slow", dir);
  // The runtime asks once for a policy; this one forwards to whatever the current test set.
  const runtime = await createRuntime({ roots: [dir], ladder: "qwen", policy: "scripted" }, { createPolicy: () => ({ id: "scripted", step: (i, o) => policy.step(i, o) }), diagnostics: () => undefined });
  ({ app, url } = await listenHttp(runtime, { host: "127.0.0.1", port: 0 }));
  client = await httpClient(url);
}, 120_000);

afterAll(async () => {
  await client?.close();
  await app?.close();
});

const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args }) as Promise<CallToolResult>;

describe("tools/list", () => {
  it("lists the four tools with input/output schemas and read-only annotations", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["get_clip", "get_frames", "probe_video", "video_qa"]);
    for (const t of tools) {
      expect(t.annotations?.readOnlyHint).toBe(true);
      expect(t.outputSchema?.type).toBe("object");
      expect(t.inputSchema.required).toContain("video");
    }
    const frames = tools.find((t) => t.name === "get_frames")!;
    const props = frames.inputSchema.properties as Record<string, { enum?: string[] }>;
    expect(props.rung!.enum).toEqual(["low", "mid", "high"]);
    expect(Object.keys(props)).toEqual(expect.arrayContaining(["timestamps", "start", "end", "count", "mode", "region", "format", "video"]));
    const clip = tools.find((t) => t.name === "get_clip")!;
    expect((clip.inputSchema.properties as Record<string, { minimum?: number; maximum?: number }>).count).toMatchObject({ minimum: 8, maximum: 20 });
    const qa = tools.find((t) => t.name === "video_qa")!;
    expect(qa.inputSchema.required).toEqual(expect.arrayContaining(["video", "question"]));
    expect(Object.keys(qa.outputSchema!.properties!)).toEqual(expect.arrayContaining(["answer", "turns", "trajectory", "stopReason"]));
  });
});

describe("tools/call", () => {
  it("probe_video returns structured info and its text copy", async () => {
    const r = await call("probe_video", { video: "idx.mp4" });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({ width: 320, height: 240, fps: 10, frameCount: 50 });
    expect(JSON.parse(textOf(r))).toEqual(r.structuredContent);
  });

  it("get_frames returns PNG image blocks of the reported size showing the asked-for frames", async () => {
    const r = await call("get_frames", { video: "idx.mp4", timestamps: [1.0, 3.2], rung: "low" });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as { width: number; height: number; timestamps: number[]; tokens: number; frames: Array<{ tokens: number }> };
    const imgs = images(r);
    expect(imgs).toHaveLength(2);
    for (const [k, img] of imgs.entries()) {
      expect(img.mimeType).toBe("image/png");
      expect(imageSize(img.bytes)).toEqual({ format: "png", width: s.width, height: s.height });
      const px = decodePng(img.bytes);
      expect(readIndex(px.rgb, px.width, px.height)).toBe(Math.round(s.timestamps[k]! * 10));
    }
    expect(s.timestamps).toEqual([1, 3.2]);
    expect(s.tokens).toBe(s.frames.reduce((n, f) => n + f.tokens, 0));
    expect(s.width % 28).toBe(0);
  });

  it("get_frames zooms on a region: smaller images of that part, the region in the result; a bad region is a tool error", async () => {
    const r = await call("get_frames", { video: "idx.mp4", timestamps: [3.1], rung: "high", region: [0, 0, 0.5, 1] });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as { width: number; height: number; tokens: number; region: number[] };
    const whole = (await call("get_frames", { video: "idx.mp4", timestamps: [3.1], rung: "high" })).structuredContent as { tokens: number };
    expect(s.region).toEqual([0, 0, 0.5, 1]);
    expect(s.tokens).toBeLessThan(whole.tokens);
    const px = decodePng(images(r)[0]!.bytes);
    expect([px.width, px.height]).toEqual([s.width, s.height]);
    // The left half holds bars 0-4: the index's low five bits (frame 31 at 10 fps).
    expect(readIndex(px.rgb, px.width, px.height, 0, 5)).toBe(31);
    const bad = await call("get_frames", { video: "idx.mp4", timestamps: [1], rung: "low", region: [0.5, 0, 0.2, 1] });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/region/);
  });

  it("get_frames at a higher rung gives bigger images; jpeg blocks carry image/jpeg", async () => {
    const r = await call("get_frames", { video: "slow.mp4", start: 0, end: 1, count: 2, rung: "high", format: "jpeg", mode: "tolerant" });
    const s = r.structuredContent as { width: number; height: number; mimeType: string };
    expect(s.mimeType).toBe("image/jpeg");
    for (const img of images(r)) {
      expect(img.mimeType).toBe("image/jpeg");
      expect(imageSize(img.bytes)).toEqual({ format: "jpeg", width: s.width, height: s.height });
    }
    const low = (await call("get_frames", { video: "slow.mp4", timestamps: [0], rung: "low" })).structuredContent as { width: number };
    expect(s.width).toBeGreaterThan(low.width);
  });

  it("get_clip returns count frames over [start, end]", async () => {
    const r = await call("get_clip", { video: "idx.mp4", start: 1, end: 3, count: 8, rung: "low" });
    expect(r.isError).toBeFalsy();
    const s = r.structuredContent as { timestamps: number[]; width: number; height: number };
    expect(images(r)).toHaveLength(8);
    expect(s.timestamps[0]).toBeGreaterThanOrEqual(1);
    expect(s.timestamps.at(-1)).toBeLessThanOrEqual(3);
    for (const img of images(r)) expect(imageSize(img.bytes)).toMatchObject({ width: s.width, height: s.height });
  });

  it("video_qa answers, sends one progress notification per turn, and saves the trajectory resource", async () => {
    policy = scriptedPolicy([
      '<think>look closer</think><tool_call>{"name": "get_frames", "arguments": {"timestamps": [2.0], "rung": "mid"}}</tool_call>',
      "<think>the bars read 20</think><answer>20</answer>",
    ]);
    const progress: Progress[] = [];
    const r = (await client.callTool({ name: "video_qa", arguments: { video: "idx.mp4", question: "Which frame index is shown at 2 s?" } }, CallToolResultSchema, { onprogress: (p) => progress.push(p) })) as CallToolResult;
    expect(r.isError, textOf(r)).toBeFalsy();
    const s = r.structuredContent as { answer: string; stopReason: string; turns: Array<{ call: { name: string } | null }>; trajectory: string; id: string };
    expect(s.answer).toBe("20");
    expect(s.stopReason).toBe("answer");
    expect(s.turns.map((t) => t.call?.name ?? null)).toEqual(["get_frames", null]);
    expect(progress.map((p) => p.progress)).toEqual([1, 2]);
    expect(progress[0]!.total).toBe(4);
    expect(textOf(r)).toMatch(/^answer: 20/);
    expect(s.trajectory).toBe(`framemind://trajectories/${s.id}`);
    const res = await client.readResource({ uri: s.trajectory });
    const record = JSON.parse((res.contents[0] as { text: string }).text) as { id: string; turns: unknown[] };
    expect(record.id).toBe(s.id);
    expect(record.turns).toHaveLength(2);
    const { resources } = await client.listResources();
    expect(resources.map((x) => x.uri)).toContain(s.trajectory);
    const done = await client.complete({ ref: { type: "ref/resource", uri: "framemind://trajectories/{id}" }, argument: { name: "id", value: s.id.slice(0, 4) } });
    expect(done.completion.values).toContain(s.id);
  });

  it("video_qa without a progress token sends no progress", async () => {
    policy = scriptedPolicy(["<think>enough</think><answer>3</answer>"]);
    let n = 0;
    client.setNotificationHandler((await import("@modelcontextprotocol/sdk/types.js")).ProgressNotificationSchema, () => void n++);
    const r = await call("video_qa", { video: "idx.mp4", question: "How many?" });
    expect((r.structuredContent as { answer: string }).answer).toBe("3");
    expect(n).toBe(0);
  });
});

describe("cancellation", () => {
  it("cancelling get_frames mid-decode kills ffmpeg and the server keeps serving", async () => {
    const ac = new AbortController();
    const pending = client.callTool({ name: "get_frames", arguments: { video: "slow.mp4", timestamps: [15, 16, 17, 18, 19, 19.5], rung: "high" } }, CallToolResultSchema, { signal: ac.signal });
    expect(await waitFor(() => processStats().live > 0, 10_000, 2)).toBe(true);
    ac.abort();
    await expect(pending).rejects.toThrow();
    expect(await waitFor(() => processStats().live === 0 && processStats().queued === 0, 5_000)).toBe(true);
    const r = await call("probe_video", { video: "idx.mp4" });
    expect(r.isError).toBeFalsy();
  });

  it("cancelling video_qa aborts the model call", async () => {
    const seen = { entered: 0, aborted: 0 };
    policy = scriptedPolicy([{ hang: true }], seen);
    const ac = new AbortController();
    const pending = client.callTool({ name: "video_qa", arguments: { video: "idx.mp4", question: "What happens?" } }, CallToolResultSchema, { signal: ac.signal });
    // The first observation decodes, then the model hangs until cancelled.
    expect(await waitFor(() => seen.entered === 1, 20_000)).toBe(true);
    ac.abort();
    await expect(pending).rejects.toThrow();
    expect(await waitFor(() => seen.aborted === 1, 5_000)).toBe(true);
    expect(await waitFor(() => processStats().live === 0, 5_000)).toBe(true);
  });
});

describe("errors are isError results with actionable messages", () => {
  it("a path outside the roots", async () => {
    const r = await call("probe_video", { video: join(outside, "secret.mp4") });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/FM_ERR_PATH_DENIED/);
    expect(textOf(r)).toContain(dir.split("/").pop()!);
    const up = await call("get_frames", { video: "../" + outside.split("/").pop() + "/secret.mp4", timestamps: [1], rung: "low" });
    expect(textOf(up)).toMatch(/FM_ERR_PATH_DENIED/);
  });

  it("a missing file", async () => {
    const r = await call("get_frames", { video: "nope.mp4", timestamps: [1], rung: "low" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/FM_ERR_VIDEO_NOT_FOUND: video not found: nope.mp4/);
  });

  it("bad arguments list the valid values", async () => {
    const r = await call("get_frames", { video: "idx.mp4", timestamps: [1], rung: "ultra" });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/low.*mid.*high/);
    const both = await call("get_frames", { video: "idx.mp4", timestamps: [1], start: 0, rung: "low" });
    expect(textOf(both)).toMatch(/either timestamps, or start, end and count/);
    const clip = await call("get_clip", { video: "idx.mp4", start: 3, end: 1, rung: "low" });
    expect(textOf(clip)).toMatch(/end must be after start/);
    const range = await call("get_frames", { video: "idx.mp4", timestamps: [60], rung: "low" });
    expect(range.isError).toBe(true);
    expect(textOf(range)).toMatch(/FM_ERR_VIDEO_OUT_OF_RANGE[\s\S]*probe_video/);
  });

  it("an unknown tool", async () => {
    const r = await call("get_audio", {});
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/get_audio/);
  });
});

describe("client roots", () => {
  it("narrow the configured roots when the client declares them", async () => {
    const c = await httpClient(url, { roots: [join(dir, "sub")] });
    try {
      const ok = (await c.callTool({ name: "probe_video", arguments: { video: join(dir, "sub", "copy.mp4") } })) as CallToolResult;
      expect(ok.isError, textOf(ok)).toBeFalsy();
      const denied = (await c.callTool({ name: "probe_video", arguments: { video: "idx.mp4" } })) as CallToolResult;
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toMatch(/FM_ERR_PATH_DENIED[\s\S]*client's roots/);
      const done = await c.complete({ ref: { type: "ref/prompt", name: "ask_video" }, argument: { name: "video", value: "" } });
      expect(done.completion.values).toEqual(["sub/copy.mp4"]);
    } finally {
      await c.close();
    }
  });
});

describe("prompt, completions, logging", () => {
  it("ask_video renders from the template and video paths complete inside the roots", async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(["ask_video"]);
    const p = await client.getPrompt({ name: "ask_video", arguments: { video: "idx.mp4", question: "What colour?", options: "A. red; B. blue" } });
    const text = (p.messages[0]!.content as { text: string }).text;
    expect(text).toContain("`idx.mp4`");
    expect(text).toContain("A. red\nB. blue");
    expect(text).toMatch(/letter of exactly one option/);
    const c = await client.complete({ ref: { type: "ref/prompt", name: "ask_video" }, argument: { name: "video", value: "s" } });
    expect(c.completion.values).toEqual(expect.arrayContaining(["slow.mp4", "sub/copy.mp4"]));
    expect(c.completion.values).not.toContain("idx.mp4");
  });

  it("log messages reach the client at the level it set", async () => {
    const logs: LoggingMessageNotification["params"][] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
    await client.setLoggingLevel("info");
    await call("get_frames", { video: "idx.mp4", timestamps: [0.5], rung: "low" });
    expect(await waitFor(() => logs.some((l) => /1 frames/.test(String(l.data))), 3_000)).toBe(true);
    logs.length = 0;
    await client.setLoggingLevel("error");
    await call("get_frames", { video: "idx.mp4", timestamps: [0.6], rung: "low" });
    await waitFor(() => false, 200);
    expect(logs).toEqual([]);
  });
});

describe("transport", () => {
  const initBody = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body: JSON.stringify(body) });

  it("refuses foreign Host and Origin headers (DNS rebinding)", async () => {
    const { request } = await import("node:http");
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(url);
        const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject);
        req.end(JSON.stringify(initBody));
      });
    expect(await status({ host: "evil.example:80" })).toBe(403);
    expect(await status({ origin: "http://evil.example" })).toBe(403);
    expect(await status({ origin: `http://localhost:${new URL(url).port}` })).toBe(200);
  });

  it("ends a session on DELETE; its id is then unknown (404); no id is 400", async () => {
    const init = await post(initBody);
    const sid = init.headers.get("mcp-session-id")!;
    expect(sid).toBeTruthy();
    await init.body?.cancel();
    const del = await fetch(url, { method: "DELETE", headers: { "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" } });
    expect(del.status).toBe(200);
    const after = await post({ jsonrpc: "2.0", id: 2, method: "tools/list" }, { "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" });
    expect(after.status).toBe(404);
    expect(((await after.json()) as { error: { message: string } }).error.message).toMatch(/initialize a new one/);
    const none = await post({ jsonrpc: "2.0", id: 3, method: "tools/list" });
    expect(none.status).toBe(400);
    const bad = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{not json" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it("stateless mode: every POST stands alone; GET is 405", async () => {
    const runtime = await createRuntime({ roots: [dir] }, { createPolicy: () => scriptedPolicy([]), diagnostics: () => undefined });
    const s = await listenHttp(runtime, { host: "127.0.0.1", port: 0, stateless: true });
    try {
      const c = await httpClient(s.url);
      const r = (await c.callTool({ name: "probe_video", arguments: { video: "idx.mp4" } })) as CallToolResult;
      expect(r.structuredContent).toMatchObject({ frameCount: 50 });
      expect((await c.listTools()).tools).toHaveLength(4);
      await c.close();
      const get = await fetch(s.url, { headers: { accept: "text/event-stream" } });
      expect(get.status).toBe(405);
    } finally {
      await s.app.close();
    }
  });
});
