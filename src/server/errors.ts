/**
 * The two HTTP error renderers, written once: native routes answer fastify's shape
 * `{statusCode, code, error, message}`, the OpenAI-compatible routes OpenAI's
 * `{"error": {"message", "type", "param", "code"}}` (so the official client raises its typed
 * errors). Errors raised by fastify itself or by @fastify/multipart are mapped onto our codes
 * first, so every refusal carries a FM_ERR_* code and never a stack trace.
 */
import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { asFramemindError, FramemindError } from "../errors.js";

export interface HttpErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
  detail?: string;
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

/** Which shape a route renders errors in (set per route in `config.errorShape`). */
export type ErrorShape = "native" | "openai";

declare module "fastify" {
  interface FastifyContextConfig {
    errorShape?: ErrorShape;
  }
}

/** The caps named in 413 messages (fastify's own errors do not carry them). */
export interface SizeCaps {
  maxBodyBytes?: number;
  maxUploadBytes?: number;
}

/** Fastify / plugin error codes -> ours (their messages are fine to show; their stacks are not). */
function fromFastify(e: FastifyError, caps: SizeCaps = {}): FramemindError | undefined {
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new FramemindError("FM_ERR_SERVER_PAYLOAD_TOO_LARGE", { what: "the request body", limit: caps.maxBodyBytes ?? "the configured" });
    case "FST_REQ_FILE_TOO_LARGE":
      return new FramemindError("FM_ERR_SERVER_PAYLOAD_TOO_LARGE", { what: "the uploaded file", limit: caps.maxUploadBytes ?? "the configured" });
    case "FST_PARTS_LIMIT":
    case "FST_FILES_LIMIT":
    case "FST_FIELDS_LIMIT":
      return new FramemindError("FM_ERR_SERVER_PAYLOAD_TOO_LARGE", { what: "the multipart body (parts)", limit: "the configured" });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_INVALID_MULTIPART_CONTENT_TYPE":
      return new FramemindError("FM_ERR_SERVER_UNSUPPORTED_MEDIA", { type: "(request)", expected: "application/json or multipart/form-data" });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new FramemindError("FM_ERR_ARGS_INVALID", { reason: e.message });
    case "FST_ERR_REQUEST_TIMEOUT":
      return new FramemindError("FM_ERR_SERVER_TIMEOUT", { ms: "the request" });
    default:
      break;
  }
  if (e.validation) return new FramemindError("FM_ERR_ARGS_INVALID", { reason: e.message });
  const status = e.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    if (status === 413) return new FramemindError("FM_ERR_SERVER_PAYLOAD_TOO_LARGE", { what: "the request", limit: "the configured" });
    if (status === 415) return new FramemindError("FM_ERR_SERVER_UNSUPPORTED_MEDIA", { type: "(request)", expected: "application/json or multipart/form-data" });
    return new FramemindError("FM_ERR_ARGS_INVALID", { reason: e.message });
  }
  return undefined;
}

/** Anything thrown in a handler -> FramemindError (fastify codes mapped, unknowns internal). */
export function toFramemindError(e: unknown, caps: SizeCaps = {}): FramemindError {
  if (e instanceof FramemindError) return e;
  const fe = e as FastifyError | null;
  if (fe && typeof fe === "object" && ((typeof fe.code === "string" && fe.code.startsWith("FST_")) || fe.validation)) {
    const mapped = fromFastify(fe, caps);
    if (mapped) return mapped;
  }
  return asFramemindError(e);
}

export function httpErrorBody(e: unknown): HttpErrorBody {
  const err = toFramemindError(e);
  return { statusCode: err.status, code: err.code, error: STATUS_CODES[err.status] ?? "Error", message: err.message };
}

const OPENAI_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "invalid_request_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  422: "invalid_request_error",
  429: "rate_limit_error",
};

export function openaiErrorBody(e: unknown): OpenAIErrorBody {
  const err = toFramemindError(e);
  // OpenAI's own code for an unknown model, so clients that branch on it keep working.
  const code = err.code === "FM_ERR_SERVER_MODEL_NOT_FOUND" ? "model_not_found" : err.code;
  const type = OPENAI_TYPES[err.status] ?? (err.status >= 500 ? "server_error" : "invalid_request_error");
  const param = typeof err.params.param === "string" ? err.params.param : null;
  return { error: { message: err.message, type, param, code } };
}

/** Seconds to wait before retrying, when the error says so (429, 503). */
export function retryAfterOf(e: FramemindError): number | undefined {
  const r = e.params.retryAfter;
  return typeof r === "number" && r > 0 ? Math.ceil(r) : undefined;
}

/** Sends an error in the route's shape; also used by hooks that refuse before the handler. */
export function sendError(request: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  const err = toFramemindError(e);
  const retry = retryAfterOf(err);
  if (retry !== undefined) reply.header("retry-after", String(retry));
  const shape = errorShapeOf(request);
  // 499 (client went away) is not a real HTTP status: nobody reads it; keep it out of the wire.
  const status = err.status === 499 ? 400 : err.status;
  return reply.code(status).type("application/json; charset=utf-8").send(shape === "openai" ? openaiErrorBody(err) : httpErrorBody(err));
}

export function errorShapeOf(request: FastifyRequest): ErrorShape {
  const configured = request.routeOptions?.config?.errorShape;
  if (configured) return configured;
  // Unknown routes under the OpenAI prefix still answer in OpenAI's shape.
  return /^\/v1\/(chat|models|completions|embeddings)/.test(request.url) ? "openai" : "native";
}

/** Installs the error and not-found handlers on the root instance. */
export function installErrorHandlers(app: FastifyInstance, caps: SizeCaps = {}): void {
  app.setErrorHandler((e: unknown, request, reply) => {
    const err = toFramemindError(e, caps);
    if (err.status >= 500 && err.code !== "FM_ERR_SERVER_BUSY" && err.code !== "FM_ERR_SERVER_SHUTTING_DOWN") request.log.error({ err: e }, err.message);
    return sendError(request, reply, err);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? request.url;
    return sendError(request, reply, new FramemindError("FM_ERR_SERVER_NOT_FOUND", { what: "route", id: `${request.method} ${path}` }));
  });
}
