/** The tool registry: the agent loop and the MCP server both read tools from here. */
import { getClipTool } from "./get_clip.js";
import { getFramesTool } from "./get_frames.js";
import { probeVideoTool } from "./probe_video.js";

export { getClipTool, getFramesTool, probeVideoTool };
export type { FramesOutput, Tool, ToolContext } from "./types.js";

/** Tools the policy may call inside the FiCOT loop (the agent binds the video). */
export const POLICY_TOOLS = [getFramesTool, getClipTool] as const;
export type PolicyToolName = (typeof POLICY_TOOLS)[number]["name"];
