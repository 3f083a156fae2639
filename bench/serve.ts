/**
 * `npm run bench:serve`: load on the HTTP service, loopback only, bounded in count and time.
 * The server runs in a child process (this file, forked with --child) so its RSS and event loop
 * are measured apart from the load generator.
 *   1. cached QA: the same question on a video whose frames are cached, C clients for up to N
 *      requests / T seconds -> requests/s, p50, p99;
 *   2. 50 concurrent uncached questions (50 copies of the video: new files, cold caches), the
 *      queue sized to hold them -> all answered, none failed, wall time, peak server RSS;
 *   3. 200 concurrent against a small queue -> every request is an answer or a 503 with
 *      Retry-After; none hangs (client timeout) or is dropped (connection error).
 * Policy: `scripted` (default; one get_frames call then an answer, no model: measures the service,
 * the agent loop and the video layer), or `--policy tiny` (the embedded model) when it is shipped.
 *
 *   node dist/bench/serve.js [--policy scripted|tiny] [--requests 300] [--seconds 20] [--clients 4]
 */
import { fork, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatTurn } from "../src/agent/protocol.js";
import type { Policy } from "../src/policy/types.js";
import { buildServer, type FramemindServer } from "../src/server/app.js";
import { encodeVideo } from "../src/video/index.js";

// ---- child: the server ----------------------------------------------------------------------

interface ChildConfig {
  policy: string;
  roots: string;
  dataDir: string;
  concurrency: number;
  queue: number;
}

function scripted(): Policy {
  return {
    id: "scripted",
    async step(input) {
      if (input.turn.index === 0 && !input.turn.mustAnswer) {
        const t = Math.round(input.video.duration * 5) / 10;
        return { text: formatTurn({ think: `look closer at ${t} s`, call: { name: "get_frames", arguments: { timestamps: [t], rung: "low" } } }) };
      }
      return { text: formatTurn({ think: "seen enough", answer: "B" }) };
    },
  };
}

async function child(): Promise<void> {
  let server: FramemindServer | undefined;
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  process.on("message", async (m: { cmd: string; cfg?: ChildConfig }) => {
    if (m.cmd === "start" && m.cfg) {
      const c = m.cfg;
      await server?.close();
      server = await buildServer(
        { host: "127.0.0.1", port: 0, roots: [c.roots], dataDir: c.dataDir, policy: { name: c.policy }, limits: { concurrency: c.concurrency, queue: c.queue, rateLimit: 0, queueTimeoutMs: 600_000 } },
        { mcp: false, ...(c.policy === "scripted" ? { policyFactory: () => scripted() } : {}) },
      );
      const { url } = await server.listen();
      const ready = await server.services.policies.ready();
      peak = process.memoryUsage().rss;
      process.send!({ url, ready });
    } else if (m.cmd === "rss") {
      process.send!({ peak, rss: process.memoryUsage().rss });
      peak = process.memoryUsage().rss;
    } else if (m.cmd === "stop") {
      clearInterval(sample);
      await server?.close();
      process.send!({ stopped: true });
      process.exit(0);
    }
  });
}

// ---- parent: the load ------------------------------------------------------------------------

function ask(c: ChildProcess, msg: object): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    c.once("message", (m) => resolve(m as Record<string, unknown>));
    c.send(msg);
  });
}

interface Shot {
  status: number;
  ms: number;
  retryAfter?: string | null;
  error?: string;
}

/** node:http, not fetch: undici's fetch gives up after 300 s without response headers, and a
 * question legitimately waiting in a long queue on a loaded machine can take longer. */
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function qa(url: string, path: string, timeoutMs: number): Promise<Shot> {
  const t0 = performance.now();
  const body = JSON.stringify({ path, question: "Which bar pattern is shown?", options: ["A. left", "B. right"] });
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/video/qa`, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, retryAfter: (res.headers["retry-after"] as string | undefined) ?? null }));
      res.on("error", (e) => resolve({ status: 0, ms: performance.now() - t0, error: e.message }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("hung")));
    req.on("error", (e) => resolve({ status: 0, ms: performance.now() - t0, error: e.message }));
    req.end(body);
  });
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const mb = (b: unknown) => `${(Number(b) / 1024 / 1024).toFixed(0)} MB`;

async function makeVideo(out: string): Promise<void> {
  const [w, h, fps, seconds] = [320, 192, 10, 10];
  function* frames() {
    for (let n = 0; n < fps * seconds; n++) {
      const buf = Buffer.alloc(w * h * 3, 16);
      const x0 = Math.floor((n / (fps * seconds)) * (w - 40));
      for (let y = 40; y < 150; y++) buf.fill(230, (y * w + x0) * 3, (y * w + x0 + 40) * 3);
      yield buf;
    }
  }
  await encodeVideo({ out, width: w, height: h, fps, frames: frames() });
}

async function parent(): Promise<void> {
  const { values } = parseArgs({ options: { policy: { type: "string", default: "scripted" }, requests: { type: "string", default: "300" }, seconds: { type: "string", default: "20" }, clients: { type: "string", default: "4" } } });
  const maxRequests = Number(values.requests);
  const maxSeconds = Number(values.seconds);
  const clients = Number(values.clients);
  const dir = await mkdtemp(join(tmpdir(), "fm-bench-serve-"));
  const roots = join(dir, "videos");
  await mkdir(roots, { recursive: true });
  await makeVideo(join(roots, "v0.mp4"));
  for (let i = 1; i <= 50; i++) await copyFile(join(roots, "v0.mp4"), join(roots, `v${i}.mp4`));
  for (let i = 51; i <= 60; i++) await copyFile(join(roots, "v0.mp4"), join(roots, `v${i}.mp4`));

  const server = fork(fileURLToPath(import.meta.url), ["--child"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const rows: string[][] = [];
  const start = async (concurrency: number, queue: number) => {
    const r = await ask(server, { cmd: "start", cfg: { policy: values.policy!, roots, dataDir: join(dir, "data"), concurrency, queue } });
    const ready = r.ready as { ok: boolean; reason?: string };
    if (!ready.ok) throw new Error(`policy ${values.policy} is not ready: ${ready.reason}`);
    return r.url as string;
  };
  try {
    // 1. cached
    let url = await start(2, 64);
    const warm = await qa(url, "v0.mp4", 60_000);
    if (warm.status !== 200) throw new Error(`warm-up failed: ${warm.status} ${warm.error ?? ""}`);
    const lat: number[] = [];
    let failures = 0;
    let sent = 0;
    const t0 = performance.now();
    const deadline = t0 + maxSeconds * 1000;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (sent < maxRequests && performance.now() < deadline) {
          sent++;
          const s = await qa(url, "v0.mp4", 30_000);
          if (s.status === 200) lat.push(s.ms);
          else failures++;
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const rss1 = await ask(server, { cmd: "rss" });
    rows.push([`cached QA, ${clients} clients`, `${sent}`, `${lat.length} ok / ${failures} failed`, `${(lat.length / secs).toFixed(1)} req/s`, `${pct(lat, 50).toFixed(0)} ms`, `${pct(lat, 99).toFixed(0)} ms`, mb(rss1.peak)]);

    // 2. 50 concurrent uncached, queue holds them all
    url = await start(2, 64);
    let t1 = performance.now();
    const uncached = await Promise.all(Array.from({ length: 50 }, (_, i) => qa(url, `v${i + 1}.mp4`, 620_000)));
    let wall = (performance.now() - t1) / 1000;
    const ok2 = uncached.filter((s) => s.status === 200).map((s) => s.ms);
    const rss2 = await ask(server, { cmd: "rss" });
    const fails2 = uncached.filter((s) => s.status !== 200);
    if (fails2.length) console.error("uncached failures:", fails2.slice(0, 5));
    rows.push(["50 concurrent uncached, queue 64", "50", `${ok2.length} ok / ${50 - ok2.length} failed`, `${(ok2.length / wall).toFixed(1)} req/s (${wall.toFixed(1)} s)`, `${pct(ok2, 50).toFixed(0)} ms`, `${pct(ok2, 99).toFixed(0)} ms`, mb(rss2.peak)]);

    // 3. 200 concurrent, small queue: answers or 503 + Retry-After, nothing hangs
    url = await start(2, 8);
    t1 = performance.now();
    const burst = await Promise.all(Array.from({ length: 200 }, (_, i) => qa(url, `v${51 + (i % 10)}.mp4`, 120_000)));
    wall = (performance.now() - t1) / 1000;
    const answered = burst.filter((s) => s.status === 200);
    const refused = burst.filter((s) => s.status === 503 && s.retryAfter);
    const other = burst.filter((s) => s.status !== 200 && !(s.status === 503 && s.retryAfter));
    const rss3 = await ask(server, { cmd: "rss" });
    rows.push([
      "200 concurrent, concurrency 2 + queue 8",
      "200",
      `${answered.length} ok / ${refused.length} 503+Retry-After / ${other.length} other`,
      `${wall.toFixed(1)} s wall`,
      `${pct(answered.map((s) => s.ms), 50).toFixed(0)} ms ok, ${pct(refused.map((s) => s.ms), 50).toFixed(0)} ms 503`,
      `${pct(burst.map((s) => s.ms), 99).toFixed(0)} ms`,
      mb(rss3.peak),
    ]);
    if (other.length) console.error("unexpected:", other.slice(0, 5));

    const head = ["scenario", "requests", "outcome", "throughput", "p50", "p99", "peak server RSS"];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
    const load = loadavg().map((l) => l.toFixed(1)).join(" ");
    console.log(`\nframemind bench:serve (policy ${values.policy}, loopback, server in a child process, ${process.version}, load average ${load} on ${availableParallelism()} cores)\n`);
    console.log(line(head));
    console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    for (const r of rows) console.log(line(r));
    process.exitCode = other.length || failures || ok2.length !== 50 ? 1 : 0;
  } finally {
    agent.destroy();
    await ask(server, { cmd: "stop" }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv.includes("--child")) void child();
else
  parent().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
