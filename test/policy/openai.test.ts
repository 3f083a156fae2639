/**
 * The openai policy through the real loop, against a scripted OpenAI-compatible server on
 * 127.0.0.1 and a generated video (real ffmpeg).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answer, type AgentEvent, type AnswerRequest } from "../../src/agent/loop.js";
import { TrajectorySchema } from "../../src/agent/trajectory.js";
import { createPolicy } from "../../src/policy/index.js";
import type { OpenAIPolicyConfig } from "../../src/policy/openai.js";
import { clearFrameCache, processStats } from "../../src/video/index.js";
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest, type ScriptedReply } from "../helpers/fake-openai.js";
import { makeIndexVideo, tmpDir } from "../helpers/videos.js";

let video: string;
// 160x90: every qwen rung gives 168x84 = 18 tokens per frame on this small video.
const PER_FRAME = 18;

beforeAll(async () => {
  video = await makeIndexVideo({ out: join(tmpDir(), "index.mp4"), width: 160, height: 90, fps: 10, frames: 60, gop: 5 });
});

const servers: FakeOpenAI[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  expect(processStats().live).toBe(0);
});

const call = (name: string, args: Record<string, unknown>, think = "I need a closer look.") => `<think>${think}</think>\n<tool_call>${JSON.stringify({ name, arguments: args })}</tool_call>`;
const ans = (a: string, think = "Now I can tell.") => `<think>${think}</think>\n<answer>${a}</answer>`;

async function run(script: ScriptedReply[], opts: { config?: Partial<OpenAIPolicyConfig>; req?: Partial<AnswerRequest> } = {}) {
  const server = await startFakeOpenAI(script);
  servers.push(server);
  const policy = await createPolicy("openai", { openai: { baseUrl: server.url, model: "fake-vlm-1", retryBaseMs: 1, retryMaxMs: 20, ...opts.config } });
  const events: AgentEvent[] = [];
  const result = await answer({
    video,
    question: "Which digit is shown?",
    options: ["A. 3", "B. 7"],
    policy,
    sampling: { temperature: 0.7, topP: 0.9, seed: 11 },
    onEvent: (e) => events.push(e),
    ...opts.req,
    settings: { ladder: "qwen", ...opts.req?.settings },
  });
  // Every record, whatever happened, is valid against the schema and survives JSON.
  expect(TrajectorySchema.parse(JSON.parse(JSON.stringify(result.record)))).toEqual(result.record);
  return { ...result, events, server };
}

const content = (m: RecordedRequest["body"]["messages"][number]) => (typeof m.content === "string" ? [{ type: "text", text: m.content }] : (m.content as Array<{ type: string; text?: string; image_url?: { url: string } }>));
const images = (r: RecordedRequest) => r.body.messages.flatMap((m) => (m.content ? content(m) : [])).filter((p) => p.type === "image_url");
const lastText = (r: RecordedRequest) => content(r.body.messages.at(-1)!).filter((p) => p.type === "text").map((p) => p.text).join("\n");

describe("openai policy in the loop", () => {
  it("multi-turn success: look again, then answer (text protocol, non-streaming)", async () => {
    const { record, answer: a, events, server, extras, error } = await run([{ content: call("get_frames", { timestamps: [2.04, 2.5], rung: "high" }) }, { content: ans("B"), usage: { prompt_tokens: 900, completion_tokens: 12 } }]);
    expect(error).toBeUndefined();
    expect(a).toBe("B");
    expect(extras).toEqual([]);
    expect(record.schema).toBe("framemind.trajectory");
    expect(record.version).toBe(1);
    expect(record.question).toBe("Which digit is shown?");
    expect(record.options).toEqual(["A. 3", "B. 7"]);
    expect(record.policy).toEqual({
      id: "openai:fake-vlm-1",
      modelVersion: "fake-vlm-1",
      settings: { baseUrl: server.url, model: "fake-vlm-1", nativeTools: "auto", stream: false, historyImageTokens: 4096, jpegQuality: 85, imageDetail: null, maxCompletionTokens: 1024, timeoutMs: 60_000, maxRetries: 3 },
    });
    expect(record.sampling).toEqual({ temperature: 0.7, topP: 0.9, seed: 11 });
    expect(record.settings).toEqual({ ladder: "qwen", firstObservation: { frames: 8, rung: "low", mode: "tolerant", source: "default" }, maxTurns: 4, maxVisualTokens: 4096, maxFramesPerCall: 16, timeoutMs: 120_000, promptVersion: "v1" });
    expect(record.versions.ffmpeg).toMatch(/^\d/);
    expect(record.video).toMatchObject({ duration: 6, fps: 10, width: 160, height: 90, codec: "h264" });
    expect(record.firstObservation).toMatchObject({ tool: "get_frames", width: 168, height: 84, tokens: 8 * PER_FRAME, rung: "low" });
    expect(record.firstObservation!.timestamps).toHaveLength(8);
    expect(record.turns).toHaveLength(2);
    const [t0, t1] = record.turns;
    expect(t0!.call).toEqual({ name: "get_frames", arguments: { timestamps: [2, 2.5], rung: "high", mode: "exact" }, source: "text" });
    expect(t0!.answer).toBeNull();
    expect(t0!.error).toBeNull();
    expect(t0!.mustAnswer).toBe(false);
    expect(t0!.formatIssues).toEqual([]);
    expect(t0!.result).toMatchObject({ tool: "get_frames", width: 168, height: 84, tokens: 2 * PER_FRAME, rung: "high", mode: "exact", cached: false });
    expect(t0!.result!.timestamps[0]).toBeCloseTo(2.0, 3);
    expect(t0!.result!.timestamps[1]).toBeCloseTo(2.5, 3);
    expect(t1!.call).toBeNull();
    expect(t1!.answer).toBe("B");
    expect(t1!.usage).toEqual({ promptTokens: 900, completionTokens: 12 });
    expect(record.answer).toBe("B");
    expect(record.stopReason).toBe("answer");
    expect(record.evidenceCited).toEqual(t0!.result!.timestamps);
    expect(record.framesSeen).toHaveLength(10);
    expect(record.framesSeen.filter((f) => f.observation === 1).map((f) => f.timestamp)).toEqual(t0!.result!.timestamps);
    expect(record.tokens).toEqual({ visual: 10 * PER_FRAME, visualFirstObservation: 8 * PER_FRAME, visualToolCalls: 2 * PER_FRAME, textPrompt: 1000, textCompletion: 32 });
    expect(record.calls).toEqual({ total: 1, valid: 1, invalid: 0, byTool: { get_frames: 1 } });
    expect(record.invalidCalls).toBe(0);
    expect(record.errors).toEqual([]);
    expect(record.timings.totalMs).toBeGreaterThanOrEqual(record.timings.videoMs + record.timings.modelMs - 2);
    expect(events.map((e) => e.type)).toEqual(["start", "frames", "reasoning", "tool_call", "frames", "reasoning", "answer", "done"]);

    // What the model was sent: system prompt with tools, the overview images, then the history.
    expect(server.requests).toHaveLength(2);
    const [r0, r1] = server.requests;
    expect(r0!.body.model).toBe("fake-vlm-1");
    expect(r0!.body.temperature).toBe(0.7);
    expect(r0!.body.top_p).toBe(0.9);
    expect(r0!.body.seed).toBe(11);
    expect(r0!.body.messages[0]!.role).toBe("system");
    expect(String(r0!.body.messages[0]!.content)).toContain("get_clip");
    expect(images(r0!)).toHaveLength(8);
    expect(images(r0!)[0]!.image_url!.url).toMatch(/^data:image\/jpeg;base64,\/9j\//);
    expect(images(r1!)).toHaveLength(10);
    expect(r1!.body.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(lastText(r1!)).toContain('<frames source="get_frames" rung="high" size="168x84" tokens="36">2 frames at t = 2.0, 2.5 s</frames>');
  });

  it("streaming with native tool calls and a separate reasoning field", async () => {
    const { record, server } = await run(
      [
        { content: "<think>Count over 1-3 s.</think>", toolCalls: [{ id: "call_a", name: "get_clip", arguments: '{"start": 1, "end": 3, "count": 8, "rung": "mid"}' }] },
        { reasoning: "Seven it is.", content: "<answer>B</answer>" },
      ],
      { config: { stream: true, nativeTools: "on" }, req: { settings: { maxTurns: 2 } } },
    );
    expect(record.stopReason).toBe("answer");
    expect(record.turns[0]!.call).toEqual({ name: "get_clip", arguments: { start: 1, end: 3, count: 8, rung: "mid" }, source: "native", id: "call_a" });
    expect(record.turns[0]!.nativeToolCalls).toEqual([{ id: "call_a", name: "get_clip", arguments: '{"start": 1, "end": 3, "count": 8, "rung": "mid"}' }]);
    expect(record.turns[0]!.result).toMatchObject({ tool: "get_clip", tokens: 4 * PER_FRAME });
    expect(record.turns[0]!.result!.timestamps).toHaveLength(8);
    expect(record.turns[1]!.text).toBe("<think>Seven it is.</think>\n<answer>B</answer>");
    expect(record.turns[1]!.formatIssues).toEqual([]);
    expect(record.tokens.textPrompt).toBe(200);
    const [r0, r1] = server.requests;
    expect(r0!.body.stream).toBe(true);
    expect(r0!.body.tools!.map((t) => t.function.name)).toEqual(["get_frames", "get_clip"]);
    expect(r0!.body.tools![1]!.function.parameters).toMatchObject({ type: "object", required: ["start", "end", "rung"] });
    const roles = r1!.body.messages.map((m) => m.role);
    expect(roles).toEqual(["system", "user", "assistant", "tool", "user"]);
    expect(r1!.body.messages[2]!.tool_calls).toEqual([{ id: "call_a", type: "function", function: { name: "get_clip", arguments: '{"start": 1, "end": 3, "count": 8, "rung": "mid"}' } }]);
    expect(r1!.body.messages[3]!.tool_call_id).toBe("call_a");
    // The last turn keeps the tool definitions (the history has tool calls) but forbids calling.
    expect(r1!.body.tools!.map((t) => t.function.name)).toEqual(["get_frames", "get_clip"]);
    expect(r1!.body.tool_choice).toBe("none");
    expect(images(r1!)).toHaveLength(16);
  });

  it("broken JSON in a tool call becomes an error observation, then the model recovers", async () => {
    const { record, server, events } = await run([
      { content: '<think>look</think><tool_call>{"name": "get_frames", "arguments": {"timestamps": [1.0,, 2]}}</tool_call>' },
      { content: call("get_frames", { timestamps: [1, 2], rung: "mid" }) },
      { content: ans("A") },
    ]);
    expect(record.stopReason).toBe("answer");
    expect(record.invalidCalls).toBe(1);
    expect(record.calls).toEqual({ total: 2, valid: 1, invalid: 1, byTool: { get_frames: 1 } });
    expect(record.turns[0]!.error!.code).toBe("FM_ERR_AGENT_BAD_JSON");
    expect(record.turns[0]!.call).toBeNull();
    expect(record.turns[0]!.result).toBeNull();
    expect(record.turns[1]!.result!.timestamps).toHaveLength(2);
    expect(record.errors).toEqual([]);
    expect(lastText(server.requests[1]!)).toMatch(/^<error code="FM_ERR_AGENT_BAD_JSON">the tool call is not valid JSON: .+<\/error>\nFix the call or answer\. Turns left: 3\./);
    expect(events.find((e) => e.type === "error")).toMatchObject({ turn: 0, code: "FM_ERR_AGENT_BAD_JSON", recoverable: true });
    // The error observation carries no frames: the policy still sees the overview as its evidence.
    expect(images(server.requests[1]!)).toHaveLength(8);
  });

  it("a call outside the video's range is an error observation", async () => {
    const { record, server } = await run([{ content: call("get_frames", { timestamps: [30], rung: "low" }) }, { content: ans("A") }]);
    expect(record.turns[0]!.error).toEqual({ code: "FM_ERR_VIDEO_OUT_OF_RANGE", message: "time 30s is outside the video (0 to 6s)" });
    expect(record.invalidCalls).toBe(1);
    expect(record.answer).toBe("A");
    expect(lastText(server.requests[1]!)).toContain("outside the video");
  });

  it("a visual-token budget that runs out forces the answer turn", async () => {
    // 200 tokens: the overview takes 144, 56 are left = 3 frames.
    const { record, server } = await run(
      [
        { content: call("get_frames", { start: 1, end: 2, count: 4, rung: "high" }) },
        { content: call("get_frames", { start: 1, end: 2, count: 3, rung: "high" }) },
        { content: call("get_frames", { timestamps: [4], rung: "low" }) },
      ],
      { req: { settings: { maxVisualTokens: 200 } } },
    );
    expect(record.turns.map((t) => t.error?.code ?? null)).toEqual(["FM_ERR_AGENT_OVER_BUDGET", null, "FM_ERR_AGENT_MUST_ANSWER"]);
    expect(record.turns[0]!.error!.message).toBe("the call costs 72 visual tokens but only 56 are left");
    expect(record.turns.map((t) => t.mustAnswer)).toEqual([false, false, true]);
    expect(record.stopReason).toBe("budget");
    expect(record.answer).toBeNull();
    expect(record.tokens.visual).toBe(198);
    expect(record.tokens.visual).toBeLessThanOrEqual(200);
    expect(record.invalidCalls).toBe(2);
    expect(record.errors.map((e) => e.code)).toEqual(["FM_ERR_AGENT_MUST_ANSWER"]);
    expect(lastText(server.requests[2]!)).toContain("This is your last turn: answer now");
  });

  it("a model that never answers stops at the turn limit", async () => {
    const look = (t: number) => ({ content: call("get_frames", { timestamps: [t], rung: "low" }) });
    const { record, server } = await run([look(1), look(2), look(3)], { config: { historyImageTokens: 0 }, req: { settings: { maxTurns: 3 } } });
    expect(record.turns).toHaveLength(3);
    expect(record.stopReason).toBe("turn_limit");
    expect(record.answer).toBeNull();
    expect(record.evidenceCited).toEqual([]);
    expect(record.calls).toEqual({ total: 3, valid: 2, invalid: 1, byTool: { get_frames: 2 } });
    expect(record.turns[2]!.error!.code).toBe("FM_ERR_AGENT_MUST_ANSWER");
    expect(server.requests).toHaveLength(3);
    expect(lastText(server.requests[2]!)).toContain("This is your last turn");
    // No budget for older images: only the latest observation's frame is re-sent.
    expect(images(server.requests[2]!)).toHaveLength(1);
    expect(JSON.stringify(server.requests[2]!.body.messages)).toContain("(images omitted to save tokens)");
  });

  it("an endpoint that returns 500 is retried, then the typed error lands in the record", async () => {
    const { record, error, server } = await run([{ status: 500 }, { status: 503 }, { status: 500 }, { status: 502 }], { config: { maxRetries: 3 } });
    expect(server.requests).toHaveLength(4);
    expect(error?.code).toBe("FM_ERR_POLICY_UPSTREAM");
    expect(record.stopReason).toBe("error");
    expect(record.answer).toBeNull();
    expect(record.errors).toEqual([{ turn: 0, code: "FM_ERR_POLICY_UPSTREAM", message: expect.stringMatching(/^the model endpoint failed after 4 attempt\(s\): 502/) }]);
    expect(record.turns).toEqual([]);
  });

  it("a 429 with retry-after is retried and succeeds; the retry is a warning", async () => {
    const { record, server } = await run([{ status: 429, headers: { "retry-after-ms": "5" } }, { content: ans("A") }]);
    expect(server.requests).toHaveLength(2);
    expect(record.answer).toBe("A");
    expect(record.warnings).toEqual(["turn 0: attempt 1 failed (429), retrying in 5 ms"]);
  });

  it("an endpoint that hangs times out per attempt and gives a typed timeout", async () => {
    const { record, error, server } = await run([{ hang: true }, { hang: true }], { config: { timeoutMs: 300, maxRetries: 1 } });
    expect(server.requests).toHaveLength(2);
    expect(error?.code).toBe("FM_ERR_POLICY_TIMEOUT");
    expect(record.errors[0]).toEqual({ turn: 0, code: "FM_ERR_POLICY_TIMEOUT", message: "the model endpoint did not reply within 300 ms (2 attempt(s))" });
    expect(record.stopReason).toBe("error");
  });

  it("falls back to the text protocol when the endpoint refuses native tools", async () => {
    const { record, server } = await run([{ status: 400, message: "tools are not supported" }, { content: ans("B") }], { config: { nativeTools: "auto" } });
    expect(server.requests[0]!.body.tools).toHaveLength(2);
    expect(server.requests[1]!.body.tools).toBeUndefined();
    expect(record.answer).toBe("B");
    expect(record.warnings[0]).toMatch(/^turn 0: the endpoint refused native tool calls/);
  });

  it("cancellation mid-ffmpeg stops the decode and leaves no ffmpeg process", async () => {
    // The abort must land while the tool's ffmpeg runs; a process can still count as live for a
    // moment after its frames were read, so an attempt whose tool still returned its frames (the
    // abort came too late to stop it; the loop then stops at the next turn) is a miss of the
    // setup, not of the code, and is run again (bounded: if cancelling never stopped a decode,
    // the fifth attempt fails).
    for (let attempt = 1; ; attempt++) {
      clearFrameCache();
      const controller = new AbortController();
      let sawLive = false;
      const server = await startFakeOpenAI([{ content: call("get_frames", { start: 0.5, end: 5.5, count: 16, rung: "high" }) }, { content: ans("A") }]);
      servers.push(server);
      const policy = await createPolicy("openai", { openai: { baseUrl: server.url, model: "fake-vlm-1" } });
      const result = await answer({
        video,
        question: "Which digit?",
        policy,
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type !== "tool_call") return;
          // Abort as soon as the tool's ffmpeg process is running.
          const poll = setInterval(() => {
            if (processStats().live > 0) {
              sawLive = true;
              clearInterval(poll);
              controller.abort();
            }
          }, 1);
          setTimeout(() => clearInterval(poll), 10_000);
        },
      });
      // answer() settles only after every ffmpeg of the request has exited.
      expect(processStats().live).toBe(0);
      expect(TrajectorySchema.safeParse(result.record).success).toBe(true);
      if (result.record.turns[0]?.result !== null && attempt < 5) continue;
      expect(sawLive).toBe(true);
      expect(result.error?.code).toBe("FM_ERR_CANCELLED");
      expect(result.record.stopReason).toBe("cancelled");
      expect(result.record.errors).toEqual([{ turn: 0, code: "FM_ERR_CANCELLED", message: "the request was cancelled" }]);
      expect(result.record.turns[0]!.result).toBeNull();
      expect(server.requests).toHaveLength(1);
      break;
    }
  });

  it("cancellation during the model call aborts the HTTP request", async () => {
    const controller = new AbortController();
    const server = await startFakeOpenAI([{ hang: true }]);
    servers.push(server);
    const policy = await createPolicy("openai", { openai: { baseUrl: server.url, model: "fake-vlm-1", timeoutMs: 30_000 } });
    const poll = setInterval(() => server.requests.length > 0 && controller.abort(), 5);
    const result = await answer({ video, question: "Which digit?", policy, signal: controller.signal });
    clearInterval(poll);
    expect(result.record.stopReason).toBe("cancelled");
    expect(result.error?.code).toBe("FM_ERR_CANCELLED");
  });

  it("the overall timeout stops a slow model with FM_ERR_AGENT_TIMEOUT", async () => {
    const { record, error } = await run([{ hang: true }], { config: { timeoutMs: 30_000 }, req: { settings: { timeoutMs: 400 } } });
    expect(error?.code).toBe("FM_ERR_AGENT_TIMEOUT");
    expect(record.stopReason).toBe("timeout");
    expect(record.errors[0]).toMatchObject({ turn: 0, code: "FM_ERR_AGENT_TIMEOUT" });
  });
});
