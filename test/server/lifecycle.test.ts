/**
 * Server lifecycle: uploads with ids, the real `openai` policy behind the server, a client that
 * hangs up mid-question (the work stops, no ffmpeg left), graceful shutdown finishing in-flight
 * work, restart keeping trajectories, and the operational routes (metrics, readyz, OpenAPI).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { formatTurn } from "../../src/agent/protocol.js";
import type { FramemindServer } from "../../src/server/app.js";
import { processStats } from "../../src/video/index.js";
import { startFakeOpenAI } from "../helpers/fake-openai.js";
import { fixture, scriptedPolicy, start, type Fixture } from "./helpers.js";

// Uncached questions spawn ffmpeg several times: allow for a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 });

let fx: Fixture;
const servers: FramemindServer[] = [];

beforeAll(async () => {
  fx = await fixture();
});
afterAll(async () => {
  for (const s of servers) await s.close();
  expect(processStats().live).toBe(0);
});

const json = (payload: unknown) => ({ method: "POST" as const, headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });

describe("uploads", () => {
  it("POST /v1/videos returns an id with a TTL; questions use it; DELETE removes the file", async () => {
    const { server, url } = await start(fx, { dataDir: join(fx.dir, "d-up") });
    servers.push(server);
    const form = new FormData();
    form.set("file", new Blob([await readFile(fx.video)], { type: "video/mp4" }), "clip.mp4");
    const up = await fetch(`${url}/v1/videos`, { method: "POST", body: form });
    const v = await up.json();
    expect(up.status, JSON.stringify(v)).toBe(201);
    expect(v.id).toMatch(/^vid_/);
    expect(v.ttl_s).toBe(3600);
    expect(v.video.duration).toBeCloseTo(6, 0);
    const r = await fetch(`${url}/v1/video/qa`, json({ video_id: v.id, question: "Which digit?" }));
    expect((await r.json()).answer).toBe("B");
    expect(await readdir(server.services.videos.dir)).toHaveLength(1);
    const del = await fetch(`${url}/v1/videos/${v.id}`, { method: "DELETE" });
    expect(await del.json()).toEqual({ id: v.id, deleted: true });
    expect(await readdir(server.services.videos.dir)).toHaveLength(0);
    expect((await fetch(`${url}/v1/video/qa`, json({ video_id: v.id, question: "q" }))).status).toBe(404);
  });
});

describe("the tiny policy from another model folder (policy.checkpoint, serve --checkpoint)", () => {
  it("answers with that folder's model: the record names its version", async () => {
    const { server, url } = await start(fx, { dataDir: join(fx.dir, "d-ckpt"), policy: { name: "tiny", checkpoint: "models/framemind-tiny/uniform" } }, { policyFactory: undefined });
    servers.push(server);
    const r = await fetch(`${url}/v1/video/qa`, json({ path: fx.videoName, question: "Which digit?", max_turns: 1 }));
    const body = await r.json();
    expect(r.status, JSON.stringify(body)).toBe(200);
    const rec = await (await fetch(body.trajectory.url)).json();
    expect(rec.record.policy.modelVersion).toMatch(/-uniform\.\d+\+[0-9a-f]{12}$/);
  });
});

describe("the openai policy (fake OpenAI-compatible model) behind the server", () => {
  it("answers through the policy registry", async () => {
    const fake = await startFakeOpenAI([
      { content: formatTurn({ think: "look at 2 s", call: { name: "get_frames", arguments: { timestamps: [2], rung: "low" } } }), usage: { prompt_tokens: 50, completion_tokens: 12 } },
      { content: formatTurn({ think: "the bars read 20", answer: "A" }), usage: { prompt_tokens: 80, completion_tokens: 8 } },
    ]);
    try {
      const { server, url } = await start(fx, { dataDir: join(fx.dir, "d-openai"), policy: { name: "openai", baseUrl: fake.url, model: "fake-vlm-1" } }, { policyFactory: undefined });
      servers.push(server);
      const r = await fetch(`${url}/v1/video/qa`, json({ path: fx.videoName, question: "Which index?", options: ["A. 20", "B. 30"] }));
      const body = await r.json();
      expect(r.status, JSON.stringify(body)).toBe(200);
      expect(body.answer).toBe("A");
      expect(body.policy).toMatch(/^openai:/);
      expect(body.summary.prompt_tokens).toBe(130);
      expect(fake.requests).toHaveLength(2);
    } finally {
      await fake.close();
    }
  });
});

describe("cancellation and shutdown", () => {
  it("a client that disconnects mid-question stops the work: no ffmpeg left, the slot is freed, the record says cancelled", async () => {
    const { server, url } = await start(fx, { dataDir: join(fx.dir, "d-cancel"), limits: { concurrency: 1, queue: 0 } }, { policy: scriptedPolicy({ hang: true }) });
    servers.push(server);
    const ac = new AbortController();
    const pending = fetch(`${url}/v1/video/qa`, { ...json({ path: fx.videoName, question: "q" }), signal: ac.signal }).catch((e: Error) => e);
    await expect.poll(() => server.services.queue.running, { timeout: 30_000 }).toBe(1);
    // Let the first observation's ffmpeg start or finish, then hang up.
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    await expect.poll(() => server.services.queue.running, { timeout: 30_000 }).toBe(0);
    expect(processStats().live).toBe(0);
    await expect.poll(async () => (await server.services.store.list()).length, { timeout: 30_000 }).toBe(1);
    const [saved] = await server.services.store.list();
    expect((await server.services.store.get(saved!.id))!.record.stopReason).toBe("cancelled");
  });

  it("graceful shutdown finishes in-flight questions, refuses new ones, and restart keeps trajectories", async () => {
    const dataDir = join(fx.dir, "d-restart");
    const first = await start(fx, { dataDir }, { policy: scriptedPolicy({ delayMs: 600 }) });
    const inflight = fetch(`${first.url}/v1/video/qa`, json({ path: fx.videoName, question: "Which digit?" }));
    await expect.poll(() => first.server.services.queue.running, { timeout: 30_000 }).toBe(1);
    const closing = first.server.close();
    // New work is refused: the listener is closed (connection refused), or a kept-alive connection gets a 503.
    const late = await fetch(`${first.url}/v1/trajectories`, { signal: AbortSignal.timeout(5000) }).then(
      async (res) => ({ status: res.status, code: ((await res.json()) as { code?: string }).code }),
      () => ({ status: 0, code: "refused" }),
    );
    expect([0, 503]).toContain(late.status);
    if (late.status === 503) expect(late.code).toBe("FM_ERR_SERVER_SHUTTING_DOWN");
    const r = await inflight;
    const body = await r.json();
    expect(r.status).toBe(200);
    expect(body.answer).toBe("B");
    await closing;
    expect(processStats().live).toBe(0);

    const second = await start(fx, { dataDir });
    servers.push(second.server);
    const again = await fetch(`${second.url}/v1/trajectories/${body.id}`);
    expect(again.status).toBe(200);
    const t = await again.json();
    expect(t.record.answer).toBe("B");
    expect(t.frames.length).toBe(10);
    expect((await fetch(`${second.url}${t.frames[9].url}`)).status).toBe(200);
    expect((await (await fetch(`${second.url}/v1/trajectories`)).json()).data[0].id).toBe(body.id);
  });

  it("keeps at most retainTrajectories records on disk", async () => {
    const { server, url } = await start(fx, { dataDir: join(fx.dir, "d-retain"), retainTrajectories: 2 });
    servers.push(server);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await (await fetch(`${url}/v1/video/qa`, json({ path: fx.videoName, question: `q${i}` }))).json()).id);
    expect((await server.services.store.list()).map((t) => t.id)).toEqual([ids[2], ids[1]]);
    expect((await fetch(`${url}/v1/trajectories/${ids[0]}`)).status).toBe(404);
  });
});

describe("operations", () => {
  it("metrics, readiness and the OpenAPI document", async () => {
    const { server, url } = await start(fx, { dataDir: join(fx.dir, "d-ops") });
    servers.push(server);
    await fetch(`${url}/v1/video/qa`, json({ path: fx.videoName, question: "q" }));
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/framemind_http_requests_total\{method="POST",route="\/v1\/video\/qa",status="200"\} 1/);
    expect(metrics).toMatch(/framemind_http_request_duration_seconds_bucket\{route="\/v1\/video\/qa",le="\+Inf"\} 1/);
    expect(metrics).toMatch(/framemind_queue_depth 0/);
    expect(metrics).toMatch(/framemind_ffmpeg_processes\{state="live"\} \d+/);
    expect(metrics).toMatch(/framemind_frame_cache_hit_ratio [\d.]+/);
    expect(metrics).toMatch(/framemind_tokens_total\{kind="visual"\} \d+/);
    expect(metrics).toMatch(/framemind_questions_total\{outcome="answer"\} 1/);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).checks.ffmpeg.ok).toBe(true);
    const doc = await (await fetch(`${url}/docs/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    for (const p of ["/v1/videos", "/v1/videos/{id}", "/v1/video/qa", "/v1/chat/completions", "/v1/models", "/v1/trajectories/{id}", "/trajectories/{id}", "/healthz", "/readyz", "/metrics"]) expect(doc.paths[p], p).toBeDefined();
    expect(doc.paths["/v1/video/qa"].post.requestBody.content["application/json"].schema.properties.question).toBeDefined();
    expect((await fetch(`${url}/docs`)).headers.get("content-type")).toMatch(/text\/html/);
  });
});
