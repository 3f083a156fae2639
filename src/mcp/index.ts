/** The MCP surface: server factory, runtime, transports (stdio, fastify Streamable HTTP plugin). */
export { McpOptionsSchema, settleOptions, type McpOptions, type McpOptionsInput } from "./config.js";
export { createMcpServer, createRuntime, SERVER_INFO, type PolicyFactory, type RuntimeDeps } from "./server.js";
export { mcpHttpPlugin, LOOPBACK_HOSTS, type McpHttpOptions } from "./http.js";
export { CallGate, type Gate } from "./limits.js";
export { MemoryTrajectories, storeSource, trajectoryUri, TRAJECTORY_URI, type TrajectorySource } from "./resources.js";
export { listenHttp, runStdio, type HttpListenOptions } from "./run.js";
export type { McpRuntime } from "./session.js";
