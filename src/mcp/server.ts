/**
 * One FrameMind MCP server object: tools (video_qa, probe_video, get_frames, get_clip), the
 * trajectory resources, the ask_video prompt, completions and logging. `createRuntime` settles
 * the process-wide parts once; `createMcpServer` is called per stdio connection / HTTP session.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Policy } from "../policy/types.js";
import { canonicalRoots } from "../video/index.js";
import { TrajectoryStore } from "../server/store.js";
import { settleOptions, type McpOptions, type McpOptionsInput } from "./config.js";
import { CallGate, type Gate } from "./limits.js";
import { MemoryTrajectories, registerTrajectoryResources, storeSource, type TrajectorySource } from "./resources.js";
import { registerPrompts } from "./prompts.js";
import { createSession, type McpRuntime } from "./session.js";
import { registerVideoTools } from "./tools.js";
import { registerVideoQa } from "./video-qa.js";

export const SERVER_INFO = { name: "framemind", title: "FrameMind", version: "0.1.0" } as const;

const INSTRUCTIONS =
  "FrameMind answers questions about local video files. Call probe_video first, then get_frames (an overview over [start, end] at a low rung, then exact timestamps at a higher rung) or get_clip for motion; or let video_qa's agent answer. Paths must be inside the allowed roots.";

export type PolicyFactory = (options: McpOptions) => Policy | Promise<Policy>;

export interface RuntimeDeps {
  /** Builds the video_qa policy (src/policy's registry by default). */
  createPolicy?: PolicyFactory;
  /** Concurrency gate shared with the HTTP service (its WorkQueue); a private one otherwise. */
  gate?: Gate;
  trajectories?: TrajectorySource;
  diagnostics?: (line: string) => void;
}

export async function createRuntime(input: McpOptionsInput = {}, deps: RuntimeDeps = {}): Promise<McpRuntime> {
  const settled = settleOptions(input);
  // Canonical once, so every check compares realpaths (a missing root is an argument error now, not per call).
  const options: McpOptions = { ...settled, roots: settled.roots ? await canonicalRoots(settled.roots) : undefined };
  // The registry is imported on first use: policies pull in model runtimes that the frame tools never need.
  const createPolicy: PolicyFactory = deps.createPolicy ?? (async (o) => (await import("./policy.js")).createPolicy(o));
  let policy: Promise<Policy> | undefined;
  return {
    options,
    gate: deps.gate ?? new CallGate(options.maxConcurrentCalls, options.maxQueuedCalls),
    policy() {
      // A failed creation is retried on the next call (e.g. a model endpoint that was down).
      policy ??= Promise.resolve()
        .then(() => createPolicy(options))
        .catch((e: unknown) => {
          policy = undefined;
          throw e;
        });
      return policy;
    },
    trajectories: deps.trajectories ?? (options.trajectoriesDir ? storeSource(new TrajectoryStore({ dir: options.trajectoriesDir })) : new MemoryTrajectories()),
    diagnostics: deps.diagnostics ?? ((line) => process.stderr.write(`framemind mcp: ${line}\n`)),
  };
}

export function createMcpServer(runtime: McpRuntime): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: {}, resources: {}, prompts: {}, logging: {}, completions: {} },
    instructions: INSTRUCTIONS,
  });
  const session = createSession(server, runtime);
  registerVideoTools(session);
  registerVideoQa(session);
  registerTrajectoryResources(session);
  registerPrompts(session);
  return server;
}
