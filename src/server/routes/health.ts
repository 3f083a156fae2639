/** GET /healthz (the process answers), GET /readyz (ffmpeg found, policy loaded, not closing), GET /metrics. */
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { asFramemindError } from "../../errors.js";
import { binaries } from "../../video/index.js";
import type { RouteOptions } from "../services.js";

const Health = z.object({ status: z.literal("ok"), uptime_s: z.number() });
const Ready = z.object({
  ready: z.boolean(),
  checks: z.object({ ffmpeg: z.object({ ok: z.boolean(), detail: z.string() }), policy: z.object({ ok: z.boolean(), detail: z.string() }), accepting: z.boolean() }),
  queue: z.object({ running: z.number().int(), queued: z.number().int(), capacity: z.number().int() }),
});

export interface HealthOptions extends RouteOptions {
  /** True once shutdown has begun. */
  closing: () => boolean;
}

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { services, closing }) => {
  const { docs, policies, queue, config } = services;
  const t0 = Date.now();
  docs.add({ method: "get", path: "/healthz", tag: "meta", summary: "Liveness", auth: false, responses: { 200: { description: "alive", content: { "application/json": Health } } } });
  app.get("/healthz", { config: { auth: "public" } }, async () => ({ status: "ok" as const, uptime_s: Math.round((Date.now() - t0) / 1000) }));

  docs.add({ method: "get", path: "/readyz", tag: "meta", summary: "Readiness: ffmpeg found, model loaded, accepting work", auth: false, responses: { 200: { description: "ready", content: { "application/json": Ready } }, 503: { description: "not ready (same body)", content: { "application/json": Ready } } } });
  app.get("/readyz", { config: { auth: "public" } }, async (_request, reply) => {
    let ffmpeg = { ok: true, detail: "" };
    try {
      const b = binaries();
      ffmpeg.detail = `${b.ffmpeg.path} (${b.ffmpeg.source})`;
    } catch (e) {
      ffmpeg = { ok: false, detail: asFramemindError(e).message };
    }
    const p = await policies.ready();
    const accepting = !closing();
    const ready = ffmpeg.ok && p.ok && accepting;
    const body: z.infer<typeof Ready> = {
      ready,
      checks: { ffmpeg, policy: { ok: p.ok, detail: p.ok ? p.policy : `${p.policy}: ${p.reason}` }, accepting },
      queue: { running: queue.running, queued: queue.queued, capacity: config.limits.concurrency + config.limits.queue },
    };
    return reply.code(ready ? 200 : 503).send(body);
  });
};

/** GET /metrics sits behind the API key (it reveals load and usage). */
export const metricsRoute: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  services.docs.add({ method: "get", path: "/metrics", tag: "meta", summary: "Prometheus metrics: requests and latency by route, queue depth, ffmpeg processes, cache hit rate, tokens", responses: { 200: { description: "text exposition format 0.0.4", content: { "text/plain": undefined } } }, errors: [401] });
  app.get("/metrics", async (_request, reply) => reply.type("text/plain; version=0.0.4; charset=utf-8").send(services.metrics.render()));
};
