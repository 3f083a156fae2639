/** Every refusal is a JSON error with the right status and a FM_ERR_* code, never a stack trace. */
import { symlinkSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { FramemindServer } from "../../src/server/app.js";
import { trajectoryResource } from "../../src/server/routes/trajectories.js";
import { processStats } from "../../src/video/index.js";
import { makeBrokenFiles } from "../helpers/videos.js";
import { fixture, scriptedPolicy, start, type Fixture } from "./helpers.js";

// Uncached questions spawn ffmpeg several times: allow for a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 });

const KEY = "test-key-0123456789";
let fx: Fixture;
let open: FramemindServer; // no keys, URLs enabled (loopback allowed), small caps
let keyed: FramemindServer; // API key on
let keyedUrl: string;
let files: Server;
let filesUrl: string;
const servers: FramemindServer[] = [];

function expectError(res: { statusCode: number; json: () => unknown; body: string }, status: number, code: string | RegExp): Record<string, unknown> {
  const body = res.json() as Record<string, unknown>;
  expect(res.statusCode, res.body).toBe(status);
  expect(body.statusCode).toBe(status);
  expect(body.code).toMatch(code);
  expect(typeof body.message).toBe("string");
  expect(res.body).not.toMatch(/\n\s+at /); // no stack trace
  return body;
}

beforeAll(async () => {
  fx = await fixture();
  const video = await readFile(fx.video);
  // A local file server for URL input: the video, a large body, a redirect to a private address.
  files = createServer((req, res) => {
    if (req.url === "/clip.mp4") return res.writeHead(200, { "content-type": "video/mp4" }).end(video);
    if (req.url === "/big.mp4") return res.writeHead(200).end(Buffer.alloc(300_000));
    if (req.url === "/redirect") return res.writeHead(302, { location: "http://10.1.2.3/clip.mp4" }).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => files.listen(0, "127.0.0.1", r));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  open = (await start(fx, { limits: { maxUploadBytes: 200_000, maxBodyBytes: 100_000, maxDownloadBytes: 200_000 }, urls: { enabled: true, allowLoopback: true } })).server;
  ({ server: keyed, url: keyedUrl } = await start(fx, { apiKeys: [KEY], dataDir: join(fx.dir, "data-keyed") }));
  servers.push(open, keyed);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await new Promise((r) => files?.close(r));
  expect(processStats().live).toBe(0);
});

const qa = (s: FramemindServer, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  s.app.inject({ method: "POST", url: "/v1/video/qa", headers: { "content-type": "application/json", ...headers }, payload: JSON.stringify(payload) });

describe("400 invalid arguments", () => {
  it("missing question, two sources, no source, bad JSON", async () => {
    expectError(await qa(open, { path: fx.videoName }), 400, "FM_ERR_ARGS_INVALID");
    expectError(await qa(open, { path: fx.videoName, video_id: "vid_abcdefghij", question: "q" }), 400, "FM_ERR_ARGS_INVALID");
    const none = expectError(await qa(open, { question: "q" }), 400, "FM_ERR_ARGS_INVALID");
    expect(none.message).toMatch(/video_id, path, url/);
    const bad = await open.app.inject({ method: "POST", url: "/v1/video/qa", headers: { "content-type": "application/json" }, payload: "{nope" });
    expectError(bad, 400, "FM_ERR_ARGS_INVALID");
    expectError(await qa(open, { path: fx.videoName, question: "q", max_turns: 99 }), 400, "FM_ERR_ARGS_INVALID");
  });
});

describe("401 / 403 auth and signed links", () => {
  it("requires the Bearer key on a keyed server; health and docs stay public", async () => {
    expectError(await keyed.app.inject({ method: "GET", url: "/v1/trajectories" }), 401, "FM_ERR_SERVER_UNAUTHORIZED");
    const oa = await keyed.app.inject({ method: "GET", url: "/v1/models" });
    expect(oa.statusCode).toBe(401);
    expect(oa.json().error).toMatchObject({ type: "authentication_error", code: "FM_ERR_SERVER_UNAUTHORIZED" });
    expectError(await keyed.app.inject({ method: "GET", url: "/v1/trajectories", headers: { authorization: "Bearer wrong-key-xxxxxxxx" } }), 401, "FM_ERR_SERVER_UNAUTHORIZED");
    expectError(await keyed.app.inject({ method: "GET", url: "/metrics" }), 401, "FM_ERR_SERVER_UNAUTHORIZED");
    expect((await keyed.app.inject({ method: "GET", url: "/v1/trajectories", headers: { authorization: `Bearer ${KEY}` } })).statusCode).toBe(200);
    expect((await keyed.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    expect((await keyed.app.inject({ method: "GET", url: "/docs/openapi.json" })).statusCode).toBe(200);
  });

  it("opens the viewer through the signed link returned with the answer, and refuses bad or expired links", async () => {
    const res = await fetch(`${keyedUrl}/v1/video/qa`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` }, body: JSON.stringify({ path: fx.videoName, question: "q?" }) });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.trajectory.viewer).toMatch(/\?exp=\d+&sig=/);
    const page = await fetch(body.trajectory.viewer);
    expect(page.status).toBe(200);
    const html = await page.text();
    const img = /src="([^"]+\.png[^"]*)"/.exec(html)![1]!.replace(/&#38;/g, "&");
    expect((await fetch(`${keyedUrl}${img}`)).status).toBe(200);
    expect((await fetch(body.trajectory.url)).status).toBe(200);
    const id = body.id as string;
    expectError(await keyed.app.inject({ method: "GET", url: `/trajectories/${id}?exp=9999999999&sig=forged` }), 403, "FM_ERR_SERVER_LINK_INVALID");
    const old = keyed.services.signer.sign(trajectoryResource(id), Math.floor(Date.now() / 1000) - keyed.config.linkTtlS - 60);
    expectError(await keyed.app.inject({ method: "GET", url: `/trajectories/${id}?exp=${old.exp}&sig=${old.sig}` }), 403, "FM_ERR_SERVER_LINK_INVALID");
    // A link for one trajectory does not open another.
    const other = keyed.services.signer.sign(trajectoryResource("someone-else"));
    expectError(await keyed.app.inject({ method: "GET", url: `/trajectories/${id}?exp=${other.exp}&sig=${other.sig}` }), 403, "FM_ERR_SERVER_LINK_INVALID");
    expectError(await keyed.app.inject({ method: "GET", url: `/trajectories/${id}` }), 401, "FM_ERR_SERVER_UNAUTHORIZED");
  });

  it("refuses to start on a non-loopback address without a key", async () => {
    await expect(start(fx, { host: "0.0.0.0" })).rejects.toThrow(/requires an API key/);
  });
});

describe("403 paths and URLs", () => {
  it("confines paths to the roots: .., absolute, symlink escape", async () => {
    writeFileSync(join(fx.dir, "outside.mp4"), "x");
    symlinkSync(join(fx.dir, "outside.mp4"), join(fx.roots, "escape.mp4"));
    expectError(await qa(open, { path: "../outside.mp4", question: "q" }), 403, "FM_ERR_PATH_DENIED");
    expectError(await qa(open, { path: "/etc/passwd", question: "q" }), 403, "FM_ERR_PATH_DENIED");
    expectError(await qa(open, { path: "escape.mp4", question: "q" }), 403, "FM_ERR_PATH_DENIED");
    expectError(await qa(open, { url: `file://${join(fx.dir, "outside.mp4")}`, question: "q" }), 403, "FM_ERR_PATH_DENIED");
  });

  it("URL input is off by default", async () => {
    const body = expectError(await qa(keyed, { url: `${filesUrl}/clip.mp4`, question: "q" }, { authorization: `Bearer ${KEY}` }), 403, "FM_ERR_SERVER_URL_DENIED");
    expect(body.message).toMatch(/disabled/);
  });

  it("when on, refuses private, link-local and (unless allowed) loopback targets after DNS, and other schemes", async () => {
    const strict = (await start(fx, { dataDir: join(fx.dir, "data-strict"), urls: { enabled: true } })).server;
    servers.push(strict);
    expectError(await qa(strict, { url: `${filesUrl}/clip.mp4`, question: "q" }), 403, "FM_ERR_SERVER_URL_DENIED");
    expectError(await qa(strict, { url: `http://localhost:${new URL(filesUrl).port}/clip.mp4`, question: "q" }), 403, "FM_ERR_SERVER_URL_DENIED");
    expectError(await qa(strict, { url: "http://169.254.169.254/latest/meta-data", question: "q" }), 403, "FM_ERR_SERVER_URL_DENIED");
    expectError(await qa(strict, { url: "http://10.0.0.8/v.mp4", question: "q" }), 403, "FM_ERR_SERVER_URL_DENIED");
    expectError(await qa(strict, { url: "http://[::ffff:192.168.1.1]/v.mp4", question: "q" }), 403, "FM_ERR_SERVER_URL_DENIED");
    expectError(await qa(strict, { url: "ftp://example.com/v.mp4", question: "q" }), 403, "FM_ERR_SERVER_URL_DENIED");
    // A redirect from an allowed host to a private one is checked again.
    expectError(await qa(open, { url: `${filesUrl}/redirect`, question: "q" }), 403, "FM_ERR_SERVER_URL_DENIED");
  });

  it("downloads an allowed URL (loopback allowed for this test) and answers", async () => {
    const res = await qa(open, { url: `${filesUrl}/clip.mp4`, question: "q" });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().answer).toBe("B");
  });
});

describe("404", () => {
  it("unknown video id, trajectory, route, model", async () => {
    expectError(await qa(open, { video_id: "vid_doesnotexist0", question: "q" }), 404, "FM_ERR_SERVER_NOT_FOUND");
    expectError(await open.app.inject({ method: "GET", url: "/v1/trajectories/nope" }), 404, "FM_ERR_SERVER_NOT_FOUND");
    expectError(await open.app.inject({ method: "DELETE", url: "/v1/videos/vid_doesnotexist0" }), 404, "FM_ERR_SERVER_NOT_FOUND");
    expectError(await open.app.inject({ method: "GET", url: "/v2/nothing" }), 404, "FM_ERR_SERVER_NOT_FOUND");
    expectError(await qa(open, { path: "missing.mp4", question: "q" }), 404, "FM_ERR_VIDEO_NOT_FOUND");
  });
});

describe("413 / 415 / 422", () => {
  it("caps uploads, JSON bodies and downloads", async () => {
    const form = new FormData();
    form.set("file", new Blob([Buffer.alloc(300_000)]), "big.mp4");
    const req = new Request("http://x/v1/videos", { method: "POST", body: form });
    const payload = Buffer.from(await req.arrayBuffer());
    const res = await open.app.inject({ method: "POST", url: "/v1/videos", headers: { "content-type": req.headers.get("content-type")! }, payload });
    expectError(res, 413, "FM_ERR_SERVER_PAYLOAD_TOO_LARGE");
    expectError(await qa(open, { path: fx.videoName, question: "x".repeat(200_000) }), 413, "FM_ERR_SERVER_PAYLOAD_TOO_LARGE");
    expectError(await qa(open, { url: `${filesUrl}/big.mp4`, question: "q" }), 413, "FM_ERR_SERVER_PAYLOAD_TOO_LARGE");
  });

  it("caps video duration", async () => {
    const short = (await start(fx, { dataDir: join(fx.dir, "data-short"), limits: { maxDurationS: 2 } })).server;
    servers.push(short);
    const body = expectError(await qa(short, { path: fx.videoName, question: "q" }), 413, "FM_ERR_VIDEO_LIMIT");
    expect(body.message).toMatch(/duration/);
  });

  it("refuses non-multipart uploads and files that are not videos", async () => {
    expectError(await open.app.inject({ method: "POST", url: "/v1/videos", headers: { "content-type": "application/json" }, payload: "{}" }), 415, "FM_ERR_SERVER_UNSUPPORTED_MEDIA");
    expectError(await open.app.inject({ method: "POST", url: "/v1/video/qa", headers: { "content-type": "text/csv" }, payload: "a,b" }), 415, "FM_ERR_SERVER_UNSUPPORTED_MEDIA");
    const broken = makeBrokenFiles(fx.roots, await readFile(fx.video));
    expectError(await qa(open, { path: "notes.mp4", question: "q" }), 415, "FM_ERR_VIDEO_NOT_A_VIDEO");
    const res = await qa(open, { path: "truncated.mp4", question: "q" });
    expect([200, 415, 422]).toContain(res.statusCode);
    if (res.statusCode !== 200) expect(res.json().code).toMatch(/^FM_ERR_VIDEO_/);
    void broken;
  });
});

describe("504", () => {
  it("stops a question that outlasts the per-question timeout", async () => {
    const slow = (await start(fx, { dataDir: join(fx.dir, "data-slow"), limits: { questionTimeoutMs: 1500 } }, { policy: scriptedPolicy({ hang: true }) })).server;
    servers.push(slow);
    const body = expectError(await qa(slow, { path: fx.videoName, question: "q" }), 504, "FM_ERR_AGENT_TIMEOUT");
    expect(body.message).toMatch(/1500 ms/);
    expect(processStats().live).toBe(0);
    const [saved] = await slow.services.store.list();
    expect((await slow.services.store.get(saved!.id))!.record.stopReason).toBe("timeout");
  });
});

describe("429 / 503 with Retry-After", () => {
  it("rate limits per client", async () => {
    const limited = (await start(fx, { dataDir: join(fx.dir, "data-rl"), limits: { rateLimit: 3, rateWindowMs: 60_000 } })).server;
    servers.push(limited);
    for (let i = 0; i < 3; i++) expect((await limited.app.inject({ method: "GET", url: "/v1/models" })).statusCode).toBe(200);
    const res = await limited.app.inject({ method: "GET", url: "/v1/models" });
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // The OpenAI route renders OpenAI's error shape.
    expect(res.json().error.code).toBe("FM_ERR_SERVER_RATE_LIMITED");
    expect(res.json().error.type).toBe("rate_limit_error");
    expect((await limited.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });

  it("answers 503 + Retry-After when the queue is full; cancelled waiters leave no work behind", async () => {
    const { server: busy, url } = await start(fx, { dataDir: join(fx.dir, "data-busy"), limits: { concurrency: 1, queue: 1 } }, { policy: scriptedPolicy({ hang: true }) });
    servers.push(busy);
    const aborts = [new AbortController(), new AbortController()];
    const ask = (signal?: AbortSignal) => fetch(`${url}/v1/video/qa`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: fx.videoName, question: "q" }), signal });
    const running = aborts.map((a) => ask(a.signal).catch((e: Error) => e));
    await expect.poll(() => busy.services.queue.queued, { timeout: 30_000 }).toBe(1);
    const res = await ask();
    const body = await res.json();
    expect(res.status).toBe(503);
    expect(body.code).toBe("FM_ERR_SERVER_BUSY");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    for (const a of aborts) a.abort();
    await Promise.all(running);
    await expect.poll(() => busy.services.queue.running + busy.services.queue.queued, { timeout: 30_000 }).toBe(0);
  });
});
