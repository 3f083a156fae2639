/**
 * The `openai` policy: any OpenAI-compatible Chat Completions endpoint (vLLM, SGLang, Ollama,
 * OpenAI) through the official SDK. Frames go as data-URL JPEG image parts, each after a text
 * part naming its timestamp; the latest observation is always sent, earlier ones newest-first
 * while they fit `historyImageTokens`. Native tool calling is used when enabled (tools from the
 * zod schemas) and dropped for the text protocol if the endpoint rejects it. Retries are ours
 * (the SDK's are off) so attempts are counted: 408/409/429/5xx, connection errors and timeouts,
 * exponential backoff with jitter, honouring retry-after(-ms).
 */
import OpenAI from "openai";
import type { ChatCompletionContentPart, ChatCompletionCreateParamsBase, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { z } from "zod";
import { FramemindError } from "../errors.js";
import { encodeJpegs } from "../video/index.js";
import { toolSpecs } from "../../prompts/index.js";
import type { EvidenceFrame, NativeToolCall, Policy, PolicyInput, PolicyStep, StepOptions } from "./types.js";

export const OpenAIPolicyConfigSchema = z.object({
  baseUrl: z.url({ message: "base URL must be a URL (flag --base-url or OPENAI_BASE_URL)" }),
  model: z.string().min(1, "model is required (flag --model or FRAMEMIND_OPENAI_MODEL)"),
  /** Local servers ignore it; the SDK insists on one. */
  apiKey: z.string().min(1).default("framemind-no-key"),
  /** 'auto': send tools, fall back to the text protocol if the endpoint refuses them. */
  nativeTools: z.enum(["auto", "on", "off"]).default("auto"),
  stream: z.boolean().default(false),
  timeoutMs: z.number().int().positive().default(60_000),
  maxRetries: z.number().int().min(0).max(10).default(3),
  retryBaseMs: z.number().int().min(0).default(500),
  retryMaxMs: z.number().int().min(0).default(20_000),
  /** Visual tokens of earlier observations' images re-sent each turn (the latest is always sent). */
  historyImageTokens: z.number().int().min(0).default(4096),
  jpegQuality: z.number().int().min(1).max(100).default(85),
  maxCompletionTokens: z.number().int().positive().default(1024),
  imageDetail: z.enum(["auto", "low", "high"]).optional(),
});
export type OpenAIPolicyConfig = z.input<typeof OpenAIPolicyConfigSchema>;

/** Config from explicit values, then the environment. */
export function openaiConfigFromEnv(over: Partial<OpenAIPolicyConfig> = {}, env: NodeJS.ProcessEnv = process.env): z.output<typeof OpenAIPolicyConfigSchema> {
  const raw = {
    ...over,
    baseUrl: over.baseUrl ?? env.OPENAI_BASE_URL,
    model: over.model ?? env.FRAMEMIND_OPENAI_MODEL,
    apiKey: over.apiKey ?? (env.OPENAI_API_KEY || undefined),
  };
  const r = OpenAIPolicyConfigSchema.safeParse(raw);
  if (!r.success) throw new FramemindError("FM_ERR_POLICY_CONFIG", { policy: "openai", reason: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
  return r.data;
}

const RETRYABLE = new Set([408, 409, 429]);

function retryAfterMs(h: Headers | undefined): number | undefined {
  const ms = Number(h?.get("retry-after-ms"));
  if (h?.get("retry-after-ms") && Number.isFinite(ms)) return ms;
  const ra = h?.get("retry-after");
  if (!ra) return undefined;
  const s = Number(ra);
  if (Number.isFinite(s)) return s * 1000;
  const d = Date.parse(ra);
  return Number.isFinite(d) ? Math.max(0, d - Date.now()) : undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new FramemindError("FM_ERR_CANCELLED"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new FramemindError("FM_ERR_CANCELLED"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

type Cfg = z.output<typeof OpenAIPolicyConfigSchema>;

/** The text part before each image: its time and size (framemind-tiny on the server reads it back). */
export function frameLabel(f: Pick<EvidenceFrame, "timestamp" | "width" | "height">): string {
  return `Frame at t=${f.timestamp.toFixed(1)} s (${f.width}x${f.height}):`;
}

/** Inverse of frameLabel. */
export function parseFrameLabel(text: string): { timestamp: number; width: number; height: number } | undefined {
  const m = /^Frame at t=(-?\d+(?:\.\d+)?) s \((\d+)x(\d+)\):$/.exec(text.trim());
  return m ? { timestamp: Number(m[1]), width: Number(m[2]), height: Number(m[3]) } : undefined;
}

/**
 * JPEG data URLs of one observation, reused across turns and questions: the video layer's cache
 * hands out the same RGB buffers for the same request, so buffer identity is the key.
 */
const jpegCache = new WeakMap<Buffer, { rgb: readonly Buffer[]; quality: number; urls: Promise<string[]> }>();

async function jpegDataUrls(frames: readonly EvidenceFrame[], quality: number, signal?: AbortSignal): Promise<string[]> {
  const first = frames[0]!.rgb;
  const hit = jpegCache.get(first);
  if (hit && hit.quality === quality && hit.rgb.length === frames.length && hit.rgb.every((b, i) => b === frames[i]!.rgb)) {
    try {
      return await hit.urls;
    } catch (e) {
      // Another request's cancel may have stopped the shared encode: encode anew unless we are cancelled too.
      if (signal?.aborted) throw e;
    }
  }
  const urls = encodeJpegs(frames, { quality, signal }).then((bufs) => bufs.map((b) => `data:image/jpeg;base64,${b.toString("base64")}`));
  // A failed or cancelled encode is not remembered.
  urls.catch(() => jpegCache.get(first)?.urls === urls && jpegCache.delete(first));
  jpegCache.set(first, { rgb: frames.map((f) => f.rgb), quality, urls });
  return urls;
}

export function createOpenAIPolicy(config: Cfg): Policy & { modelVersion: string } {
  const client = new OpenAI({ baseURL: config.baseUrl, apiKey: config.apiKey, maxRetries: 0, timeout: config.timeoutMs });
  let native = config.nativeTools !== "off";
  const jpegs = (frames: readonly EvidenceFrame[], signal?: AbortSignal) => jpegDataUrls(frames, config.jpegQuality, signal);

  async function imageParts(frames: readonly EvidenceFrame[], signal?: AbortSignal): Promise<ChatCompletionContentPart[]> {
    if (frames.length === 0) return [];
    const urls = await jpegs(frames, signal);
    return frames.flatMap((f, i): ChatCompletionContentPart[] => [
      { type: "text", text: frameLabel(f) },
      { type: "image_url", image_url: { url: urls[i]!, ...(config.imageDetail ? { detail: config.imageDetail } : {}) } },
    ]);
  }

  /** Which observations get their images: the latest always, older ones while they fit. */
  function imageObservations(all: readonly (readonly EvidenceFrame[])[]): Set<number> {
    const keep = new Set<number>();
    let latest = -1;
    for (let i = all.length - 1; i >= 0; i--) if (all[i]!.length) { latest = i; break; }
    if (latest >= 0) keep.add(latest);
    let spent = 0;
    for (let i = latest - 1; i >= 0; i--) {
      const cost = all[i]!.reduce((n, f) => n + f.tokens, 0);
      if (cost === 0) continue;
      if (spent + cost > config.historyImageTokens) break;
      spent += cost;
      keep.add(i);
    }
    return keep;
  }

  async function messages(input: PolicyInput, useNative: boolean, signal?: AbortSignal): Promise<ChatCompletionMessageParam[]> {
    const keep = imageObservations(input.allEvidence);
    const frames = (i: number) => (keep.has(i) ? imageParts(input.allEvidence[i] ?? [], signal) : Promise.resolve([]));
    const omitted = (i: number) => (!keep.has(i) && (input.allEvidence[i]?.length ?? 0) > 0 ? " (images omitted to save tokens)" : "");
    const out: ChatCompletionMessageParam[] = [
      { role: "system", content: input.system },
      { role: "user", content: [{ type: "text", text: input.user + omitted(0) }, ...(await frames(0))] },
    ];
    for (const h of input.history) {
      const obs = h.index + 1;
      const imgs = await frames(obs);
      if (useNative && h.toolCalls?.length) {
        const calls = h.toolCalls.map((c, k) => ({ id: c.id ?? `call_${h.index}_${k}`, type: "function" as const, function: c.function }));
        out.push({ role: "assistant", content: h.text || null, tool_calls: calls });
        for (const c of calls) out.push({ role: "tool", tool_call_id: c.id, content: h.observation.text + omitted(obs) });
        // Tool messages carry text only: the frames follow as a user message.
        if (imgs.length) out.push({ role: "user", content: [{ type: "text", text: "The frames returned by the call:" }, ...imgs] });
      } else {
        out.push({ role: "assistant", content: h.text });
        if (h.observation.kind !== "none") out.push({ role: "user", content: [{ type: "text", text: h.observation.text + omitted(obs) }, ...imgs] });
      }
    }
    return out;
  }

  async function complete(params: ChatCompletionCreateParamsBase, signal?: AbortSignal): Promise<PolicyStep & { model?: string }> {
    if (!config.stream) {
      const r = await client.chat.completions.create({ ...params, stream: false }, { signal });
      const m = r.choices[0]?.message;
      if (!m) throw new FramemindError("FM_ERR_POLICY_UPSTREAM", { attempts: 1, reason: "the reply has no choices" });
      const reasoning = (m as { reasoning_content?: string }).reasoning_content;
      const toolCalls: NativeToolCall[] = (m.tool_calls ?? []).flatMap((c) => (c.type === "function" ? [{ id: c.id, type: "function" as const, function: { name: c.function.name, arguments: c.function.arguments } }] : []));
      return {
        text: withReasoning(m.content ?? "", reasoning),
        ...(toolCalls.length ? { toolCalls } : {}),
        ...(r.usage ? { usage: { promptTokens: r.usage.prompt_tokens, completionTokens: r.usage.completion_tokens } } : {}),
        model: r.model,
      };
    }
    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, { signal });
    let text = "";
    let reasoning = "";
    let model: string | undefined;
    let usage: PolicyStep["usage"];
    const calls: Array<{ id?: string; name: string; arguments: string }> = [];
    for await (const chunk of stream) {
      model ??= chunk.model;
      if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      const d = chunk.choices[0]?.delta;
      if (!d) continue;
      text += d.content ?? "";
      reasoning += (d as { reasoning_content?: string }).reasoning_content ?? "";
      for (const tc of d.tool_calls ?? []) {
        const c = (calls[tc.index] ??= { name: "", arguments: "" });
        if (tc.id) c.id = tc.id;
        c.name += tc.function?.name ?? "";
        c.arguments += tc.function?.arguments ?? "";
      }
    }
    const toolCalls: NativeToolCall[] = calls.filter(Boolean).map((c) => ({ ...(c.id ? { id: c.id } : {}), type: "function", function: { name: c.name, arguments: c.arguments } }));
    return { text: withReasoning(text, reasoning || undefined), ...(toolCalls.length ? { toolCalls } : {}), ...(usage ? { usage } : {}), model };
  }

  const policy: Policy & { modelVersion: string } = {
    id: `openai:${config.model}`,
    modelVersion: config.model,
    settings: {
      baseUrl: config.baseUrl,
      model: config.model,
      nativeTools: config.nativeTools,
      stream: config.stream,
      historyImageTokens: config.historyImageTokens,
      jpegQuality: config.jpegQuality,
      imageDetail: config.imageDetail ?? null,
      maxCompletionTokens: config.maxCompletionTokens,
      timeoutMs: config.timeoutMs,
      maxRetries: config.maxRetries,
    },
    async step(input: PolicyInput, opts: StepOptions): Promise<PolicyStep> {
      const warnings: string[] = [];
      let attempt = 0;
      for (;;) {
        attempt++;
        const useNative = native && (input.tools.length > 0 || input.history.some((h) => h.toolCalls?.length));
        // The last turn has no tools, but a conversation with tool calls still needs their
        // definitions: send them with tool_choice "none" so the model must answer in text.
        const tools = input.tools.length ? input.tools : toolSpecs(input.ladder);
        const params: ChatCompletionCreateParamsBase = {
          model: config.model,
          messages: await messages(input, useNative, opts.signal),
          max_completion_tokens: config.maxCompletionTokens,
          ...(opts.sampling ? { temperature: opts.sampling.temperature, top_p: opts.sampling.topP, ...(opts.sampling.seed !== undefined ? { seed: opts.sampling.seed } : {}) } : {}),
          ...(useNative && tools.length
            ? {
                tools: tools.map((t) => ({ type: "function" as const, function: { name: t.name, description: t.description, parameters: t.parameters } })),
                ...(input.tools.length === 0 ? { tool_choice: "none" as const } : {}),
              }
            : {}),
        };
        try {
          const r = await complete(params, opts.signal);
          if (r.model) policy.modelVersion = r.model;
          const { model: _m, ...step } = r;
          return { ...step, ...(warnings.length ? { warnings } : {}) };
        } catch (e) {
          if (opts.signal?.aborted) throw new FramemindError("FM_ERR_CANCELLED", {}, { cause: e });
          if (e instanceof FramemindError) throw e;
          const status = e instanceof OpenAI.APIError ? e.status : undefined;
          // The endpoint does not do native tools: fall back to the text protocol once, for good.
          if (status === 400 && useNative && config.nativeTools === "auto") {
            native = false;
            warnings.push(`the endpoint refused native tool calls (${(e as Error).message.slice(0, 120)}); using the text protocol`);
            attempt--;
            continue;
          }
          const timedOut = e instanceof OpenAI.APIConnectionTimeoutError;
          const retryable = timedOut || e instanceof OpenAI.APIConnectionError || (status !== undefined && (RETRYABLE.has(status) || status >= 500));
          if (!retryable || attempt > config.maxRetries) {
            if (timedOut) throw new FramemindError("FM_ERR_POLICY_TIMEOUT", { ms: config.timeoutMs, attempts: attempt }, { cause: e });
            throw new FramemindError("FM_ERR_POLICY_UPSTREAM", { attempts: attempt, reason: `${status ?? "connection"}: ${(e as Error).message}` }, { cause: e });
          }
          const backoff = Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** (attempt - 1)) * (1 - Math.random() * 0.25);
          const wait = Math.min(config.retryMaxMs, retryAfterMs(e instanceof OpenAI.APIError ? e.headers : undefined) ?? backoff);
          warnings.push(`attempt ${attempt} failed (${timedOut ? "timeout" : (status ?? "connection error")}), retrying in ${Math.round(wait)} ms`);
          await sleep(wait, opts.signal);
        }
      }
    },
  };
  return policy;
}

/** Endpoints with a reasoning parser return the thinking apart; put it back into the protocol. */
function withReasoning(text: string, reasoning: string | undefined): string {
  if (!reasoning || text.includes("<think>")) return text;
  return `<think>${reasoning.trim()}</think>\n${text}`;
}
