/**
 * One list of error codes for every surface (CLI, HTTP, OpenAI route, MCP).
 * Each code has an HTTP status and a message template; surfaces render the same
 * FramemindError in their own shape (see renderers at the bottom).
 */

type Params = Record<string, string | number | boolean | undefined>;

interface ErrorSpec {
  status: number;
  /** Message template; `{name}` is replaced by params.name. */
  message: string;
}

export const ERROR_CODES = {
  FM_ERR_VIDEO_NOT_FOUND: { status: 404, message: "video not found: {path}" },
  FM_ERR_VIDEO_NOT_A_FILE: { status: 400, message: "not a regular file: {path}" },
  FM_ERR_VIDEO_NOT_A_VIDEO: { status: 415, message: "not a video file ffmpeg can read: {path} ({reason})" },
  FM_ERR_VIDEO_NO_VIDEO_STREAM: { status: 422, message: "the file has no video stream: {path}" },
  FM_ERR_VIDEO_CORRUPT: { status: 422, message: "the video could not be decoded (corrupt or truncated): {path} ({reason})" },
  FM_ERR_VIDEO_UNSUPPORTED_CODEC: { status: 415, message: "no decoder for codec '{codec}' in this ffmpeg: {path}" },
  FM_ERR_VIDEO_OUT_OF_RANGE: { status: 422, message: "time {time}s is outside the video (0 to {duration}s)" },
  FM_ERR_VIDEO_TIMEOUT: { status: 504, message: "ffmpeg took longer than {ms} ms and was stopped" },
  FM_ERR_VIDEO_LIMIT: { status: 413, message: "limit exceeded: {what} is {value}, the limit is {limit}" },
  FM_ERR_VIDEO_FFMPEG_MISSING: { status: 500, message: "{binary} not found: set {env}, install ffmpeg, or install ffmpeg-static" },
  FM_ERR_VIDEO_FFMPEG_FAILED: { status: 500, message: "ffmpeg failed (exit {exitCode}): {reason}" },
  FM_ERR_IMAGE_UNSUPPORTED: { status: 415, message: "{image}: unsupported image type '{type}' (JPEG and PNG are decoded)" },
  FM_ERR_IMAGE_CORRUPT: { status: 422, message: "{image} could not be decoded (corrupt or truncated): {reason}" },
  FM_ERR_IMAGE_LIMIT: { status: 413, message: "{image}: {what} is {value}, the limit is {limit}" },
  FM_ERR_PATH_DENIED: { status: 403, message: "path is outside the allowed roots ({roots}): {path}" },
  FM_ERR_ARGS_INVALID: { status: 400, message: "invalid arguments: {reason}" },
  FM_ERR_AGENT_PROTOCOL: { status: 422, message: "the reply does not follow the protocol: {reason}" },
  FM_ERR_AGENT_BAD_JSON: { status: 422, message: "the tool call is not valid JSON: {reason}" },
  FM_ERR_AGENT_UNKNOWN_TOOL: { status: 422, message: "unknown tool '{tool}' (tools: {tools})" },
  FM_ERR_AGENT_BAD_CALL: { status: 422, message: "invalid arguments for {tool}: {reason}" },
  FM_ERR_AGENT_OVER_BUDGET: { status: 422, message: "the call costs {cost} visual tokens but only {left} are left" },
  FM_ERR_AGENT_MUST_ANSWER: { status: 422, message: "this was the last turn and it did not answer" },
  FM_ERR_AGENT_TIMEOUT: { status: 504, message: "the question took longer than {ms} ms and was stopped" },
  FM_ERR_POLICY_UNKNOWN: { status: 400, message: "unknown policy '{policy}' (policies: {policies})" },
  FM_ERR_POLICY_CONFIG: { status: 400, message: "policy '{policy}': {reason}" },
  FM_ERR_POLICY_UPSTREAM: { status: 502, message: "the model endpoint failed after {attempts} attempt(s): {reason}" },
  FM_ERR_MODEL_NOT_FOUND: { status: 500, message: "no embedded model at {path} (expected vocab.json and model.safetensors; train one with `train-framemind sft`)" },
  FM_ERR_MODEL_INVALID: { status: 500, message: "the embedded model at {path} is invalid: {reason}" },
  FM_ERR_TRAIN_CONFIG: { status: 400, message: "invalid training config: {reason}" },
  FM_ERR_TRAIN_DATA: { status: 422, message: "training data {path}: {reason}" },
  FM_ERR_POLICY_TIMEOUT: { status: 504, message: "the model endpoint did not reply within {ms} ms ({attempts} attempt(s))" },
  FM_ERR_DATA_NOT_FOUND: { status: 404, message: "dataset file not found: {path}" },
  FM_ERR_DATA_INVALID: { status: 422, message: "{path}: {bad} of {total} lines are invalid" },
  FM_ERR_DATA_FORMAT: { status: 422, message: "{path} is not a {format} annotation file: {reason}" },
  FM_ERR_DATA_TEACHER_UNAVAILABLE: { status: 501, message: "teacher trajectories need datasets/teacher.ts, which is not available: {reason}" },
  FM_ERR_EVAL_POLICY_UNKNOWN: { status: 400, message: "unknown policy '{name}' (valid: {valid})" },
  FM_ERR_EVAL_REPORT_INVALID: { status: 422, message: "{path} is not a valid eval report: {reason}" },
  // HTTP service (src/server): refusals of the request itself, before or around the agent.
  FM_ERR_SERVER_UNAUTHORIZED: { status: 401, message: "missing or invalid API key: send 'Authorization: Bearer <key>'" },
  FM_ERR_SERVER_LINK_INVALID: { status: 403, message: "the link is invalid or has expired: {reason}" },
  FM_ERR_SERVER_URL_DENIED: { status: 403, message: "URL refused: {reason}" },
  FM_ERR_SERVER_URL_FAILED: { status: 502, message: "could not download {url}: {reason}" },
  FM_ERR_SERVER_NOT_FOUND: { status: 404, message: "{what} not found: {id}" },
  FM_ERR_SERVER_MODEL_NOT_FOUND: { status: 404, message: "the model '{model}' does not exist or is not available (models: {models})" },
  FM_ERR_SERVER_PAYLOAD_TOO_LARGE: { status: 413, message: "{what} is larger than the limit of {limit} bytes" },
  FM_ERR_SERVER_UNSUPPORTED_MEDIA: { status: 415, message: "unsupported content type '{type}': expected {expected}" },
  FM_ERR_SERVER_RATE_LIMITED: { status: 429, message: "rate limit exceeded: {limit} requests per {window} s; retry in {retryAfter} s" },
  FM_ERR_SERVER_BUSY: { status: 503, message: "the server is busy ({running} running, {queued} queued); retry in {retryAfter} s" },
  FM_ERR_SERVER_SHUTTING_DOWN: { status: 503, message: "the server is shutting down" },
  FM_ERR_SERVER_POLICY_UNAVAILABLE: { status: 503, message: "policy '{policy}' is not available: {reason}" },
  FM_ERR_SERVER_TIMEOUT: { status: 504, message: "the question took longer than {ms} ms and was stopped" },
  FM_ERR_CANCELLED: { status: 499, message: "the request was cancelled" },
  FM_ERR_ENV_INVALID: { status: 500, message: "environment variable {name}: {reason}" },
  FM_ERR_INTERNAL: { status: 500, message: "internal error: {reason}" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

function render(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => (params[k] === undefined ? `{${k}}` : String(params[k])));
}

export class FramemindError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly params: Params;
  /** Extra diagnostic text, e.g. the tail of ffmpeg's stderr. */
  readonly detail?: string;

  constructor(code: ErrorCode, params: Params = {}, opts: { detail?: string; cause?: unknown } = {}) {
    const spec: ErrorSpec = ERROR_CODES[code];
    super(render(spec.message, params), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "FramemindError";
    this.code = code;
    this.status = spec.status;
    this.params = params;
    this.detail = opts.detail;
  }
}

export function isFramemindError(e: unknown): e is FramemindError {
  return e instanceof FramemindError;
}

/** Anything thrown becomes a FramemindError; unknown errors are internal, aborts are cancellations. */
export function asFramemindError(e: unknown): FramemindError {
  if (e instanceof FramemindError) return e;
  if (e instanceof Error && (e.name === "AbortError" || (e as { code?: string }).code === "ABORT_ERR")) {
    return new FramemindError("FM_ERR_CANCELLED", {}, { cause: e });
  }
  const reason = e instanceof Error ? e.message : String(e);
  return new FramemindError("FM_ERR_INTERNAL", { reason }, { cause: e });
}

/** Throws FM_ERR_CANCELLED if the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new FramemindError("FM_ERR_CANCELLED");
}

/** CLI shape: `{"error": {"code", "message"}}` (printed on stdout, exit 2). */
export function toCliError(e: unknown): { error: { code: ErrorCode; message: string; detail?: string } } {
  const err = asFramemindError(e);
  return { error: { code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) } };
}
