/**
 * Wire schemas of the HTTP API (snake_case, as OpenAI-style APIs are): the single source of
 * request validation and of the OpenAPI document. Internal types stay camelCase.
 */
import { z } from "zod";

export const HttpErrorBodySchema = z.object({
  statusCode: z.number().int(),
  code: z.string().describe("FM_ERR_* code"),
  error: z.string().describe("HTTP reason phrase"),
  message: z.string(),
});

export const OpenAIErrorBodySchema = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string() }),
});

export const VideoIdParams = z.object({ id: z.string().regex(/^vid_[A-Za-z0-9_-]{8,64}$/, "a video id as returned by POST /v1/videos").describe("video id") });
export const TrajectoryIdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "a trajectory id").describe("trajectory id") });

export const VideoInfoSchema = z.object({
  duration: z.number(),
  fps: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  codec: z.string(),
  bytes: z.number().int(),
});

export const VideoUploadReplySchema = z.object({
  id: z.string().describe("use as `video_id` in POST /v1/video/qa"),
  expires_at: z.string().describe("ISO time after which the video is deleted"),
  ttl_s: z.number().int(),
  filename: z.string().optional(),
  video: VideoInfoSchema,
});

const optionalInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();

/** Multipart fields arrive as strings: numbers and booleans are coerced, options may be JSON. */
export const QaRequestSchema = z
  .object({
    video_id: z.string().optional().describe("id from POST /v1/videos"),
    path: z.string().optional().describe("server-side path inside the configured roots (relative paths start at the first root)"),
    url: z.string().optional().describe("http(s) URL (when URL input is enabled), data: URL, or file:// URL inside the roots"),
    question: z.string().trim().min(1).max(4000),
    options: z.array(z.string().trim().min(1).max(500)).min(2).max(26).optional().describe('multiple-choice options, e.g. ["A. red", "B. blue"]'),
    policy: z.string().optional().describe("policy name (default: the server's)"),
    max_turns: optionalInt(1, 16).describe("turn limit (default 4, or the policy's longer route for the question)"),
    budget: optionalInt(1, 1_000_000).describe("visual-token budget for the whole question"),
    stream: z
      .union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((s) => s === "true" || s === "1")])
      .optional()
      .describe("stream steps as server-sent events (also chosen by Accept: text/event-stream)"),
  })
  .strict();

export type QaRequest = z.infer<typeof QaRequestSchema>;

/** The multipart form of a QA request: the same fields plus the video file. */
export const QaMultipartSchema = QaRequestSchema.extend({ file: z.string().describe("the video file (binary part); options may be a JSON array or repeated fields") });

export const QaReplySchema = z.object({
  id: z.string().describe("trajectory id"),
  answer: z.string().nullable(),
  timestamps: z.array(z.number()).describe("timestamps (s) of the frames the answer rests on"),
  warnings: z.array(z.string()),
  stop_reason: z.string(),
  policy: z.string(),
  trajectory: z.object({ id: z.string(), url: z.string().describe("JSON record"), viewer: z.string().describe("viewer page (signed, expiring link when API keys are on)") }),
  summary: z.object({
    turns: z.number().int(),
    frames: z.number().int(),
    visual_tokens: z.number().int(),
    prompt_tokens: z.number().int().nullable(),
    completion_tokens: z.number().int().nullable(),
    calls: z.number().int(),
    invalid_calls: z.number().int(),
    timings_ms: z.object({ total: z.number(), queue: z.number(), video: z.number(), model: z.number(), overhead: z.number() }),
  }),
});

export type QaReply = z.infer<typeof QaReplySchema>;

export const TrajectoryListSchema = z.object({
  data: z.array(z.object({ id: z.string(), created_at: z.string(), question: z.string(), answer: z.string().nullable(), url: z.string() })),
});

export const TrajectoryQuery = z.object({
  exp: z.coerce.number().int().optional().describe("signed link: expiry (unix seconds)"),
  sig: z.string().optional().describe("signed link: signature"),
});

// ---- OpenAI-compatible ------------------------------------------------------------------------

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const VideoUrlPart = z.object({ type: z.literal("video_url"), video_url: z.object({ url: z.string().min(1) }) });
const ImageUrlPart = z.object({ type: z.literal("image_url"), image_url: z.object({ url: z.string().min(1), detail: z.string().optional() }) });
const ContentPart = z.union([TextPart, VideoUrlPart, ImageUrlPart]);

const ToolCallSchema = z.object({
  id: z.string().optional(),
  type: z.literal("function").default("function"),
  function: z.object({ name: z.string(), arguments: z.string().default("") }),
});

export const ChatMessageSchema = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool"]),
    content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
    name: z.string().optional(),
    /** Assistant turns that called tools natively (the openai policy echoes them back). */
    tool_calls: z.array(ToolCallSchema).optional(),
    /** Tool messages: which call this result answers. */
    tool_call_id: z.string().optional(),
  })
  .loose();

const ToolDefinitionSchema = z.object({
  type: z.literal("function"),
  function: z.object({ name: z.string().min(1), description: z.string().optional(), parameters: z.record(z.string(), z.unknown()).optional() }).loose(),
});

export const ChatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(ChatMessageSchema).min(1),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullable().optional(),
    max_tokens: z.number().int().positive().nullable().optional(),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    seed: z.number().int().nullable().optional(),
    user: z.string().optional(),
    /** framemind-tiny: accepted, but the model writes its calls in the text protocol (content), as vLLM without a tool parser. */
    tools: z.array(ToolDefinitionSchema).optional(),
    tool_choice: z.union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function") }).loose()]).optional(),
    /** FrameMind extensions (ignored by other servers). */
    framemind: z
      .object({ options: z.array(z.string()).min(2).max(26).optional(), max_turns: z.number().int().min(1).max(16).optional(), budget: z.number().int().positive().optional(), policy: z.string().optional() })
      .optional(),
  })
  .loose();

export type ChatRequest = z.infer<typeof ChatRequestSchema>;
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const ChatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string().nullable(), reasoning_content: z.string().optional() }),
      finish_reason: z.enum(["stop", "length"]),
      logprobs: z.null(),
    }),
  ),
  usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() }),
  system_fingerprint: z.string().optional().describe("framemind-tiny: the embedded model's version"),
  framemind: z.object({ trajectory_id: z.string(), timestamps: z.array(z.number()), viewer: z.string() }).optional(),
});

export const ModelListSchema = z.object({
  object: z.literal("list"),
  data: z.array(z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() })),
});
