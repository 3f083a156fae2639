/**
 * Streamable HTTP for MCP as a self-contained fastify plugin (POST/GET/DELETE on `path`, default
 * /mcp). Sessions: one McpServer + transport per session (created by `initialize`, ended by
 * DELETE, by idling past `sessionIdleMs`, or by closing the app); `stateless: true` builds a
 * fresh server per POST instead. DNS-rebinding protection: the Host (port-agnostic) and any
 * Origin must name an allowed host.
 *
 * Mounting (the HTTP service does this behind its API-key and limit hooks; tests mount it bare):
 *
 *   const runtime = await createRuntime(options, { gate: workQueue, trajectories });
 *   await app.register(async (scope) => {
 *     scope.addHook("onRequest", authHook);              // hooks of the enclosing scope apply
 *     await scope.register(mcpHttpPlugin, { createServer: () => createMcpServer(runtime), allowedHosts });
 *   });
 *
 * The plugin is encapsulated: its error handler renders every failure on its routes (bad JSON,
 * refused host, hooks' errors) as a JSON-RPC error body with the HTTP status kept.
 */
import { randomUUID } from "node:crypto";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport, type EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { asFramemindError, FramemindError } from "../errors.js";
import type { RouteOptions } from "../server/services.js";

export interface McpHttpOptions {
  /** Builds the server object of one session (or of one stateless request). */
  createServer: () => McpServer;
  /** Route path (default /mcp). */
  path?: string;
  /** No sessions: every POST gets its own server; GET and DELETE answer 405. */
  stateless?: boolean;
  /** Host names accepted in Host/Origin (no ports; IPv6 in brackets); false turns the check off. Default: loopback names. */
  allowedHosts?: readonly string[] | false;
  /** Open sessions at once; initialize beyond it is refused with 503. */
  maxSessions?: number;
  /** A session with no request for this long is closed. */
  sessionIdleMs?: number;
  /** Resumable SSE streams (Last-Event-ID replay). */
  eventStore?: EventStore;
  /** SSE `retry:` hint in ms (clients reconnect after a stream is closed mid-call). */
  retryInterval?: number;
  /** Reply with JSON instead of SSE streams (no progress or log notifications on POST). */
  jsonResponse?: boolean;
}

export const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"] as const;

interface Settled {
  createServer: () => McpServer;
  path: string;
  stateless: boolean;
  allowedHosts: readonly string[] | false;
  maxSessions: number;
  sessionIdleMs: number;
  eventStore?: EventStore;
  retryInterval?: number;
  jsonResponse: boolean;
}

function settle(o: McpHttpOptions): Settled {
  if (typeof o?.createServer !== "function") throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "mcpHttpPlugin needs createServer" });
  return {
    createServer: o.createServer,
    path: o.path ?? "/mcp",
    stateless: o.stateless ?? false,
    allowedHosts: o.allowedHosts === false ? false : (o.allowedHosts ?? LOOPBACK_HOSTS).map((h) => h.toLowerCase()),
    maxSessions: o.maxSessions ?? 100,
    sessionIdleMs: o.sessionIdleMs ?? 30 * 60_000,
    eventStore: o.eventStore,
    retryInterval: o.retryInterval,
    jsonResponse: o.jsonResponse ?? false,
  };
}

interface Session {
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
  /** Requests (including open SSE streams) in flight: a busy session is never idle. */
  open: number;
}

class HttpError extends Error {
  constructor(readonly statusCode: number, readonly rpcCode: number, message: string) {
    super(message);
  }
}

/** The hostname of a Host header or an Origin URL, lower-cased, IPv6 kept in brackets. */
function hostnameOf(value: string, isOrigin: boolean): string | undefined {
  try {
    return new URL(isOrigin ? value : `http://${value}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Options are either McpHttpOptions (standalone, tests) or `{ services }` when buildServer mounts
 * this module inside `framemind serve` (see service.ts).
 */
export const mcpHttpPlugin: FastifyPluginAsync<McpHttpOptions | RouteOptions> = async (app, raw) => {
  const o = settle("services" in raw && raw.services ? await (await import("./service.js")).optionsFromServices(raw.services) : (raw as McpHttpOptions));
  const sessions = new Map<string, Session>();

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err instanceof HttpError ? err.statusCode : (err.statusCode ?? asFramemindError(err).status);
    const rpcCode = err instanceof HttpError ? err.rpcCode : err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err.code === "FST_ERR_CTP_EMPTY_JSON_BODY" ? -32700 : status >= 500 ? -32603 : -32600;
    const message = err instanceof HttpError || err.statusCode ? err.message : asFramemindError(err).message;
    void reply.code(status).send({ jsonrpc: "2.0", error: { code: rpcCode, message }, id: null });
  });

  if (o.allowedHosts) {
    const allowed = new Set(o.allowedHosts);
    app.addHook("onRequest", async (req) => {
      const host = hostnameOf(req.headers.host ?? "", false);
      if (!host || !allowed.has(host)) throw new HttpError(403, -32000, `Invalid Host header: ${req.headers.host ?? "(none)"} (allowed hosts: ${[...allowed].join(", ")})`);
      const origin = req.headers.origin;
      // Non-browser clients send no Origin; a browser page on another site (or "null") is refused.
      if (origin !== undefined && !allowed.has(hostnameOf(origin, true) ?? "")) {
        throw new HttpError(403, -32000, `Invalid Origin header: ${origin} (allowed hosts: ${[...allowed].join(", ")})`);
      }
    });
  }

  const closeSession = async (id: string) => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  };

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, s] of sessions) if (s.open === 0 && now - s.lastSeen > o.sessionIdleMs) void closeSession(id);
  }, Math.min(60_000, Math.max(1_000, o.sessionIdleMs / 4)));
  sweep.unref();

  // preClose, not onClose: open SSE streams would otherwise keep fastify's close waiting.
  app.addHook("preClose", async () => {
    clearInterval(sweep);
    await Promise.all([...sessions.keys()].map(closeSession));
  });

  /** Hands the raw request to the SDK transport; fastify steps aside (the transport writes the response). */
  const handOver = async (transport: StreamableHTTPServerTransport, req: FastifyRequest, reply: FastifyReply, session?: Session) => {
    reply.hijack();
    if (session) {
      session.open++;
      session.lastSeen = Date.now();
      reply.raw.once("close", () => {
        session.open--;
        session.lastSeen = Date.now();
      });
    }
    try {
      await transport.handleRequest(req.raw, reply.raw, req.body);
    } catch (e) {
      // The transport normally answers everything itself; this is the never-crash fallback.
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { "content-type": "application/json" });
        reply.raw.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32603, message: asFramemindError(e).message }, id: null }));
      }
    }
  };

  const transportOptions = () => ({ enableJsonResponse: o.jsonResponse, eventStore: o.eventStore, retryInterval: o.retryInterval });

  const sessionOf = (req: FastifyRequest): Session | undefined => {
    const id = req.headers["mcp-session-id"];
    if (id === undefined) throw new HttpError(400, -32000, "Bad Request: missing Mcp-Session-Id header (send initialize first)");
    const s = sessions.get(String(id));
    if (!s) throw new HttpError(404, -32001, "Session not found (it ended or expired): initialize a new one");
    return s;
  };

  if (o.stateless) {
    app.post(o.path, async (req, reply) => {
      const server = o.createServer();
      const transport = new StreamableHTTPServerTransport({ ...transportOptions(), sessionIdGenerator: undefined });
      reply.raw.once("close", () => {
        void transport.close().catch(() => undefined);
        void server.close().catch(() => undefined);
      });
      await server.connect(transport);
      await handOver(transport, req, reply);
    });
    const notAllowed = async () => {
      throw new HttpError(405, -32000, "Method not allowed: this endpoint is stateless (POST only)");
    };
    app.get(o.path, notAllowed);
    app.delete(o.path, notAllowed);
    return;
  }

  app.post(o.path, async (req, reply) => {
    if (req.headers["mcp-session-id"] !== undefined) {
      const s = sessionOf(req)!;
      return handOver(s.transport, req, reply, s);
    }
    if (!isInitializeRequest(req.body)) throw new HttpError(400, -32000, "Bad Request: no Mcp-Session-Id header and not an initialize request");
    if (sessions.size >= o.maxSessions) {
      throw new HttpError(503, -32000, new FramemindError("FM_ERR_SERVER_BUSY", { running: sessions.size, queued: 0, retryAfter: 30 }).message);
    }
    const server = o.createServer();
    // eslint-disable-next-line prefer-const -- the transport's callbacks need the session it belongs to
    let session: Session;
    const transport = new StreamableHTTPServerTransport({
      ...transportOptions(),
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, session);
      },
      onsessionclosed: (id) => {
        void closeSession(id);
      },
    });
    session = { server, transport, lastSeen: Date.now(), open: 0 };
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && sessions.get(id) === session) void closeSession(id);
    };
    await server.connect(transport);
    await handOver(transport, req, reply, session);
  });

  app.get(o.path, async (req, reply) => {
    const s = sessionOf(req)!;
    return handOver(s.transport, req, reply, s);
  });

  app.delete(o.path, async (req, reply) => {
    const s = sessionOf(req)!;
    return handOver(s.transport, req, reply, s);
  });
};
