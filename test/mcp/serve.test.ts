/**
 * /mcp inside `framemind serve` (buildServer mounts src/mcp/http.ts in its protected scope):
 * the API key is required, the service's roots, policy, work queue and trajectory store are used.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { buildServer, type FramemindServer } from "../../src/server/app.js";
import { tmpDir } from "../helpers/videos.js";
import { fixtureVideo, scriptedPolicy, textOf } from "./helpers.js";

const KEY = "mcp-test-key-123";
let server: FramemindServer;
let url: string;

beforeAll(async () => {
  const dir = tmpDir("fm-mcp-serve-");
  await fixtureVideo("idx", dir);
  server = await buildServer(
    // Any free loopback port: the default 8080 may be taken by a running `npm start`.
    { host: "127.0.0.1", port: 0, roots: [dir], apiKeys: [KEY], dataDir: join(dir, "data"), policy: { name: "scripted" } },
    { policyFactory: () => scriptedPolicy(["<think>seen</think><answer>7</answer>"]) },
  );
  url = `${(await server.listen()).url}/mcp`;
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("framemind serve: /mcp", () => {
  it("refuses a client without the API key", async () => {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
    });
    expect(r.status).toBe(401);
  });

  it("serves the tools with the key, and video_qa records land in the service's trajectory store", async () => {
    const client = new Client({ name: "serve-test", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
    try {
      expect((await client.listTools()).tools).toHaveLength(4);
      const r = (await client.callTool({ name: "video_qa", arguments: { video: "idx.mp4", question: "Which?" } })) as CallToolResult;
      expect(r.isError, textOf(r)).toBeFalsy();
      const s = r.structuredContent as { id: string; answer: string };
      expect(s.answer).toBe("7");
      expect((await server.services.store.get(s.id))?.record.answer).toBe("7");
      const res = await client.readResource({ uri: `framemind://trajectories/${s.id}` });
      expect(res.contents).toHaveLength(1);
    } finally {
      await client.close();
    }
  });
});
