/**
 * POST /v1/video/qa: a question about a video (id, upload, path in the roots, or URL), answered
 * by the agent loop. JSON reply, or SSE (`stream: true` / Accept: text/event-stream) with one
 * event per agent step (start, frames, reasoning, tool_call, error, answer, done) and a final
 * `result` event carrying the same object as the JSON reply (or an `error` event).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { rm } from "node:fs/promises";
import type { AgentEvent } from "../../agent/loop.js";
import { FramemindError } from "../../errors.js";
import type { QaOutcome } from "../engine.js";
import { httpErrorBody } from "../errors.js";
import { localVideo, pickSource, type LocalVideo } from "../inputs.js";
import { clientGoneSignal, trackWork } from "../limits.js";
import { parseInput } from "../plugin.js";
import { QaMultipartSchema, QaReplySchema, QaRequestSchema, type QaReply, type QaRequest } from "../schemas.js";
import type { RouteOptions, ServerServices } from "../services.js";
import { openSse, wantsStream } from "../sse.js";
import { readMultipart, type UploadedFile } from "../uploads.js";

/** Multipart fields are strings: `options` may be repeated or a JSON array. */
function fromFields(fields: Record<string, string | string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields };
  const o = fields.options;
  if (typeof o === "string") out.options = o.trim().startsWith("[") ? safeJson(o) : o.split(/\s*\n\s*/).filter(Boolean);
  return out;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "options: not a JSON array of strings" });
  }
}

/** The JSON reply (also the SSE `result` event, and the base of the chat route's extras). */
export function qaReply(services: ServerServices, request: FastifyRequest, outcome: QaOutcome): QaReply {
  const r = outcome.record;
  const links = services.links(request, r.id);
  return {
    id: r.id,
    answer: r.answer,
    timestamps: r.evidenceCited,
    warnings: r.warnings,
    stop_reason: r.stopReason,
    policy: r.policy.id,
    trajectory: { id: r.id, url: links.url, viewer: links.viewer },
    summary: {
      turns: r.turns.length,
      frames: r.framesSeen.length,
      visual_tokens: r.tokens.visual,
      prompt_tokens: r.tokens.textPrompt ?? null,
      completion_tokens: r.tokens.textCompletion ?? null,
      calls: r.calls.total,
      invalid_calls: r.calls.invalid,
      timings_ms: { total: r.timings.totalMs, queue: Math.round(request.fmQueueMs ?? 0), video: r.timings.videoMs, model: r.timings.modelMs, overhead: r.timings.overheadMs },
    },
  };
}

async function readRequest(request: FastifyRequest, services: ServerServices): Promise<{ q: QaRequest; file?: UploadedFile }> {
  if (request.isMultipart()) {
    const { fields, file } = await readMultipart(request, { dir: services.tmpDir, maxBytes: services.config.limits.maxUploadBytes });
    try {
      return { q: parseInput(QaRequestSchema, fromFields(fields)), ...(file ? { file } : {}) };
    } catch (e) {
      if (file) await rm(file.path, { force: true });
      throw e;
    }
  }
  return { q: parseInput(QaRequestSchema, request.body ?? {}) };
}

/** Answers one QA request; resolves once the reply (JSON or stream) is complete. */
async function handle(services: ServerServices, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const signal = clientGoneSignal(request, reply);
  const { q, file } = await readRequest(request, services);
  let local: LocalVideo | undefined;
  try {
    const source = pickSource({ video_id: q.video_id, path: q.path, url: q.url, file });
    local = await localVideo(source, { config: services.config, videos: services.videos, tmpDir: services.tmpDir, signal });
    const job = { video: local.path, roots: local.roots, question: q.question, options: q.options, policy: q.policy, maxTurns: q.max_turns, maxVisualTokens: q.budget, signal, meta: { route: "qa" } };
    if (!wantsStream(q.stream, request.headers.accept)) {
      const outcome = await services.engine.ask(job);
      // Temp files go before the reply does: a client that sees the answer sees them gone.
      await local.cleanup();
      if (outcome.error) throw outcome.error;
      return reply.send(qaReply(services, request, outcome));
    }
    const sse = openSse(reply);
    try {
      const outcome = await services.engine.ask({ ...job, onEvent: (e: AgentEvent) => sse.send(e, e.type) });
      await local.cleanup();
      if (outcome.error) sse.send(httpErrorBody(outcome.error), "error");
      else sse.send(qaReply(services, request, outcome), "result");
    } catch (e) {
      sse.send(httpErrorBody(e), "error");
    } finally {
      sse.end();
    }
    return reply;
  } finally {
    if (local) await local.cleanup();
    else if (file) await rm(file.path, { force: true });
  }
}

export const qaRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  services.docs.add({
    method: "post",
    path: "/v1/video/qa",
    tag: "question answering",
    summary: "Ask a question about a video; the agent looks at frames it chooses and answers",
    description:
      "Give exactly one video: `video_id` (POST /v1/videos), `path` (inside the server's roots), `url` (http(s) when enabled, data:, file:// inside the roots) or a multipart `file`. " +
      "With `stream: true` or `Accept: text/event-stream` the reply is server-sent events: start, frames, reasoning, tool_call, error, answer, done, then `result` (the JSON reply) or `error`.",
    body: { "application/json": QaRequestSchema, "multipart/form-data": QaMultipartSchema },
    responses: { 200: { description: "the answer and its trajectory", content: { "application/json": QaReplySchema, "text/event-stream": undefined } } },
    errors: [400, 401, 403, 404, 413, 415, 422, 429, 503, 504],
  });
  app.post("/v1/video/qa", { config: { work: true } }, (request, reply) => trackWork(request, services.track(handle(services, request, reply))));
};
