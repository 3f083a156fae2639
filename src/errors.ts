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
  FM_ERR_PATH_DENIED: { status: 403, message: "path is outside the allowed roots ({roots}): {path}" },
  FM_ERR_ARGS_INVALID: { status: 400, message: "invalid arguments: {reason}" },
  FM_ERR_CANCELLED: { status: 499, message: "the request was cancelled" },
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
