/**
 * Prometheus metrics without a dependency: counters and histograms with labels, gauges read at
 * scrape time, rendered in the text exposition format (version 0.0.4). The plugin times every
 * request by its route pattern (not the raw URL, so ids do not explode the label space).
 */
import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import { frameCacheStats, processStats } from "../video/index.js";
import { shared } from "./plugin.js";

type Labels = Record<string, string>;

const key = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]!.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");

class Counter {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) out.push(`${this.name}${k ? `{${k}}` : ""} ${v}`);
    return out;
  }
}

class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {}
  observe(labels: Labels, value: number): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? "," : "";
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`));
      out.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ""} ${s.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ""} ${s.count}`);
    }
    return out;
  }
}

interface Gauge {
  name: string;
  help: string;
  read: () => Array<[Labels, number]>;
}

/** The service's metrics; one instance per server (tests run several servers in one process). */
export class Metrics {
  readonly requests = new Counter("framemind_http_requests_total", "HTTP requests by route, method and status code.");
  readonly latency = new Histogram("framemind_http_request_duration_seconds", "HTTP request latency by route.", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
  readonly questions = new Counter("framemind_questions_total", "Questions answered by the agent, by outcome (stop reason or error code).");
  readonly tokens = new Counter("framemind_tokens_total", "Tokens used by answered questions, by kind (visual, prompt, completion).");
  readonly rejected = new Counter("framemind_rejected_total", "Requests refused before any work, by reason (unauthorized, rate_limited, busy).");
  private readonly gauges: Gauge[] = [];

  constructor() {
    this.gauge("framemind_ffmpeg_processes", "ffmpeg/ffprobe processes by state (running, queued, live).", () => {
      const s = processStats();
      return [
        [{ state: "running" }, s.running],
        [{ state: "queued" }, s.queued],
        [{ state: "live" }, s.live],
      ];
    });
    this.gauge("framemind_frame_cache_hit_ratio", "Decoded-frame cache hits / lookups since start.", () => {
      const s = frameCacheStats();
      const total = s.hits + s.misses;
      return [[{}, total === 0 ? 0 : s.hits / total]];
    });
    this.gauge("framemind_frame_cache_lookups", "Decoded-frame cache lookups since start, by result.", () => {
      const s = frameCacheStats();
      return [
        [{ result: "hit" }, s.hits],
        [{ result: "miss" }, s.misses],
      ];
    });
    this.gauge("framemind_frame_cache_bytes", "Bytes held by the decoded-frame cache.", () => [[{}, frameCacheStats().bytes]]);
  }

  /** Registers a gauge read at scrape time (queue depth, in-flight work, ...). */
  gauge(name: string, help: string, read: () => Array<[Labels, number]>): void {
    this.gauges.push({ name, help, read });
  }

  render(): string {
    const lines: string[] = [...this.requests.render(), ...this.latency.render(), ...this.questions.render(), ...this.tokens.render(), ...this.rejected.render()];
    for (const g of this.gauges) {
      lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      for (const [labels, v] of g.read()) {
        const k = key(labels);
        lines.push(`${g.name}${k ? `{${k}}` : ""} ${v}`);
      }
    }
    return lines.join("\n") + "\n";
  }
}

declare module "fastify" {
  interface FastifyRequest {
    /** High-resolution start time, for the latency histogram. */
    fmStart?: bigint;
  }
}

/** Times every request (the route itself is in routes/health.ts, behind the API key). */
export const metricsPlugin: FastifyPluginAsync<{ metrics: Metrics }> = shared(async (app: FastifyInstance, opts: { metrics: Metrics }) => {
  const { metrics } = opts;
  app.addHook("onRequest", async (request) => {
    request.fmStart = process.hrtime.bigint();
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions?.url ?? "(unmatched)";
    const status = String(reply.statusCode);
    metrics.requests.inc({ route, method: request.method, status });
    if (request.fmStart !== undefined) metrics.latency.observe({ route }, Number(process.hrtime.bigint() - request.fmStart) / 1e9);
  });
});
