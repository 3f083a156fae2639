/**
 * OpenAI-compatible surface: GET /v1/models and POST /v1/chat/completions (non-streaming and
 * streaming chunks), errors in OpenAI's shape so the official client raises its typed errors.
 *   - `framemind-agent`: the last user message's `text` parts are the question, its one
 *     `video_url` part the video (file:// inside the roots, data:, http(s) when enabled, as vLLM
 *     accepts); the agent loop answers. Reasoning streams as `reasoning_content` deltas (as
 *     vLLM/DeepSeek reasoning models do), the answer as `content`.
 *   - `framemind-tiny`: the raw embedded policy, ONE step of the protocol over `image_url` parts
 *     (data:, file:// inside the roots, http(s) when enabled), so the project's `openai` policy can
 *     drive a real model end to end. The chat is read back into the policy's input by
 *     ../chat-tiny.ts; the reply's `content` is the model's raw turn (`<think>` then `<tool_call>`
 *     or `<answer>`). `tools` are accepted but calls come back in the text, as from a vLLM server
 *     without a tool parser. Sampling: greedy unless `temperature` > 0 (then `top_p`, `seed`).
 */
import { randomUUID } from "node:crypto";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { AgentEvent } from "../../agent/loop.js";
import { FramemindError } from "../../errors.js";
import { DEFAULT_MAX_NEW_TOKENS } from "../../policy/tiny/index.js";
import type { Sampling } from "../../policy/types.js";
import { evidenceOf, parseTinyChat, policyInputOf, TINY_MODEL } from "../chat-tiny.js";
import type { QaOutcome } from "../engine.js";
import { openaiErrorBody } from "../errors.js";
import { localVideo, type LocalVideo } from "../inputs.js";
import { clientGoneSignal, trackWork } from "../limits.js";
import { parseInput } from "../plugin.js";
import { ChatCompletionSchema, ChatRequestSchema, ModelListSchema, type ChatMessage, type ChatRequest } from "../schemas.js";
import type { RouteOptions, ServerServices } from "../services.js";
import { openSse, type SseStream } from "../sse.js";

export const AGENT_MODEL = "framemind-agent";
const CREATED = Math.floor(Date.now() / 1000);

/** The question and the video of the last user message. */
function userTurn(messages: ChatMessage[]): { question: string; videoUrl: string } {
  const user = [...messages].reverse().find((m) => m.role === "user");
  if (!user) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "messages: no user message", param: "messages" });
  const parts = typeof user.content === "string" ? [{ type: "text" as const, text: user.content }] : (user.content ?? []);
  const question = parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n").trim();
  const videos = parts.flatMap((p) => (p.type === "video_url" ? [p.video_url.url] : []));
  if (!question) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "the user message has no text part (the question)", param: "messages" });
  if (videos.length !== 1) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `the user message needs exactly one video_url part, got ${videos.length}`, param: "messages" });
  return { question, videoUrl: videos[0]! };
}

function usageOf(o: QaOutcome) {
  const prompt = o.record.tokens.textPrompt ?? 0;
  const completion = o.record.tokens.textCompletion ?? 0;
  return { prompt_tokens: prompt + o.record.tokens.visual, completion_tokens: completion, total_tokens: prompt + o.record.tokens.visual + completion };
}

/** Reasoning text of a whole trajectory (non-streaming `reasoning_content`). */
function reasoningOf(o: QaOutcome): string {
  return o.record.turns.map((t) => t.text).join("\n\n");
}

/** One line per agent step in the streamed reasoning (text the policy wrote, what it fetched). */
function eventText(e: AgentEvent): string | undefined {
  switch (e.type) {
    case "reasoning":
      return `${e.text}\n`;
    case "tool_call":
      return `[${e.name} ${JSON.stringify(e.arguments)}]\n`;
    case "frames":
      return `[${e.timestamps.length} frames ${e.width}x${e.height} at ${e.timestamps.map((t) => t.toFixed(1)).join(", ")} s]\n`;
    case "error":
      return `[error ${e.code}: ${e.message}]\n`;
    default:
      return undefined;
  }
}

async function agentCompletion(services: ServerServices, request: FastifyRequest, reply: FastifyReply, body: ChatRequest): Promise<unknown> {
  const signal = clientGoneSignal(request, reply);
  const { question, videoUrl } = userTurn(body.messages);
  const fm = body.framemind ?? {};
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  let local: LocalVideo | undefined;
  try {
    local = await localVideo({ kind: "url", url: videoUrl }, { config: services.config, videos: services.videos, tmpDir: services.tmpDir, signal });
    const job = { video: local.path, roots: local.roots, question, options: fm.options, policy: fm.policy, maxTurns: fm.max_turns, maxVisualTokens: fm.budget, signal, meta: { route: "chat" } };
    const extras = (o: QaOutcome) => ({ trajectory_id: o.record.id, timestamps: o.record.evidenceCited, viewer: services.links(request, o.record.id).viewer });
    if (!body.stream) {
      const o = await services.engine.ask(job);
      await local.cleanup();
      if (o.error) throw o.error;
      return reply.send({
        id,
        object: "chat.completion",
        created,
        model: AGENT_MODEL,
        choices: [{ index: 0, message: { role: "assistant", content: o.record.answer ?? "", reasoning_content: reasoningOf(o) }, finish_reason: o.record.answer === null ? "length" : "stop", logprobs: null }],
        usage: usageOf(o),
        framemind: extras(o),
      });
    }
    const sse = openSse(reply);
    const chunk = (delta: Record<string, unknown>, finish: string | null = null, more: Record<string, unknown> = {}) =>
      sse.send({ id, object: "chat.completion.chunk", created, model: AGENT_MODEL, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...more });
    chunk({ role: "assistant", content: "" });
    try {
      const o = await services.engine.ask({
        ...job,
        onEvent: (e) => {
          const text = eventText(e);
          if (text) chunk({ reasoning_content: text });
        },
      });
      await local.cleanup();
      if (o.error) sse.send(openaiErrorBody(o.error));
      else {
        chunk({ content: o.record.answer ?? "" });
        chunk({}, o.record.answer === null ? "length" : "stop", { framemind: extras(o) });
        if (body.stream_options?.include_usage) sse.send({ id, object: "chat.completion.chunk", created, model: AGENT_MODEL, choices: [], usage: usageOf(o) });
      }
    } catch (e) {
      sse.send(openaiErrorBody(e));
    }
    finish(sse);
    return reply;
  } finally {
    await local?.cleanup();
  }
}

/** Greedy by default (the embedded model's own default); sampled when the client asks for a temperature. */
function samplingOf(body: ChatRequest): Sampling | undefined {
  if (!body.temperature) return undefined;
  return { temperature: body.temperature, topP: body.top_p ?? 1, ...(body.seed != null ? { seed: body.seed } : {}) };
}

async function tinyCompletion(services: ServerServices, request: FastifyRequest, reply: FastifyReply, body: ChatRequest): Promise<unknown> {
  const timeoutMs = services.config.limits.questionTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([clientGoneSignal(request, reply), timeout]);
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const run = async () => {
    try {
      const chat = parseTinyChat(body);
      const evidence = await evidenceOf(chat, { config: services.config, tmpDir: services.tmpDir, signal });
      const input = policyInputOf(chat, evidence, body.tools);
      const { policy } = await services.policies.get("tiny");
      return { input, policy };
    } catch (e) {
      throw timeout.aborted ? new FramemindError("FM_ERR_SERVER_TIMEOUT", { ms: timeoutMs }, { cause: e }) : e;
    }
  };
  // Inputs are read and decoded before any reply byte, so a bad image is a plain HTTP error even when streaming.
  const { input, policy } = await run();
  const sampling = samplingOf(body);
  const step = async () => {
    try {
      const s = await policy.step(input, { signal, ...(sampling ? { sampling } : {}) });
      const prompt = s.usage?.promptTokens ?? 0;
      const completion = s.usage?.completionTokens ?? 0;
      const m = services.metrics;
      m.tokens.inc({ kind: "visual" }, input.evidence.reduce((n, f) => n + f.tokens, 0));
      m.tokens.inc({ kind: "prompt" }, prompt);
      m.tokens.inc({ kind: "completion" }, completion);
      return {
        text: s.text,
        finish: completion >= DEFAULT_MAX_NEW_TOKENS ? ("length" as const) : ("stop" as const),
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      };
    } catch (e) {
      throw timeout.aborted ? new FramemindError("FM_ERR_SERVER_TIMEOUT", { ms: timeoutMs }, { cause: e }) : e;
    }
  };
  const head = { id, created, model: TINY_MODEL, ...(policy.modelVersion ? { system_fingerprint: policy.modelVersion } : {}) };
  if (!body.stream) {
    const r = await step();
    return reply.send({ ...head, object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: r.text }, finish_reason: r.finish, logprobs: null }], usage: r.usage });
  }
  const sse = openSse(reply);
  const chunk = (choices: unknown[], more: Record<string, unknown> = {}) => sse.send({ ...head, object: "chat.completion.chunk", choices, ...more });
  chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }]);
  try {
    const r = await step();
    chunk([{ index: 0, delta: { content: r.text }, finish_reason: null, logprobs: null }]);
    chunk([{ index: 0, delta: {}, finish_reason: r.finish, logprobs: null }]);
    if (body.stream_options?.include_usage) chunk([], { usage: r.usage });
  } catch (e) {
    sse.send(openaiErrorBody(e));
  }
  finish(sse);
  return reply;
}

function finish(sse: SseStream): void {
  sse.raw("[DONE]");
  sse.end();
}

export const openaiRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const { docs } = services;
  const models = [AGENT_MODEL, TINY_MODEL];

  docs.add({ method: "get", path: "/v1/models", tag: "openai-compatible", summary: "Models served on /v1/chat/completions", errorShape: "openai", responses: { 200: { description: "list", content: { "application/json": ModelListSchema } } }, errors: [401, 429] });
  app.get("/v1/models", { config: { errorShape: "openai" } }, async () => ({
    object: "list" as const,
    data: models.map((id) => ({ id, object: "model" as const, created: CREATED, owned_by: "framemind" })),
  }));

  docs.add({
    method: "post",
    path: "/v1/chat/completions",
    tag: "openai-compatible",
    summary: "OpenAI-compatible chat completions over video (framemind-agent) or frames (framemind-tiny)",
    description:
      "framemind-agent: the last user message holds text parts (the question) and one video_url part; the agent loop answers. Optional `framemind: {options, max_turns, budget, policy}`. " +
      "framemind-tiny: one step of the embedded policy; the latest message with image_url parts (JPEG/PNG as data:, file:// in the roots, http(s) when enabled) is what it sees, each image after a text part `Frame at t=X s (WxH):`; the conversation in the format of the project's openai policy (question, options, earlier turns, observations) is its history. The content is the raw protocol turn. " +
      "`stream: true` sends chat.completion.chunk events and `data: [DONE]`.",
    body: { "application/json": ChatRequestSchema },
    errorShape: "openai",
    responses: { 200: { description: "completion (or a chunk stream)", content: { "application/json": ChatCompletionSchema, "text/event-stream": undefined } } },
    errors: [400, 401, 403, 404, 413, 415, 422, 429, 503, 504],
  });
  app.post("/v1/chat/completions", { config: { work: true, errorShape: "openai" } }, async (request, reply) => {
    const body = parseInput(ChatRequestSchema, request.body ?? {});
    if (body.model === AGENT_MODEL) return trackWork(request, services.track(agentCompletion(services, request, reply, body)));
    if (body.model === TINY_MODEL) return trackWork(request, services.track(tinyCompletion(services, request, reply, body)));
    throw new FramemindError("FM_ERR_SERVER_MODEL_NOT_FOUND", { model: body.model, models: models.join(", "), param: "model" });
  });
};
