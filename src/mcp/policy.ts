/** video_qa's default policy: the project's policy registry (src/policy), configured from the MCP options. */
import { createPolicy as fromRegistry, type Policy } from "../policy/index.js";
import type { McpOptions } from "./config.js";

export function createPolicy(options: McpOptions): Promise<Policy> {
  return fromRegistry(options.policy, {
    ladder: options.qaLadder,
    ...(options.openai ? { openai: options.openai } : {}),
    ...(options.checkpoint ? { options: { checkpoint: options.checkpoint } } : {}),
  });
}
