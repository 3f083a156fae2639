/**
 * buildServer(config, options) -> a ready fastify app and its services; listen() / close().
 *
 *   const server = await buildServer({ roots: ["videos"], apiKeys: ["k..."] });
 *   const { url } = await server.listen();      // host/port from the config (port 0 = any)
 *   ...
 *   await server.close();                       // graceful: see "Shutdown" below
 *
 * Scopes (each feature is a plugin that settles its options first):
 *   root       error renderers, multipart, request timing (metrics), shutdown gate,
 *              public routes: /healthz, /readyz, /docs, /docs/openapi.json
 *   protected  onRequest auth (Bearer key; signed links on `config.auth: "signed"` routes)
 *              -> onRequest rate limit (per key / IP, 429) -> preHandler work queue on
 *              `config.work: true` routes (concurrency limit, bounded queue, 503 + Retry-After)
 *              routes: /v1/videos, /v1/video/qa, /v1/chat/completions, /v1/models,
 *              /v1/trajectories, /trajectories/:id, /metrics, and every extra plugin.
 *
 * Extra plugins (the MCP Streamable HTTP transport): pass `options.plugins`, or let buildServer
 * mount src/mcp/http.ts when it exists (default export, or `mcpHttpPlugin`). Each is registered
 * INSIDE the protected scope with `{ services }` (ServerServices: config, store, engine, queue,
 * signer, track, hooks, ...), so the same API-key and rate-limit hooks apply to its routes;
 * routes that run the agent set `config: { work: true }` (slot per HTTP request) or wrap the
 * work in `services.queue.run(fn, signal)` (slot per question) and `services.track(promise)`
 * so shutdown waits for it. `services.hooks` exposes the hooks for plugins mounted elsewhere.
 *
 * Shutdown: new requests get 503 FM_ERR_SERVER_SHUTTING_DOWN, queued ones too; running
 * questions (and open SSE streams) finish; then uploads and temp files are removed. Nothing
 * spawns ffmpeg after that, and every process the work started has ended.
 */
import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import multipart from "@fastify/multipart";
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from "fastify";
import { packageVersion } from "../../prompts/index.js";
import { FramemindError } from "../errors.js";
import { canonicalRoots } from "../video/index.js";
import { createAuthHook, LinkSigner } from "./auth.js";
import { parseServerConfig, type ServerConfig, type ServerConfigInput } from "./config.js";
import { QaEngine } from "./engine.js";
import { installErrorHandlers, sendError } from "./errors.js";
import { createRateLimitHook, createWorkHook, WorkQueue } from "./limits.js";
import { Metrics, metricsPlugin } from "./metrics.js";
import { ApiDocs, docsPlugin } from "./openapi.js";
import { PolicyProvider, type PolicyFactory } from "./policies.js";
import { healthRoutes, metricsRoute } from "./routes/health.js";
import { openaiRoutes } from "./routes/openai.js";
import { qaRoutes } from "./routes/qa.js";
import { signedTrajectory, trajectoryRoutes, trajectoryResource } from "./routes/trajectories.js";
import { videoRoutes } from "./routes/videos.js";
import type { RouteOptions, ServerServices } from "./services.js";
import { TrajectoryStore } from "./store.js";
import { VideoStore } from "./uploads.js";

export type { ServerServices, RouteOptions } from "./services.js";
export type { ServerConfig, ServerConfigInput } from "./config.js";

export interface ExtraPlugin {
  plugin: FastifyPluginAsync<RouteOptions>;
  /** Mount prefix (e.g. none for a plugin that defines /mcp itself). */
  prefix?: string;
}

export interface BuildOptions {
  /** Creates policies by name (default: the src/policy registry). Tests and the bench inject their own. */
  policyFactory?: PolicyFactory;
  /** Mounted in the protected scope after the built-in routes. */
  plugins?: ExtraPlugin[];
  /** Mount src/mcp/http.ts when present (default true). */
  mcp?: boolean;
}

export interface FramemindServer {
  app: FastifyInstance;
  services: ServerServices;
  config: ServerConfig;
  /** Binds host:port from the config; resolves with the base URL. */
  listen(): Promise<{ url: string; port: number }>;
  /** Graceful shutdown (idempotent). */
  close(): Promise<void>;
}

/** The MCP transport module, if that part of the project is present in this build. */
async function loadMcpPlugin(): Promise<FastifyPluginAsync<RouteOptions> | undefined> {
  const here = fileURLToPath(new URL("../mcp/http.js", import.meta.url));
  if (!existsSync(here) && !existsSync(here.replace(/\.js$/, ".ts"))) return undefined;
  const spec = "../mcp/http.js";
  const mod = (await import(spec)) as { default?: unknown; mcpHttpPlugin?: unknown };
  const p = mod.mcpHttpPlugin ?? mod.default;
  return typeof p === "function" ? (p as FastifyPluginAsync<RouteOptions>) : undefined;
}

export async function buildServer(input: ServerConfigInput | ServerConfig = {}, options: BuildOptions = {}): Promise<FramemindServer> {
  const config = parseServerConfig(input);
  const { limits } = config;
  // A missing root is a start-up error, not a 4xx on every request.
  await canonicalRoots(config.roots);
  const tmpDir = join(config.dataDir, "tmp", `${process.pid}-${Date.now().toString(36)}`);
  const videosDir = join(config.dataDir, "videos", `${process.pid}-${Date.now().toString(36)}`);
  await mkdir(tmpDir, { recursive: true });
  await mkdir(videosDir, { recursive: true });

  const metrics = new Metrics();
  const docs = new ApiDocs({ title: "FrameMind", version: packageVersion() });
  const store = new TrajectoryStore({ dir: join(config.dataDir, "trajectories"), retain: config.retainTrajectories });
  const videos = new VideoStore(videosDir, config.videoTtlS);
  const policies = new PolicyProvider(config.policy, options.policyFactory);
  const queue = new WorkQueue({ concurrency: limits.concurrency, queue: limits.queue, queueTimeoutMs: limits.queueTimeoutMs });
  const engine = new QaEngine({ policies, store, metrics, questionTimeoutMs: limits.questionTimeoutMs, ...(config.agent.maxTurns ? { defaultMaxTurns: config.agent.maxTurns } : {}), ...(config.agent.maxVisualTokens ? { defaultMaxVisualTokens: config.agent.maxVisualTokens } : {}) });
  // Without an explicit secret, links are signed with a key derived from the API keys, so they stay valid across restarts.
  const signer = new LinkSigner(config.linkSecret ?? (config.apiKeys.length ? config.apiKeys.join("\n") : undefined), config.linkTtlS);
  const inflight = new Set<Promise<unknown>>();
  let closing = false;

  const reject = (reason: string) => metrics.rejected.inc({ reason });
  const hooks: ServerServices["hooks"] = {
    auth: createAuthHook({ apiKeys: config.apiKeys, signer, signedResource: signedTrajectory, onReject: reject }),
    rateLimit: createRateLimitHook({ max: limits.rateLimit, windowMs: limits.rateWindowMs, onReject: reject }),
    work: createWorkHook({ queue, onReject: reject }),
  };
  metrics.gauge("framemind_queue_depth", "Questions waiting for a slot.", () => [[{}, queue.queued]]);
  metrics.gauge("framemind_inflight", "Questions running.", () => [[{}, queue.running]]);
  metrics.gauge("framemind_uploaded_videos", "Uploaded videos held (POST /v1/videos).", () => [[{}, videos.size]]);

  const services: ServerServices = {
    config,
    metrics,
    docs,
    store,
    videos,
    engine,
    policies,
    queue,
    signer,
    tmpDir,
    hooks,
    links(request: FastifyRequest, id: string) {
      const base = `${request.protocol}://${request.host}`;
      const path = encodeURIComponent(id);
      const signed = config.apiKeys.length ? `?${signer.query(trajectoryResource(id))}` : "";
      return { url: `${base}/v1/trajectories/${path}${signed}`, viewer: `${base}/trajectories/${path}${signed}` };
    },
    track<T>(work: Promise<T>): Promise<T> {
      inflight.add(work);
      const done = () => void inflight.delete(work);
      work.then(done, done);
      return work;
    },
  };

  const app = Fastify({
    logger: config.logLevel === "silent" ? false : { level: config.logLevel },
    bodyLimit: limits.maxBodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    // Shutdown answers in our error shape (below) instead of fastify's bare 503.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    // Client-supplied ids are validated by each route's zod schema.
    routerOptions: { maxParamLength: 200 },
  });
  installErrorHandlers(app, limits);
  await app.register(multipart, { limits: { fileSize: limits.maxUploadBytes, files: 1 } });
  await app.register(metricsPlugin, { metrics });
  app.addHook("onRequest", async (request, reply) => {
    if (closing) {
      reply.header("connection", "close");
      return sendError(request, reply, new FramemindError("FM_ERR_SERVER_SHUTTING_DOWN", { retryAfter: 5 }));
    }
  });
  // Responses finishing during shutdown close their connection, so the server can stop.
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });
  await app.register(docsPlugin, { docs });
  await app.register(healthRoutes, { services, closing: () => closing });

  const extra = [...(options.plugins ?? [])];
  if (options.mcp !== false) {
    const mcp = await loadMcpPlugin();
    if (mcp) extra.push({ plugin: mcp });
  }
  await app.register(async (scope) => {
    scope.addHook("onRequest", hooks.auth);
    scope.addHook("onRequest", hooks.rateLimit);
    scope.addHook("preHandler", hooks.work);
    await scope.register(videoRoutes, { services });
    await scope.register(qaRoutes, { services });
    await scope.register(openaiRoutes, { services });
    await scope.register(trajectoryRoutes, { services });
    await scope.register(metricsRoute, { services });
    for (const p of extra) await scope.register(p.plugin, { services, ...(p.prefix ? { prefix: p.prefix } : {}) });
  });

  app.addHook("onClose", async () => {
    // Work still running after the connections closed (e.g. a client that hung up) is awaited too.
    await Promise.allSettled([...inflight]);
    await videos.close();
    await rm(tmpDir, { recursive: true, force: true });
    await rm(videosDir, { recursive: true, force: true });
  });
  await app.ready();

  let closed: Promise<void> | undefined;
  return {
    app,
    services,
    config,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const addr = app.server.address();
      const port = typeof addr === "object" && addr ? addr.port : config.port;
      const host = config.host.includes(":") ? `[${config.host}]` : config.host;
      return { url: `http://${host}:${port}`, port };
    },
    close() {
      return (closed ??= (async () => {
        closing = true;
        queue.close();
        // Keep-alive connections that go idle after the close began (e.g. an SSE stream that
        // just ended) would otherwise hold the close until their keep-alive timeout.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
        }
      })());
    },
  };
}
