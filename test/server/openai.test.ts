/** The official `openai` client against the real server, unchanged: models, chat (plain and streaming), errors. */
import { readFile } from "node:fs/promises";
import OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { FramemindServer } from "../../src/server/app.js";
import { processStats } from "../../src/video/index.js";
import { fixture, start, type Fixture } from "./helpers.js";

// Uncached questions spawn ffmpeg several times: allow for a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 });

const KEY = "openai-test-key-123";
let fx: Fixture;
let server: FramemindServer;
let client: OpenAI;

beforeAll(async () => {
  fx = await fixture();
  const s = await start(fx, { apiKeys: [KEY] });
  server = s.server;
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: KEY, maxRetries: 0, timeout: 60_000 });
});
afterAll(async () => {
  await server?.close();
  expect(processStats().live).toBe(0);
});

/** vLLM-style `video_url` part (not in the SDK's types, sent as is). */
function videoMessage(url: string, question: string): ChatCompletionMessageParam[] {
  return [{ role: "user", content: [{ type: "text", text: question }, { type: "video_url", video_url: { url } }] as never }];
}

describe("OpenAI-compatible endpoint with the official client", () => {
  it("lists models", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain("framemind-agent");
  });

  it("answers a video_url (file:// inside the roots) without streaming", async () => {
    const r = await client.chat.completions.create({ model: "framemind-agent", messages: videoMessage(`file://${fx.video}`, "Which digit? A. 1 B. 2") });
    expect(r.object).toBe("chat.completion");
    expect(r.choices[0]!.message.content).toBe("B");
    expect(r.choices[0]!.finish_reason).toBe("stop");
    expect(r.usage!.completion_tokens).toBe(30);
    const extra = (r as unknown as { framemind: { trajectory_id: string; timestamps: number[] } }).framemind;
    expect(extra.timestamps).toHaveLength(2);
    expect((await server.services.store.get(extra.trajectory_id))?.record.answer).toBe("B");
  });

  it("streams chunks (reasoning, then the answer) from a data: URL video", async () => {
    const data = `data:video/mp4;base64,${(await readFile(fx.video)).toString("base64")}`;
    const stream = await client.chat.completions.create({ model: "framemind-agent", messages: videoMessage(data, "Which digit?"), stream: true, stream_options: { include_usage: true } });
    let content = "";
    let reasoning = "";
    let finish: string | null = null;
    let usage = 0;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (c) {
        content += c.delta.content ?? "";
        reasoning += (c.delta as { reasoning_content?: string }).reasoning_content ?? "";
        finish = c.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    expect(content).toBe("B");
    expect(finish).toBe("stop");
    expect(reasoning).toMatch(/look closer/);
    expect(reasoning).toMatch(/get_frames/);
    expect(usage).toBeGreaterThan(0);
    expect(await readdirEmpty(server.services.tmpDir)).toBe(true);
  });

  it("raises the SDK's typed errors: unknown model, bad request, path outside roots, bad key", async () => {
    await expect(client.chat.completions.create({ model: "gpt-none", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 404, code: "model_not_found" });
    const bad = await client.chat.completions.create({ model: "framemind-agent", messages: [{ role: "user", content: "no video here" }] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).code).toBe("FM_ERR_ARGS_INVALID");
    const denied = await client.chat.completions.create({ model: "framemind-agent", messages: videoMessage("file:///etc/passwd", "q") }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const anon = new OpenAI({ baseURL: client.baseURL, apiKey: "wrong-key-xxxxxxxxx", maxRetries: 0 });
    await expect(anon.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

async function readdirEmpty(dir: string): Promise<boolean> {
  const { readdir } = await import("node:fs/promises");
  return (await readdir(dir)).length === 0;
}
