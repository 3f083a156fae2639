/**
 * Load limits: a per-client rate limit (token bucket, 429 + Retry-After) and a concurrency limit
 * with a bounded FIFO queue for the routes that run the agent (`config.work: true`; 503 +
 * Retry-After when the queue is full or a wait outlasts queueTimeoutMs). A slot is held until
 * the response is closed AND the work the handler registered has stopped, so a client that
 * hangs up never lets a new question start while the old one's ffmpeg is still being killed.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestAsyncHookHandler, preHandlerAsyncHookHandler } from "fastify";
import { FramemindError } from "../errors.js";
import { shared } from "./plugin.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Runs the agent: takes a concurrency slot (queued when all are busy). */
    work?: boolean;
  }
  interface FastifyRequest {
    /** Work started by the handler; the slot is released when it settles. */
    fmWork?: Set<Promise<unknown>>;
    /** Milliseconds the request waited in the queue. */
    fmQueueMs?: number;
    /** Aborted when the client disconnects before the response is complete. */
    fmClientGone?: AbortSignal;
  }
}

// ---- rate limit -------------------------------------------------------------------------------

export interface RateLimitOptions extends Record<string, unknown> {
  /** Requests per window per client; 0 disables. */
  max: number;
  windowMs: number;
  onReject?: (reason: "rate_limited") => void;
}

/** Token bucket per client: `max` requests, refilled continuously over `windowMs`. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(readonly max: number, readonly windowMs: number) {}

  /** Takes a token; returns the seconds to wait when none is left. */
  take(client: string, now = Date.now()): { ok: boolean; remaining: number; retryAfterS: number } {
    const rate = this.max / this.windowMs;
    const b = this.buckets.get(client) ?? { tokens: this.max, at: now };
    b.tokens = Math.min(this.max, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(client, b);
    if (this.buckets.size > 10_000) this.prune(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, remaining: Math.floor(b.tokens), retryAfterS: 0 };
    }
    return { ok: false, remaining: 0, retryAfterS: Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000)) };
  }

  /** Drops buckets that have refilled completely (they carry no state). */
  private prune(now: number): void {
    for (const [k, b] of this.buckets) if (b.tokens + (now - b.at) * (this.max / this.windowMs) >= this.max) this.buckets.delete(k);
  }
}

export function createRateLimitHook(opts: RateLimitOptions): onRequestAsyncHookHandler {
  const limiter = new RateLimiter(opts.max, opts.windowMs);
  return async (request, reply) => {
    if (opts.max === 0 || request.routeOptions?.config?.auth === "public") return;
    const r = limiter.take(request.fmClient ?? `ip:${request.ip}`);
    reply.header("x-ratelimit-limit", String(opts.max));
    reply.header("x-ratelimit-remaining", String(r.remaining));
    if (!r.ok) {
      opts.onReject?.("rate_limited");
      throw new FramemindError("FM_ERR_SERVER_RATE_LIMITED", { limit: opts.max, window: opts.windowMs / 1000, retryAfter: r.retryAfterS });
    }
  };
}

// ---- concurrency + queue ----------------------------------------------------------------------

export interface WorkQueueOptions {
  concurrency: number;
  queue: number;
  queueTimeoutMs: number;
}

/** A semaphore with a bounded FIFO queue; refuses with FM_ERR_SERVER_BUSY instead of growing. */
export class WorkQueue {
  private active = 0;
  private readonly waiters: Array<{ go: () => void; fail: (e: FramemindError) => void }> = [];
  /** Moving average of how long a slot is held, for Retry-After. */
  private avgHoldMs = 2000;
  private closed = false;

  constructor(readonly opts: WorkQueueOptions) {}

  get running(): number {
    return this.active;
  }
  get queued(): number {
    return this.waiters.length;
  }

  /** Seconds a refused client should wait: the queue ahead drained at the observed rate. */
  retryAfterS(): number {
    return Math.max(1, Math.ceil(((this.waiters.length + 1) * this.avgHoldMs) / this.opts.concurrency / 1000));
  }

  private busy(): FramemindError {
    return new FramemindError("FM_ERR_SERVER_BUSY", { running: this.active, queued: this.waiters.length, retryAfter: this.retryAfterS() });
  }

  /** Waits for a slot; resolves to its release function (idempotent). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.closed) throw new FramemindError("FM_ERR_SERVER_SHUTTING_DOWN");
    if (signal?.aborted) throw new FramemindError("FM_ERR_CANCELLED");
    if (this.active < this.opts.concurrency) return this.grant();
    if (this.waiters.length >= this.opts.queue) throw this.busy();
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        go: () => {
          cleanup();
          resolve();
        },
        fail: (e: FramemindError) => {
          cleanup();
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(e);
        },
      };
      const timer = setTimeout(() => waiter.fail(this.busy()), this.opts.queueTimeoutMs);
      const onAbort = () => waiter.fail(new FramemindError("FM_ERR_CANCELLED"));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
    return this.grant(true);
  }

  /** Runs fn inside a slot (for callers outside a route, e.g. an MCP tool call). */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Refuses everything waiting (shutdown); running work finishes. */
  close(): void {
    this.closed = true;
    for (const w of [...this.waiters]) w.fail(new FramemindError("FM_ERR_SERVER_SHUTTING_DOWN"));
  }

  private grant(handedOver = false): () => void {
    // A slot handed over by release() was already counted there.
    if (!handedOver) this.active++;
    const t0 = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.avgHoldMs = 0.8 * this.avgHoldMs + 0.2 * (performance.now() - t0);
      const next = this.waiters.shift();
      if (next) next.go();
      else this.active--;
    };
  }
}

/** Registers a promise as the request's work: its slot is held until it settles. */
export function trackWork<T>(request: FastifyRequest, work: Promise<T>): Promise<T> {
  (request.fmWork ??= new Set()).add(work);
  return work;
}

/** An AbortSignal for "the client hung up before the response was complete". */
export function clientGoneSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  if (request.fmClientGone) return request.fmClientGone;
  const ac = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) ac.abort(new FramemindError("FM_ERR_CANCELLED"));
  });
  request.fmClientGone = ac.signal;
  return ac.signal;
}

export interface WorkLimitOptions extends Record<string, unknown> {
  queue: WorkQueue;
  onReject?: (reason: "busy") => void;
}

/** The preHandler hook of `work` routes (exported for the MCP transport). */
export function createWorkHook(opts: WorkLimitOptions): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    if (!request.routeOptions?.config?.work) return;
    const t0 = performance.now();
    let release: () => void;
    try {
      release = await opts.queue.acquire(clientGoneSignal(request, reply));
    } catch (e) {
      if (e instanceof FramemindError && e.code === "FM_ERR_SERVER_BUSY") opts.onReject?.("busy");
      throw e;
    }
    request.fmQueueMs = performance.now() - t0;
    const work = (request.fmWork ??= new Set());
    reply.raw.once("close", () => {
      void Promise.allSettled([...work]).then(release);
    });
  };
}

export const workLimitPlugin: FastifyPluginAsync<WorkLimitOptions> = shared(async (app, opts: WorkLimitOptions) => {
  app.addHook("preHandler", createWorkHook(opts));
});

export const rateLimitPlugin: FastifyPluginAsync<RateLimitOptions> = shared(async (app, opts: RateLimitOptions) => {
  app.addHook("onRequest", createRateLimitHook(opts));
});
