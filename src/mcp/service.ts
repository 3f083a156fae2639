/**
 * Mounting inside `framemind serve`: buildServer registers src/mcp/http.ts's plugin in its
 * protected scope (API keys, rate limit) with `{ services }`. This turns those services into
 * the MCP plugin's options, so MCP follows the HTTP API's rules: the same roots, the same policy
 * (created once by the service), the same work queue (one slot per tool call), the same
 * trajectory store, the same question timeout, and shutdown waits for running calls.
 */
import type { ServerServices } from "../server/services.js";
import { isLoopbackHost } from "../server/config.js";
import { ladderFor } from "../server/policies.js";
import type { McpHttpOptions } from "./http.js";
import { LOOPBACK_HOSTS } from "./http.js";
import { storeSource } from "./resources.js";
import { createMcpServer, createRuntime } from "./server.js";

const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);

/** Host names accepted on the service's /mcp: loopback, plus the bound host when it is a name or address (not a wildcard). */
function allowedHostsFor(host: string): McpHttpOptions["allowedHosts"] {
  if (isLoopbackHost(host)) return LOOPBACK_HOSTS;
  // Bound to every interface: the public name is unknown here, and API keys are mandatory off loopback.
  if (WILDCARD.has(host)) return false;
  return [...LOOPBACK_HOSTS, host.includes(":") ? `[${host}]` : host];
}

export async function optionsFromServices(services: ServerServices): Promise<McpHttpOptions> {
  const { config } = services;
  const runtime = await createRuntime(
    {
      roots: config.roots,
      qaLadder: ladderFor(config.policy.name),
      policy: config.policy.name,
      timeoutMs: config.limits.questionTimeoutMs,
      maxDurationS: config.limits.maxDurationS,
    },
    {
      createPolicy: async () => (await services.policies.get()).policy,
      gate: { run: (fn, signal) => services.track(services.queue.run(fn, signal)) },
      trajectories: storeSource(services.store),
    },
  );
  return { createServer: () => createMcpServer(runtime), allowedHosts: allowedHostsFor(config.host) };
}
