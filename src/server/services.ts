/**
 * What route plugins (and mounted plugins such as the MCP transport) receive: the settled config
 * and the server's shared objects. Built once by buildServer (app.ts).
 */
import type { FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from "fastify";
import type { LinkSigner } from "./auth.js";
import type { ServerConfig } from "./config.js";
import type { QaEngine } from "./engine.js";
import type { Metrics } from "./metrics.js";
import type { ApiDocs } from "./openapi.js";
import type { PolicyProvider } from "./policies.js";
import type { TrajectoryStore } from "./store.js";
import type { VideoStore } from "./uploads.js";
import type { WorkQueue } from "./limits.js";

export interface TrajectoryLinks {
  /** JSON record. */
  url: string;
  /** Viewer page; signed and expiring when API keys are on. */
  viewer: string;
}

export interface ServerServices {
  config: ServerConfig;
  metrics: Metrics;
  docs: ApiDocs;
  store: TrajectoryStore;
  videos: VideoStore;
  engine: QaEngine;
  policies: PolicyProvider;
  /** The concurrency limit + bounded queue shared by every route that runs the agent. */
  queue: WorkQueue;
  signer: LinkSigner;
  /** Folder for per-request temp files (uploads, downloads); emptied at shutdown. */
  tmpDir: string;
  /** Absolute links to a trajectory for the request's host. */
  links(request: FastifyRequest, id: string): TrajectoryLinks;
  /** Registers work so shutdown waits for it (in-flight questions finish, no ffmpeg is left). */
  track<T>(work: Promise<T>): Promise<T>;
  /** The protection hooks, for plugins mounted outside buildServer's protected scope. */
  hooks: { auth: onRequestAsyncHookHandler; rateLimit: onRequestAsyncHookHandler; work: preHandlerAsyncHookHandler };
}

/** Options every route plugin gets. */
export interface RouteOptions extends Record<string, unknown> {
  services: ServerServices;
}
