/**
 * framemind-tiny on /v1/chat/completions with real parts: the real server on loopback, the shipped
 * embedded model, frames extracted by the real video layer, the official `openai` client, and the
 * project's own `openai` policy driving the agent loop against it.
 */
import OpenAI from "openai";
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { answer } from "../../src/agent/loop.js";
import { formatFrames, formatQuestion, splitTurn } from "../../src/agent/protocol.js";
import { createPolicy } from "../../src/policy/index.js";
import { createOpenAIPolicy, frameLabel, openaiConfigFromEnv } from "../../src/policy/openai.js";
import { actionOf, contextFromInput } from "../../src/policy/tiny/sequence.js";
import type { Policy, PolicyInput } from "../../src/policy/types.js";
import type { FramemindServer } from "../../src/server/app.js";
import { parseTinyChat } from "../../src/server/chat-tiny.js";
import type { ChatRequest } from "../../src/server/schemas.js";
import { encodeJpegs, getFrames, processStats, type FramesResult } from "../../src/video/index.js";
import { fixture, scriptedPolicy, start, type Fixture } from "./helpers.js";

// Model steps and ffmpeg on a loaded 2-core machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

let fx: Fixture;
let server: FramemindServer;
let url: string;
let client: OpenAI;
let frames: FramesResult;
/** What the server handed the embedded model, request by request. */
const seen: PolicyInput[] = [];

/** The real registry's policy, recording its inputs. */
async function recording(name: string, into: PolicyInput[]): Promise<Policy> {
  const p = await createPolicy(name, { ladder: "tiny" });
  return { ...p, step: (input, opts) => (into.push(input), p.step(input, opts)) };
}

beforeAll(async () => {
  fx = await fixture();
  const s = await start(fx, {}, { policyFactory: (name) => (name === "tiny" ? recording("tiny", seen) : scriptedPolicy()) });
  server = s.server;
  url = s.url;
  client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0, timeout: 120_000 });
  frames = await getFrames({ video: fx.video, at: [0.5, 2.5, 4.5], resolution: { ladder: "tiny", rung: "low" } });
});
afterAll(async () => {
  await server?.close();
  expect(processStats().live).toBe(0);
});

const QUESTION = { question: "Which digit flashed?", options: ["A. 1", "B. 2"] };

/** A first turn as the openai policy writes it: the question text, then each frame's label and image. */
async function firstTurn(): Promise<ChatCompletionMessageParam[]> {
  const jpegs = await encodeJpegs(frames.frames);
  const meta = { tool: "get_frames", timestamps: frames.frames.map((f) => f.timestamp), width: frames.width, height: frames.height, tokens: frames.tokens, rung: "low" };
  const text = formatQuestion(QUESTION, { ...meta, mode: "tolerant", cached: false, decodeMs: 0 }, { turnsLeft: 4, visualTokensLeft: 200, mustAnswer: false });
  const parts: ChatCompletionContentPart[] = [{ type: "text", text }];
  frames.frames.forEach((f, i) => parts.push({ type: "text", text: frameLabel(f) }, { type: "image_url", image_url: { url: `data:image/jpeg;base64,${jpegs[i]!.toString("base64")}` } }));
  return [{ role: "user", content: parts }];
}

/** Exactly one action in the protocol: the reply is a turn the agent can act on. */
function expectProtocolTurn(text: string): void {
  const t = splitTurn(text);
  expect(t.toolCalls.length + t.answers.length, text).toBe(1);
}

describe("framemind-tiny with the official openai client", () => {
  it("is listed by GET /v1/models", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(expect.arrayContaining(["framemind-agent", "framemind-tiny"]));
    // The OpenAPI document comes from the same zod schemas.
    const doc = JSON.stringify(await (await fetch(`${url}/docs/openapi.json`)).json());
    expect(doc).toMatch(/framemind-tiny: one step of the embedded policy/);
    expect(doc).toMatch(/tool_call_id/);
  });

  let plain = "";
  it("answers one protocol step over image_url data URLs (non-streaming)", async () => {
    seen.length = 0;
    const r = await client.chat.completions.create({ model: "framemind-tiny", messages: await firstTurn() });
    expect(r.object).toBe("chat.completion");
    expect(r.model).toBe("framemind-tiny");
    expect(r.system_fingerprint).toMatch(/\+[0-9a-f]{12}$/);
    expect(r.choices[0]!.finish_reason).toBe("stop");
    plain = r.choices[0]!.message.content ?? "";
    expectProtocolTurn(plain);
    expect(r.usage!.prompt_tokens).toBeGreaterThan(10);
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
    // What the model was given: the question, its options and the frames at their times and rung size.
    const input = seen[0]!;
    expect(input).toMatchObject({ question: QUESTION.question, options: QUESTION.options, history: [], turn: { index: 0, mustAnswer: false }, ladder: "tiny" });
    expect(input.evidence.map((f) => [f.timestamp, f.width, f.height, f.rung])).toEqual(frames.frames.map((f) => [Number(f.timestamp.toFixed(1)), f.width, f.height, "low"]));
    expect(input.budget.remainingVisualTokens).toBe(200);
  });

  it("streams the same turn as chunks, usage last", async () => {
    const stream = await client.chat.completions.create({ model: "framemind-tiny", messages: await firstTurn(), stream: true, stream_options: { include_usage: true } });
    let content = "";
    let finish: string | null = null;
    let usage = 0;
    for await (const chunk of stream) {
      expect(chunk.model).toBe("framemind-tiny");
      const c = chunk.choices[0];
      if (c) {
        content += c.delta.content ?? "";
        finish = c.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage.total_tokens;
    }
    expect(content).toBe(plain); // greedy: the same text
    expect(finish).toBe("stop");
    expect(usage).toBeGreaterThan(0);
  });

  it("reads a later turn: history, error and frames observations, the last-turn status", async () => {
    seen.length = 0;
    const first = await firstTurn();
    const clip = { tool: "get_clip", timestamps: [2, 2.5], width: frames.width, height: frames.height, tokens: frames.tokens, rung: "low" };
    const jpegs = await encodeJpegs(frames.frames.slice(0, 2));
    const messages: ChatCompletionMessageParam[] = [
      { role: "system", content: "The video is 6.0 s long (160x96 px, 10 fps). You have at most 3 turns and 64 visual tokens in all." },
      ...first,
      { role: "assistant", content: '<think>x</think>\n<tool_call>{"name": "get_clip", "arguments": {"start": 2, "end": 2}}</tool_call>' },
      { role: "user", content: [{ type: "text", text: '<error code="FM_ERR_AGENT_BAD_CALL">invalid arguments for get_clip: end must be after start</error>\nFix the call or answer. Turns left: 2. Visual tokens left: 40.' }] },
      { role: "assistant", content: '<think>y</think>\n<tool_call>{"name": "get_clip", "arguments": {"start": 2, "end": 2.5, "count": 2}}</tool_call>' },
      {
        role: "user",
        content: [
          { type: "text", text: `${formatFrames(clip)}\nThis is your last turn: answer now with <answer>...</answer>.` },
          ...jpegs.flatMap((j, i): ChatCompletionContentPart[] => [{ type: "text", text: frameLabel({ ...frames.frames[i]!, timestamp: clip.timestamps[i]! }) }, { type: "image_url", image_url: { url: `data:image/jpeg;base64,${j.toString("base64")}` } }]),
        ],
      },
    ];
    const r = await client.chat.completions.create({ model: "framemind-tiny", messages });
    // A made-up history: the small model's text may not be well formed here; the mapping is what is checked.
    expect(r.choices[0]!.message.content).toMatch(/<think>/);
    const ctx = contextFromInput(seen[0]!);
    expect(ctx.history.map((h) => [actionOf(h.text), h.observation])).toEqual([
      ['<tool_call>{"name": "get_clip", "arguments": {"start": 2, "end": 2}}</tool_call>', "error"],
      ['<tool_call>{"name": "get_clip", "arguments": {"start": 2, "end": 2.5, "count": 2}}</tool_call>', "frames low 2"],
    ]);
    expect(ctx.mustAnswer).toBe(true);
    expect(ctx.frames.map((f) => f.timestamp)).toEqual([2, 2.5]);
    expect(seen[0]!.turn).toEqual({ index: 2, max: 3, mustAnswer: true });
    expect(seen[0]!.tools).toEqual([]);
    expect(seen[0]!.video).toEqual({ duration: 6, width: 160, height: 96, fps: 10 });
  });

  it("refuses bad images in OpenAI's error shape with the right status (streaming too)", async () => {
    const withImage = (u: string): ChatCompletionMessageParam[] => [{ role: "user", content: [{ type: "text", text: "What is shown?" }, { type: "image_url", image_url: { url: u } }] }];
    const bad = await client.chat.completions.create({ model: "framemind-tiny", messages: withImage("data:image/jpeg;base64,%%%not-base64%%%") }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad).toMatchObject({ status: 400, code: "FM_ERR_ARGS_INVALID" });
    const notImage = await client.chat.completions.create({ model: "framemind-tiny", messages: withImage(`data:image/jpeg;base64,${Buffer.from("plain text, no picture").toString("base64")}`), stream: true }).catch((e: unknown) => e);
    expect(notImage).toMatchObject({ status: 415, code: "FM_ERR_IMAGE_UNSUPPORTED" });
    const [jpeg] = await encodeJpegs(frames.frames.slice(0, 1));
    const cut = jpeg!.subarray(0, Math.floor(jpeg!.length * 0.6)).toString("base64");
    const corrupt = await client.chat.completions.create({ model: "framemind-tiny", messages: withImage(`data:image/jpeg;base64,${cut}`) }).catch((e: unknown) => e);
    expect(corrupt).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect(corrupt).toMatchObject({ code: "FM_ERR_IMAGE_CORRUPT" });
    expect((corrupt as Error).message).toMatch(/messages\[0\]\.content\[1\]/);
    const denied = await client.chat.completions.create({ model: "framemind-tiny", messages: withImage("file:///etc/hostname") }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    // The raw body is OpenAI's shape.
    const raw = await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "framemind-tiny", messages: withImage("data:nonsense") }) });
    expect(raw.status).toBe(400);
    const body = (await raw.json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(body.error).toMatchObject({ type: "invalid_request_error", code: "FM_ERR_ARGS_INVALID" });
  });
});

describe("the project's openai policy against framemind-tiny, through the agent loop", () => {
  for (const mode of [{ name: "native tools offered, JSON replies", stream: false, nativeTools: "auto" as const }, { name: "text protocol, streamed replies", stream: true, nativeTools: "off" as const }]) {
    it(`finishes with a trajectory (${mode.name})`, async () => {
      seen.length = 0;
      const sent: PolicyInput[] = [];
      const remote = createOpenAIPolicy(openaiConfigFromEnv({ baseUrl: `${url}/v1`, model: "framemind-tiny", stream: mode.stream, nativeTools: mode.nativeTools, maxRetries: 0 }, {}));
      const policy: Policy = { ...remote, step: (input, opts) => (sent.push(input), remote.step(input, opts)) };
      const r = await answer({ video: fx.video, ...QUESTION, policy, settings: { ladder: "tiny", maxTurns: 3, timeoutMs: 150_000 } });
      const rec = r.record;
      expect(rec.policy.id).toBe("openai:framemind-tiny");
      expect(["answer", "turn_limit", "budget"]).toContain(rec.stopReason);
      expect(rec.turns.length).toBeGreaterThanOrEqual(1);
      expect(rec.errors.filter((e) => e.code.startsWith("FM_ERR_POLICY"))).toEqual([]);
      // The server rebuilt, turn by turn, what the embedded policy would have been given in-process.
      expect(seen.length).toBe(sent.length);
      sent.forEach((mine, i) => {
        const a = contextFromInput(mine);
        const b = contextFromInput(seen[i]!);
        expect(b.question).toBe(a.question);
        expect(b.options).toEqual(a.options);
        expect(b.mustAnswer).toBe(a.mustAnswer);
        expect(b.history.map((h) => [actionOf(h.text), h.observation])).toEqual(a.history.map((h) => [actionOf(h.text), h.observation]));
        expect(b.frames.map((f) => [f.timestamp, f.width, f.height])).toEqual(a.frames.map((f) => [Number(f.timestamp.toFixed(1)), f.width, f.height]));
        // Same pictures, through a JPEG round trip.
        b.frames.forEach((f, k) => {
          const o = a.frames[k]!.rgb;
          expect(f.rgb.reduce((s, v, j) => s + Math.abs(v - o[j]!), 0) / o.length).toBeLessThan(8);
        });
        expect(seen[i]!.turn).toEqual(mine.turn);
        expect(seen[i]!.budget.remainingVisualTokens).toBe(mine.budget.remainingVisualTokens);
      });
    });
  }
});

describe("parseTinyChat (the wire format read back)", () => {
  it("reads native tool calls, tool results, the frames that follow them, and tool_choice none", () => {
    const img = (u: string) => ({ type: "image_url" as const, image_url: { url: u } });
    const body: Pick<ChatRequest, "messages" | "tool_choice"> = {
      tool_choice: "none",
      messages: [
        { role: "system", content: "The video is 12.5 s long (320x180 px, 25 fps). You have at most 4 turns and 256 visual tokens in all." },
        { role: "user", content: [{ type: "text", text: "Question: What colour?\nis it\nOptions:\nA. red\nB. blue\nTurns left: 4. Visual tokens left: 240." }, { type: "text", text: "Frame at t=1.0 s (56x28):" }, img("data:a")] },
        { role: "assistant", content: "<think>look</think>", tool_calls: [{ id: "c1", type: "function", function: { name: "get_frames", arguments: '{"timestamps":[3.5],"rung":"high"}' } }] },
        { role: "tool", tool_call_id: "c1", content: '<frames source="get_frames" rung="high" size="112x56" tokens="8">1 frame at t = 3.5 s</frames>\nTurns left: 3. Visual tokens left: 232.' },
        { role: "user", content: [{ type: "text", text: "The frames returned by the call:" }, img("data:b")] },
      ],
    };
    const c = parseTinyChat(body);
    expect(c).toMatchObject({ question: "What colour?\nis it", options: ["A. red", "B. blue"], turnIndex: 1, maxTurns: 4, maxVisualTokens: 256, remainingVisualTokens: 232, mustAnswer: true, rung: "high", tagTimes: [3.5] });
    expect(c.video).toEqual({ duration: 12.5, width: 320, height: 180, fps: 25 });
    expect(c.history).toHaveLength(1);
    expect(c.history[0]!.text).toBe('<think>look</think>\n<tool_call>{"name":"get_frames","arguments":{"timestamps":[3.5],"rung":"high"}}</tool_call>');
    expect(c.history[0]!.observation).toMatchObject({ kind: "frames", result: { rung: "high", timestamps: [3.5], width: 112, height: 56 } });
    // The latest images are the evidence; without a label their time comes from the tag.
    expect(c.images).toEqual([{ url: "data:b", where: "messages[4].content[1]" }]);
  });

  it("takes a plain chat as a first turn and refuses video_url parts", () => {
    const c = parseTinyChat({ messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: "data:x" } }] }] });
    expect(c).toMatchObject({ question: "What is this?", history: [], turnIndex: 0, mustAnswer: false, tagTimes: [] });
    expect(c.options).toBeUndefined();
    expect(() => parseTinyChat({ messages: [{ role: "user", content: [{ type: "text", text: "q" }, { type: "video_url", video_url: { url: "file:///v.mp4" } }] }] })).toThrow(/image_url/);
    expect(() => parseTinyChat({ messages: [{ role: "system", content: "s" }] })).toThrow(/no user message/);
  });
});
