/**
 * Test-only conformance fixture: the PRODUCT MCP server (createMcpServer) mounted through the
 * project's own Streamable HTTP plugin (sessions, DNS-rebinding check, resumable SSE) and call
 * gate, plus the `test_*` fixtures the conformance suite calls. The fixtures never ship: they
 * exist so all of @modelcontextprotocol/conformance's server scenarios exercise our plumbing.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { z } from "zod";
import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { ElicitResultSchema, ListToolsRequestSchema, type CallToolResult, type JSONRPCMessage, type ListToolsResult } from "@modelcontextprotocol/sdk/types.js";
import { createMcpServer, createRuntime, mcpHttpPlugin, type McpOptionsInput, type McpRuntime } from "../../src/mcp/index.js";
import { encodePng } from "../../src/video/index.js";

/** A 2x2 red PNG made by the video layer's encoder, and a silent 1-sample WAV. */
const PNG = encodePng({ width: 2, height: 2, rgb: Buffer.from(Array.from({ length: 4 }, () => [255, 0, 0]).flat()) }).toString("base64");
function wav(): string {
  const b = Buffer.alloc(46);
  b.write("RIFF", 0);
  b.writeUInt32LE(38, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36);
  b.writeUInt32LE(2, 40);
  return b.toString("base64");
}
const WAV = wav();

/** In-memory event store so SSE streams can be resumed with Last-Event-ID. */
export function memoryEventStore(): EventStore {
  const events: Array<{ id: string; stream: string; message: JSONRPCMessage }> = [];
  return {
    async storeEvent(stream, message) {
      const id = `${stream}::${events.length.toString().padStart(8, "0")}`;
      events.push({ id, stream, message });
      return id;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const stream = lastEventId.split("::")[0]!;
      for (const e of events) if (e.stream === stream && e.id > lastEventId) await send(e.id, e.message);
      return stream;
    },
  };
}

const text = (t: string): CallToolResult => ({ content: [{ type: "text", text: t }] });

const SCHEMA_2020_12 = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object" as const,
  $defs: { address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } } },
  properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
  additionalProperties: false,
};

/** Adds the conformance fixtures to a product server; every fixture tool runs through the runtime's gate. */
export function addFixtures(server: McpServer, runtime: McpRuntime): McpServer {
  const gated = (fn: () => Promise<CallToolResult>, signal: AbortSignal) => runtime.gate.run(fn, signal);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });

  server.registerTool("test_simple_text", { description: "fixture: text content" }, async (extra) => gated(async () => text("This is a simple text response for testing."), extra.signal));
  server.registerTool("test_image_content", { description: "fixture: image content" }, async () => ({ content: [{ type: "image", data: PNG, mimeType: "image/png" }] }));
  server.registerTool("test_audio_content", { description: "fixture: audio content" }, async () => ({ content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] }));
  server.registerTool("test_embedded_resource", { description: "fixture: embedded resource" }, async () => ({
    content: [{ type: "resource", resource: { uri: "test://embedded-resource", mimeType: "text/plain", text: "This is an embedded resource content." } }],
  }));
  server.registerTool("test_multiple_content_types", { description: "fixture: mixed content" }, async () => ({
    content: [
      { type: "text", text: "Multiple content types test:" },
      { type: "image", data: PNG, mimeType: "image/png" },
      { type: "resource", resource: { uri: "test://mixed-content-resource", mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) } },
    ],
  }));
  server.registerTool("test_tool_with_logging", { description: "fixture: logs while running", inputSchema: {} }, async (_a, extra) =>
    gated(async () => {
      for (const data of ["Tool execution started", "Tool processing data", "Tool execution completed"]) {
        await extra.sendNotification({ method: "notifications/message", params: { level: "info", data } });
        await sleep(20);
      }
      return text("Tool with logging executed successfully");
    }, extra.signal),
  );
  server.registerTool("test_tool_with_progress", { description: "fixture: progress", inputSchema: {} }, async (_a, extra) =>
    gated(async () => {
      const progressToken = extra._meta?.progressToken;
      if (progressToken !== undefined) {
        for (const progress of [0, 50, 100]) {
          await extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress, total: 100, message: `step ${progress} of 100` } });
          await sleep(20);
        }
      }
      return text(String(progressToken));
    }, extra.signal),
  );
  server.registerTool("test_error_handling", { description: "fixture: fails" }, async () => {
    throw new Error("This tool intentionally returns an error for testing");
  });
  server.registerTool("test_reconnection", { description: "fixture: closes its SSE stream mid-call", inputSchema: {} }, async (_a, extra) => {
    extra.closeSSEStream?.();
    await sleep(100);
    return text("Reconnection test completed successfully.");
  });
  server.registerTool("test_sampling", { description: "fixture: sampling", inputSchema: { prompt: z.string() } }, async ({ prompt }, extra) => {
    const r = await server.server.createMessage({ messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens: 100 }, { signal: extra.signal, relatedRequestId: extra.requestId });
    return text(`LLM response: ${r.content.type === "text" ? r.content.text : "(non-text)"}`);
  });
  // relatedRequestId: the request rides on the tool call's own stream, not the standalone GET
  // stream, which the client may not have opened yet (that race made this scenario flaky).
  const elicit = (message: string, requestedSchema: Record<string, unknown>) => async (_args: unknown, extra: { requestId: string | number }) => {
    const r = await server.server.request({ method: "elicitation/create", params: { mode: "form", message, requestedSchema } }, ElicitResultSchema, { relatedRequestId: extra.requestId });
    return text(`User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
  };
  server.registerTool("test_elicitation", { description: "fixture: elicitation", inputSchema: { message: z.string() } }, async ({ message }, extra) =>
    elicit(message, { type: "object", properties: { response: { type: "string", description: "User's response" } }, required: ["response"] })({}, extra),
  );
  server.registerTool(
    "test_elicitation_sep1034_defaults",
    { description: "fixture: elicitation defaults", inputSchema: {} },
    elicit("Please review and update the form fields with defaults", {
      type: "object",
      properties: {
        name: { type: "string", description: "User name", default: "John Doe" },
        age: { type: "integer", description: "User age", default: 30 },
        score: { type: "number", description: "User score", default: 95.5 },
        status: { type: "string", description: "User status", enum: ["active", "inactive", "pending"], default: "active" },
        verified: { type: "boolean", description: "Verification status", default: true },
      },
      required: [],
    }),
  );
  const choices = (prefix: string, titles: string[]) => titles.map((title, i) => ({ const: `${prefix}${i + 1}`, title }));
  server.registerTool(
    "test_elicitation_sep1330_enums",
    { description: "fixture: elicitation enums", inputSchema: {} },
    elicit("Please select options from the enum fields", {
      type: "object",
      properties: {
        untitledSingle: { type: "string", description: "Select one option", enum: ["option1", "option2", "option3"] },
        titledSingle: { type: "string", description: "Select one option with titles", oneOf: choices("value", ["First Option", "Second Option", "Third Option"]) },
        legacyEnum: { type: "string", description: "Select one option (legacy)", enum: ["opt1", "opt2", "opt3"], enumNames: ["Option One", "Option Two", "Option Three"] },
        untitledMulti: { type: "array", description: "Select multiple options", minItems: 1, maxItems: 3, items: { type: "string", enum: ["option1", "option2", "option3"] } },
        titledMulti: { type: "array", description: "Select multiple options with titles", minItems: 1, maxItems: 3, items: { anyOf: choices("value", ["First Choice", "Second Choice", "Third Choice"]) } },
      },
      required: [],
    }),
  );
  server.registerTool(
    "json_schema_2020_12_tool",
    { description: "fixture: JSON Schema 2020-12 keywords", inputSchema: { name: z.string().optional(), address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional() } },
    async (args) => text(`called with ${JSON.stringify(args)}`),
  );
  // tools/list as the SDK builds it, with the raw 2020-12 schema for that one tool (zod cannot say $defs/$ref this way).
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, (req: unknown, extra: unknown) => Promise<ListToolsResult>> })._requestHandlers;
  const sdkList = handlers.get("tools/list")!;
  server.server.setRequestHandler(ListToolsRequestSchema, async (req, extra) => {
    const r = await sdkList(req, extra);
    return { ...r, tools: r.tools.map((t) => (t.name === "json_schema_2020_12_tool" ? { ...t, inputSchema: SCHEMA_2020_12 } : t)) };
  });

  const resource = (uri: string, mimeType: string, body: { text: string } | { blob: string }) => async () => ({ contents: [{ uri, mimeType, ...body }] });
  server.registerResource("static-text", "test://static-text", { mimeType: "text/plain" }, resource("test://static-text", "text/plain", { text: "This is the content of the static text resource." }));
  server.registerResource("static-binary", "test://static-binary", { mimeType: "image/png" }, resource("test://static-binary", "image/png", { blob: PNG }));
  server.registerResource("watched-resource", "test://watched-resource", { mimeType: "text/plain" }, resource("test://watched-resource", "text/plain", { text: "Watched resource content" }));
  server.registerResource("template", new ResourceTemplate("test://template/{id}/data", { list: undefined }), { mimeType: "application/json" }, async (uri, { id }) => ({
    contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }],
  }));
  const subscribed = new Set<string>();
  server.server.setRequestHandler(z.object({ method: z.literal("resources/subscribe"), params: z.object({ uri: z.string() }) }), async (r) => (subscribed.add(r.params.uri), {}));
  server.server.setRequestHandler(z.object({ method: z.literal("resources/unsubscribe"), params: z.object({ uri: z.string() }) }), async (r) => (subscribed.delete(r.params.uri), {}));

  server.registerPrompt("test_simple_prompt", { description: "fixture prompt" }, () => ({ messages: [{ role: "user", content: { type: "text", text: "This is a simple prompt for testing." } }] }));
  server.registerPrompt("test_prompt_with_arguments", { description: "fixture prompt with arguments", argsSchema: { arg1: z.string(), arg2: z.string() } }, ({ arg1, arg2 }) => ({
    messages: [{ role: "user", content: { type: "text", text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
  }));
  server.registerPrompt("test_prompt_with_embedded_resource", { description: "fixture prompt with a resource", argsSchema: { resourceUri: z.string() } }, ({ resourceUri }) => ({
    messages: [
      { role: "user", content: { type: "resource", resource: { uri: resourceUri, mimeType: "text/plain", text: "Embedded resource content for testing." } } },
      { role: "user", content: { type: "text", text: "Please process the embedded resource above." } },
    ],
  }));
  server.registerPrompt("test_prompt_with_image", { description: "fixture prompt with an image" }, () => ({
    messages: [
      { role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } },
      { role: "user", content: { type: "text", text: "Please analyze the image above." } },
    ],
  }));
  return server;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  runtime: McpRuntime;
  close(): Promise<void>;
}

/** Starts the product server (fixtures=false) or the fixture server on 127.0.0.1 (random port). */
export async function startServer(opts: { fixtures: boolean; options?: McpOptionsInput; stateless?: boolean } = { fixtures: false }): Promise<RunningServer> {
  const runtime = await createRuntime(opts.options ?? {}, { createPolicy: () => ({ id: "none", step: async () => ({ text: "<answer>none</answer>" }) }), diagnostics: () => undefined });
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(mcpHttpPlugin, {
    createServer: () => (opts.fixtures ? addFixtures(createMcpServer(runtime), runtime) : createMcpServer(runtime)),
    stateless: opts.stateless,
    ...(opts.fixtures ? { eventStore: memoryEventStore(), retryInterval: 500 } : {}),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return { app, url: `http://127.0.0.1:${port}/mcp`, runtime, close: () => app.close() };
}
