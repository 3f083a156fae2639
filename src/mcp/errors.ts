/**
 * FramemindError -> MCP tool error: an `isError: true` result (never a JSON-RPC error, never a
 * crashed server) whose text starts with the code and says what to do next.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { asFramemindError, type ErrorCode } from "../errors.js";

/** What the caller can do about each kind of failure (appended to the message). */
const HINTS: Partial<Record<ErrorCode, string>> = {
  FM_ERR_PATH_DENIED: "pass a path inside one of the allowed roots (relative paths are taken from the first root)",
  FM_ERR_VIDEO_NOT_FOUND: "check the path; relative paths are taken from the first allowed root",
  FM_ERR_VIDEO_OUT_OF_RANGE: "call probe_video for the duration and ask for times inside it",
  FM_ERR_VIDEO_LIMIT: "ask for fewer frames or a shorter video, or retry later",
  FM_ERR_SERVER_BUSY: "retry after a few seconds",
  FM_ERR_VIDEO_TIMEOUT: "ask for fewer frames or a lower rung",
};

export function toolError(e: unknown, extraHint?: string): CallToolResult {
  const err = asFramemindError(e);
  const hint = [HINTS[err.code], extraHint].filter(Boolean).join("; ");
  const text = `${err.code}: ${err.message}${hint ? `\nhint: ${hint}` : ""}`;
  return { isError: true, content: [{ type: "text", text }], _meta: { code: err.code, status: err.status } };
}
