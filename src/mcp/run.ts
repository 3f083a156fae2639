/**
 * Running a FrameMind MCP server on its own: over stdio (what desktop and coding agents spawn),
 * or over Streamable HTTP on a bare fastify instance (`framemind serve` mounts the same plugin
 * behind its API keys and limits instead). In stdio mode stdout carries only the protocol.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { mcpHttpPlugin, LOOPBACK_HOSTS } from "./http.js";
import { createMcpServer } from "./server.js";
import type { McpRuntime } from "./session.js";

/** Serves one client on stdin/stdout until stdin closes or a termination signal arrives. */
export async function runStdio(runtime: McpRuntime): Promise<void> {
  const server = createMcpServer(runtime);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  const stop = () => void server.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  // The client hanging up (stdin EOF) ends the server; the SDK transport does not watch for it.
  process.stdin.once("end", stop);
  await server.connect(transport);
  await closed;
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
}

export interface HttpListenOptions {
  host: string;
  port: number;
  stateless?: boolean;
  /** Extra host names accepted besides loopback (e.g. the machine's DNS name behind a proxy). */
  allowedHosts?: readonly string[];
}

/** A fastify app serving /mcp only; resolves once listening. */
export async function listenHttp(runtime: McpRuntime, o: HttpListenOptions): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(mcpHttpPlugin, {
    createServer: () => createMcpServer(runtime),
    stateless: o.stateless,
    allowedHosts: [...LOOPBACK_HOSTS, ...(o.allowedHosts ?? [])],
  });
  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  return { app, url: `http://${host}:${port}/mcp` };
}
