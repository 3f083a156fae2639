/**
 * `framemind-tiny` on /v1/chat/completions: ONE step of the embedded policy. The chat is read in
 * the wire format the project's own `openai` policy writes (src/policy/openai.ts, texts from
 * src/agent/protocol.ts) and mapped back into the PolicyInput the agent loop would have built:
 *
 *   system / developer   -> the system prompt (video size and duration, turn limit, budget)
 *   first user message   -> "Question: ...", the "Options:" lines, the overview's <frames> tag, status line
 *   each assistant turn  -> a history turn (its text; native tool_calls written back as <tool_call>)
 *   tool / user after it -> that turn's observation (<frames ...> or <error ...>, status line)
 *   image_url parts      -> the LATEST message with images is the evidence (the model only sees the
 *                           latest observation); each image's time from the "Frame at t=X s" text
 *                           before it, else the <frames> tag's list, else 0, 1, 2, ... s
 *
 * Images are decoded by the video layer at the tiny ladder's rung named in the <frames> tag (low
 * otherwise), all at the first image's size: the model reads one patch grid per observation.
 * A plain chat (a question and a few images, no protocol text) works as a first turn.
 */
import { readFile, rm } from "node:fs/promises";
import { FramemindError } from "../errors.js";
import { LADDER_DEFAULTS, resolveSettings } from "../agent/loop.js";
import { lastFramesTag, observationFromText, questionFromText, type FramesTag } from "../agent/protocol.js";
import { parseFrameLabel } from "../policy/openai.js";
import type { EvidenceFrame, HistoryTurn, PolicyInput, ToolSpec } from "../policy/types.js";
import { canonicalRoots, decodeImages, IMAGE_LIMITS, LADDERS, readImageHeader, resolveVideoPath, rungNames, targetSize, tokensFor, type Region } from "../video/index.js";
import { toolSpecs } from "../../prompts/index.js";
import type { ServerConfig } from "./config.js";
import { downloadUrl, fileUrlPath, parseDataUrl } from "./fetch.js";
import type { ChatMessage, ChatRequest } from "./schemas.js";

export const TINY_MODEL = "framemind-tiny";
const LADDER = "tiny";

/** One image_url part, with where it sits (for errors) and the time its label gave. */
export interface WireImage {
  url: string;
  /** e.g. "messages[1].content[3]". */
  where: string;
  timestamp?: number;
}

/** A chat read back into the agent's terms (images still as URLs). */
export interface TinyChat {
  system: string;
  user: string;
  question: string;
  options?: string[];
  history: HistoryTurn[];
  images: WireImage[];
  /** Rung named by the <frames> tag describing the images (tiny ladder), when there is one. */
  rung?: string;
  /** Times listed by that tag (used when an image has no label). */
  tagTimes: number[];
  /** The crop that tag names, when the images are a zoom. */
  region?: Region;
  mustAnswer: boolean;
  turnIndex: number;
  maxTurns: number;
  maxVisualTokens: number;
  remainingVisualTokens?: number;
  video?: { duration: number; fps: number; width: number; height: number };
}

type Part = Exclude<ChatMessage["content"], string | null | undefined>[number];

function partsOf(m: ChatMessage): Part[] {
  if (typeof m.content === "string") return [{ type: "text", text: m.content }];
  return m.content ?? [];
}

/** Text of a message without the per-image labels. */
function textOf(m: ChatMessage): string {
  return partsOf(m)
    .flatMap((p) => (p.type === "text" && !parseFrameLabel(p.text) ? [p.text] : []))
    .join("\n")
    .trim();
}

const num = (re: RegExp, text: string): number | undefined => {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
};

/** Native tool calls written back into the text protocol the model reads its history in. */
function withToolCalls(m: ChatMessage): string {
  const text = textOf(m);
  const calls = (m.tool_calls ?? []).map((c) => {
    let args: unknown = c.function.arguments;
    try {
      args = JSON.parse(c.function.arguments || "{}");
    } catch {
      // Kept as the raw string: the history shows what the model wrote.
    }
    return `<tool_call>${JSON.stringify({ name: c.function.name, arguments: args })}</tool_call>`;
  });
  return [text, ...calls].filter(Boolean).join("\n");
}

/** Reads the chat; throws FM_ERR_ARGS_INVALID when there is no question or too many images. */
export function parseTinyChat(body: Pick<ChatRequest, "messages" | "tool_choice">, maxImages = 64): TinyChat {
  const msgs = body.messages;
  const system = msgs
    .filter((m) => m.role === "system" || m.role === "developer")
    .map(textOf)
    .join("\n\n");
  const firstUser = msgs.findIndex((m) => m.role === "user");
  if (firstUser < 0) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "messages: no user message", param: "messages" });
  const user = textOf(msgs[firstUser]!);
  const { question, options } = questionFromText(user);
  if (!question) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: "the first user message has no text (the question)", param: "messages" });

  const history: HistoryTurn[] = [];
  // The latest text that says what the budget leaves (first user message, then each observation).
  let status = user;
  let tag = lastFramesTag(user);
  let images: WireImage[] = [];
  let imagesTag: FramesTag | undefined;
  let obsText: string[] = [];
  const closeTurn = () => {
    const h = history[history.length - 1];
    if (h && obsText.length) h.observation = observationFromText(obsText.join("\n"));
    obsText = [];
  };
  msgs.forEach((m, i) => {
    if (i < firstUser || m.role === "system" || m.role === "developer") return;
    if (m.role === "assistant") {
      closeTurn();
      history.push({ index: history.length, text: withToolCalls(m), observation: { kind: "none", text: "" } });
      return;
    }
    const text = textOf(m);
    if (i > firstUser && text) {
      obsText.push(text);
      // "The frames returned by the call:" (native tool calls) carries no status line.
      if (/Turns left: |This is your last turn/.test(text)) status = text;
      tag = lastFramesTag(text) ?? tag;
    }
    // Images, each with the time named by the text part just before it.
    const found: WireImage[] = [];
    let label: number | undefined;
    partsOf(m).forEach((p, k) => {
      if (p.type === "text") label = parseFrameLabel(p.text)?.timestamp;
      else if (p.type === "image_url") {
        found.push({ url: p.image_url.url, where: `messages[${i}].content[${k}]`, ...(label !== undefined ? { timestamp: label } : {}) });
        label = undefined;
      } else if (p.type === "video_url") throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `${TINY_MODEL} reads image_url parts; video_url is for framemind-agent`, param: "messages" });
    });
    if (found.length) {
      images = found;
      imagesTag = tag;
    }
  });
  closeTurn();
  if (images.length > maxImages) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `${images.length} images in one message, at most ${maxImages}`, param: "messages" });

  const turnIndex = history.length;
  const maxTurns = Math.max(turnIndex + 1, num(/at most (\d+) turns/, system) ?? resolveSettings({ ladder: LADDER }).maxTurns);
  const video = /The video is (\d+(?:\.\d+)?) s long \((\d+)x(\d+) px, (\d+(?:\.\d+)?) fps\)/.exec(system);
  const remaining = num(/Visual tokens left: (\d+)\./, status);
  return {
    system,
    user,
    question,
    ...(options ? { options } : {}),
    history,
    images,
    ...(imagesTag && rungNames(LADDER).includes(imagesTag.rung) ? { rung: imagesTag.rung } : {}),
    tagTimes: imagesTag?.timestamps ?? [],
    ...(imagesTag?.region ? { region: imagesTag.region } : {}),
    // The status line of the latest observation, or a client that forbids tool calls.
    mustAnswer: /This is your last turn/.test(status) || body.tool_choice === "none" || turnIndex + 1 >= maxTurns,
    turnIndex,
    maxTurns,
    maxVisualTokens: num(/ and (\d+) visual tokens in all/, system) ?? LADDER_DEFAULTS[LADDER].maxVisualTokens,
    ...(remaining !== undefined ? { remainingVisualTokens: remaining } : {}),
    ...(video ? { video: { duration: Number(video[1]), width: Number(video[2]), height: Number(video[3]), fps: Number(video[4]) } } : {}),
  };
}

export interface ImageFetchContext {
  config: ServerConfig;
  tmpDir: string;
  signal?: AbortSignal;
}

/** The bytes of one image_url: data: (in the JSON body), file:// inside the roots, http(s) when URL input is on. */
async function imageBytes(img: WireImage, ctx: ImageFetchContext): Promise<Buffer> {
  const scheme = img.url.slice(0, img.url.indexOf(":") + 1).toLowerCase();
  const maxBytes = IMAGE_LIMITS.maxBytes;
  if (scheme === "data:") return parseDataUrl(img.url, maxBytes, `the data: URL image at ${img.where}`).bytes;
  if (scheme === "file:") {
    const file = await resolveVideoPath(fileUrlPath(img.url), { roots: await canonicalRoots(ctx.config.roots), maxBytes });
    return readFile(file.path);
  }
  if (scheme === "http:" || scheme === "https:") {
    const path = await downloadUrl(img.url, ctx.tmpDir, { ...ctx.config.urls, maxBytes }, ctx.signal);
    try {
      return await readFile(path);
    } finally {
      await rm(path, { force: true });
    }
  }
  throw new FramemindError("FM_ERR_SERVER_URL_DENIED", { reason: `image_url scheme '${scheme || img.url.slice(0, 20)}' is not supported (data, file, http, https)` });
}

/** Decodes the chat's images at the tiny rung: the evidence frames of this turn. */
export async function evidenceOf(chat: TinyChat, ctx: ImageFetchContext): Promise<EvidenceFrame[]> {
  if (chat.images.length === 0) return [];
  const bytes: Buffer[] = [];
  for (const img of chat.images) bytes.push(await imageBytes(img, ctx));
  const rung = chat.rung ?? LADDERS[LADDER].rungs[0].name;
  const labels = chat.images.map((i) => i.where);
  // The first image's rung size for all (one patch grid per observation).
  const size = targetSize(readImageHeader(bytes[0]!, labels[0]), { ladder: LADDER, rung });
  const decoded = await decodeImages(bytes, { size, labels, signal: ctx.signal });
  return decoded.map((d, k) => ({
    timestamp: chat.images[k]!.timestamp ?? chat.tagTimes[k] ?? k,
    width: d.width,
    height: d.height,
    tokens: tokensFor(d),
    rung,
    rgb: d.rgb,
    // A crop's frames: the tiny policy writes a zoom inside them in the crop's own fractions.
    ...(chat.region ? { region: chat.region } : {}),
  }));
}

/** The PolicyInput the agent loop would have given the tiny policy at this turn. */
export function policyInputOf(chat: TinyChat, evidence: EvidenceFrame[], tools: ChatRequest["tools"]): PolicyInput {
  const used = chat.remainingVisualTokens === undefined ? evidence.reduce((n, f) => n + f.tokens, 0) : Math.max(0, chat.maxVisualTokens - chat.remainingVisualTokens);
  const f0 = evidence[0];
  const specs: ToolSpec[] = tools?.length ? tools.map((t) => ({ name: t.function.name, description: t.function.description ?? "", parameters: t.function.parameters ?? {} })) : toolSpecs(LADDER);
  const allEvidence: EvidenceFrame[][] = [...chat.history.map(() => [] as EvidenceFrame[]), evidence];
  return {
    question: chat.question,
    ...(chat.options ? { options: chat.options } : {}),
    system: chat.system,
    user: chat.user,
    history: chat.history,
    evidence,
    allEvidence,
    ladder: LADDER,
    video: chat.video ?? { duration: Math.max(0, ...evidence.map((f) => f.timestamp)), fps: 0, width: f0?.width ?? 0, height: f0?.height ?? 0 },
    budget: { maxVisualTokens: chat.maxVisualTokens, usedVisualTokens: used, remainingVisualTokens: Math.max(0, chat.maxVisualTokens - used), maxFramesPerCall: resolveSettings({ ladder: LADDER }).maxFramesPerCall },
    turn: { index: chat.turnIndex, max: chat.maxTurns, mustAnswer: chat.mustAnswer },
    tools: chat.mustAnswer ? [] : specs,
  };
}
