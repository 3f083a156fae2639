/**
 * The HTTP service's configuration: one zod schema with explicit defaults, parsed once at the edge
 * (CLI flags, FRAMEMIND_* env, a JSON config file) and passed down as a typed object. Each plugin
 * reads its own section; nothing else reads flags or env.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { FramemindError } from "../errors.js";

const MB = 1024 * 1024;

const positiveInt = z.number().int().positive();

export const LimitsSchema = z.object({
  /** Questions answered at once (agent loops running); the rest wait in the queue. */
  concurrency: positiveInt.default(2),
  /** Questions allowed to wait; beyond this the server answers 503 with Retry-After. */
  queue: z.number().int().min(0).default(16),
  /** Longest wait in the queue before a 503 (ms). */
  queueTimeoutMs: positiveInt.default(60_000),
  /** Requests per client (API key, else IP) per window; 0 turns rate limiting off. */
  rateLimit: z.number().int().min(0).default(120),
  rateWindowMs: positiveInt.default(60_000),
  /** Time allowed to receive a whole request, headers and body (ms; slow uploads are cut). */
  requestTimeoutMs: positiveInt.default(180_000),
  /** One question's agent loop, model calls and ffmpeg included (ms); 504 when exceeded. */
  questionTimeoutMs: positiveInt.default(120_000),
  /** Uploaded video size cap (multipart). */
  maxUploadBytes: positiveInt.default(200 * MB),
  /** JSON body cap (data: URLs travel inside JSON). */
  maxBodyBytes: positiveInt.default(32 * MB),
  /** URL downloads are cut at this size. */
  maxDownloadBytes: positiveInt.default(200 * MB),
  /** Longest video accepted (seconds). */
  maxDurationS: z.number().positive().default(3600),
});

export const PolicyConfigSchema = z.object({
  /** `tiny` = the embedded model (default), `openai` = any OpenAI-compatible VLM. */
  name: z.string().min(1).default("tiny"),
  baseUrl: z.string().url().optional(),
  model: z.string().optional(),
  apiKey: z.string().optional(),
  /** Model folder for the `tiny` policy (a run's checkpoint or an exported model); default: the shipped one. */
  checkpoint: z.string().min(1).optional(),
});

export const ServerConfigSchema = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Folders server-side paths (and file:// URLs) must lie in; default: the working directory. */
  roots: z.array(z.string().min(1)).min(1).default(() => [process.cwd()]),
  /** Bearer keys; required (non-empty) when bound to a non-loopback address. */
  apiKeys: z.array(z.string().min(8, "API keys must have at least 8 characters")).default([]),
  /** Secret for signed viewer links; derived from the API keys when absent. */
  linkSecret: z.string().min(16).optional(),
  /** Lifetime of signed viewer links (s). */
  linkTtlS: positiveInt.default(7 * 24 * 3600),
  policy: PolicyConfigSchema.default({ name: "tiny" }),
  /** Agent defaults a request may lower (max turns, visual-token budget); unset: the policy's (4 turns, or the longer route of an expert). */
  agent: z
    .object({
      maxTurns: positiveInt.max(16).optional(),
      maxVisualTokens: positiveInt.optional(),
    })
    .default({}),
  limits: LimitsSchema.default(LimitsSchema.parse({})),
  urls: z
    .object({
      /** http(s) video URLs are refused unless enabled. */
      enabled: z.boolean().default(false),
      /** Tests only: let URLs reach loopback (a local file server); private and link-local stay refused. */
      allowLoopback: z.boolean().default(false),
      allowPrivate: z.boolean().default(false),
      timeoutMs: positiveInt.default(30_000),
      maxRedirects: z.number().int().min(0).max(10).default(3),
    })
    .default({ enabled: false, allowLoopback: false, allowPrivate: false, timeoutMs: 30_000, maxRedirects: 3 }),
  /** Where uploads, downloads and trajectories live. */
  dataDir: z.string().min(1).default(() => join(tmpdir(), "framemind-server")),
  /** Uploaded videos (POST /v1/videos) expire after this many seconds. */
  videoTtlS: positiveInt.default(3600),
  /** Trajectories kept on disk (oldest removed first). */
  retainTrajectories: positiveInt.default(1000),
  /** Extra fastify logging (pino); off by default to keep the terminal readable. */
  logLevel: z.enum(["silent", "error", "warn", "info", "debug"]).default("silent"),
});

export type ServerConfig = z.infer<typeof ServerConfigSchema>;
export type ServerConfigInput = z.input<typeof ServerConfigSchema>;
export type Limits = ServerConfig["limits"];

/** Parses a config object; the error names every bad field. */
export function parseServerConfig(input: unknown): ServerConfig {
  const r = ServerConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const reason = r.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason });
  }
  const cfg = r.data;
  if (!isLoopbackHost(cfg.host) && cfg.apiKeys.length === 0) {
    throw new FramemindError("FM_ERR_ARGS_INVALID", {
      reason: `binding to ${cfg.host} (not loopback) requires an API key: pass --api-key or set FRAMEMIND_API_KEY`,
    });
  }
  return cfg;
}

export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
