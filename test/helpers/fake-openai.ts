/**
 * A scripted OpenAI-compatible Chat Completions server on 127.0.0.1 (random port), speaking the
 * real wire format: JSON replies, streaming SSE chunks (`data: {...}` ... `data: [DONE]`),
 * native tool_calls, OpenAI-shaped errors with retry-after. Tests only depend on `url`,
 * `requests` and `close()`, so the project's own OpenAI-compatible endpoint can replace it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface ScriptedMessage {
  content?: string | null;
  toolCalls?: Array<{ id?: string; name: string; arguments: string }>;
  reasoning?: string;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export type ScriptedReply =
  | ScriptedMessage
  | { status: number; message?: string; headers?: Record<string, string> }
  /** Never reply (the client times out or cancels). */
  | { hang: true };

export interface RecordedRequest {
  body: {
    model: string;
    messages: Array<{ role: string; content: unknown; tool_calls?: unknown[]; tool_call_id?: string }>;
    tools?: Array<{ type: string; function: { name: string; parameters: unknown } }>;
    tool_choice?: unknown;
    stream?: boolean;
    temperature?: number;
    top_p?: number;
    seed?: number;
    [k: string]: unknown;
  };
  headers: IncomingMessage["headers"];
}

export interface FakeOpenAI {
  /** Base URL including /v1, as the SDK's baseURL. */
  url: string;
  requests: RecordedRequest[];
  /** Replies not consumed yet. */
  remaining(): number;
  close(): Promise<void>;
}

const MODEL = "fake-vlm-1";

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function completion(m: ScriptedMessage, model: string) {
  const tool_calls = m.toolCalls?.map((c, i) => ({ id: c.id ?? `call_${i}`, type: "function", function: { name: c.name, arguments: c.arguments } }));
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: m.content ?? null, ...(m.reasoning ? { reasoning_content: m.reasoning } : {}), ...(tool_calls?.length ? { tool_calls } : {}), refusal: null },
        finish_reason: tool_calls?.length ? "tool_calls" : "stop",
        logprobs: null,
      },
    ],
    usage: { ...(m.usage ?? { prompt_tokens: 100, completion_tokens: 20 }), total_tokens: (m.usage?.prompt_tokens ?? 100) + (m.usage?.completion_tokens ?? 20) },
  };
}

/** Streams a message as the API does: role first, content in pieces, tool calls name then argument pieces. */
function streamReply(res: ServerResponse, m: ScriptedMessage, model: string, includeUsage: boolean): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, usage?: unknown) =>
    res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: usage ? [] : [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...(usage ? { usage } : {}) })}\n\n`);
  chunk({ role: "assistant", content: "" });
  if (m.reasoning) chunk({ reasoning_content: m.reasoning });
  const text = m.content ?? "";
  for (let i = 0; i < text.length; i += 7) chunk({ content: text.slice(i, i + 7) });
  (m.toolCalls ?? []).forEach((c, index) => {
    chunk({ tool_calls: [{ index, id: c.id ?? `call_${index}`, type: "function", function: { name: c.name, arguments: "" } }] });
    for (let i = 0; i < c.arguments.length; i += 5) chunk({ tool_calls: [{ index, function: { arguments: c.arguments.slice(i, i + 5) } }] });
  });
  chunk({}, m.toolCalls?.length ? "tool_calls" : "stop");
  if (includeUsage) chunk({}, null, { ...(m.usage ?? { prompt_tokens: 100, completion_tokens: 20 }), total_tokens: 120 });
  res.end("data: [DONE]\n\n");
}

export async function startFakeOpenAI(script: ScriptedReply[], opts: { model?: string } = {}): Promise<FakeOpenAI> {
  const queue = [...script];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const model = opts.model ?? MODEL;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET" && req.url === "/v1/models") return send(res, 200, { object: "list", data: [{ id: model, object: "model", created: 0, owned_by: "fake" }] });
      if (req.method !== "POST" || req.url !== "/v1/chat/completions") return send(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: "invalid_request_error", code: null } });
      let body: RecordedRequest["body"];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RecordedRequest["body"];
      } catch {
        return send(res, 400, { error: { message: "body is not JSON", type: "invalid_request_error", code: null } });
      }
      requests.push({ body, headers: req.headers });
      const next = queue.shift();
      if (!next) return send(res, 400, { error: { message: "fake server: script exhausted", type: "invalid_request_error", code: "script_exhausted" } });
      if ("hang" in next) return; // the socket stays open until the client gives up
      if ("status" in next) return send(res, next.status, { error: { message: next.message ?? `scripted ${next.status}`, type: next.status >= 500 ? "server_error" : "invalid_request_error", code: null } }, next.headers);
      if (body.stream) return streamReply(res, next, model, Boolean((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage));
      send(res, 200, completion(next, model));
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    remaining: () => queue.length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
