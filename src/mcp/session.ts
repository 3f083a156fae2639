/**
 * What every tool, resource and prompt of one MCP server object (one per HTTP session, or the
 * stdio connection) shares: settled options, the root rules, logging to the client, and the
 * guarded call wrapper (gate + typed errors -> isError results).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, LoggingLevel } from "@modelcontextprotocol/sdk/types.js";
import { asFramemindError } from "../errors.js";
import type { Policy } from "../policy/types.js";
import type { McpOptions } from "./config.js";
import { toolError } from "./errors.js";
import type { Gate } from "./limits.js";
import type { TrajectorySource } from "./resources.js";
import { RootAccess } from "./roots.js";

/** Process-wide parts shared by every session (one gate, one policy instance, one store). */
export interface McpRuntime {
  options: McpOptions;
  gate: Gate;
  /** The video_qa policy, created on first use (a missing model is a tool error, not a failed start). */
  policy(): Promise<Policy>;
  trajectories?: TrajectorySource;
  /** Where non-protocol diagnostics go (stderr in stdio mode: stdout carries the protocol). */
  diagnostics(line: string): void;
}

export interface SessionContext {
  server: McpServer;
  runtime: McpRuntime;
  options: McpOptions;
  roots: RootAccess;
  log(level: LoggingLevel, data: string): void;
  /** Runs a tool body through the gate; every failure becomes an isError result. */
  call(tool: string, signal: AbortSignal, fn: () => Promise<CallToolResult>): Promise<CallToolResult>;
}

export function createSession(server: McpServer, runtime: McpRuntime): SessionContext {
  const log = (level: LoggingLevel, data: string) => {
    // The SDK keeps the client's chosen level per transport session id, so the id must be passed.
    // Not connected yet / already closed: a log line is not worth an error.
    server.sendLoggingMessage({ level, logger: "framemind", data }, server.server.transport?.sessionId).catch(() => undefined);
  };
  return {
    server,
    runtime,
    options: runtime.options,
    roots: new RootAccess(server.server, runtime.options.roots, runtime.options.maxBytes, log),
    log,
    async call(tool, signal, fn) {
      try {
        return await runtime.gate.run(fn, signal);
      } catch (e) {
        const err = asFramemindError(e);
        if (err.code === "FM_ERR_INTERNAL") runtime.diagnostics(`${tool}: ${err.stack ?? err.message}`);
        log(err.code === "FM_ERR_INTERNAL" ? "error" : "warning", `${tool}: ${err.code}: ${err.message}`);
        return toolError(err);
      }
    },
  };
}
