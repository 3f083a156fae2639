/**
 * The `tiny` Policy: the embedded transformer answering through the agent loop. Each step builds
 * the turn's sequence (sequence.ts), generates until <eos> with seeded temperature / top-p
 * sampling (greedy when no sampling is given), and returns the raw text with its token ids and
 * log-probs (GRPO needs them). Words the model does not know become <unk> and a warning.
 */
import { Rng } from "../../nn/index.js";
import { throwIfAborted } from "../../errors.js";
import type { Policy, PolicyInput, PolicyStep, StepOptions } from "../types.js";
import { loadTiny, type LoadedTiny } from "./checkpoint.js";
import type { Tokenizer } from "./tokenizer.js";
import { buildContext, contextFromInput, toPrompt } from "./sequence.js";
import { calledRegion, WRITTEN_ZOOM_SCHEMA, zoomsAsCalled } from "./zoom.js";
import { optionAnswers, turnGuide, type GuideSchema, type GuideTool } from "../../agent/guide.js";
import { inputLimits } from "../../agent/protocol.js";

export interface TinyPolicyConfig {
  /** Checkpoint folder (default: the shipped models/framemind-tiny). */
  checkpoint?: string;
  /** An already loaded model (the trainers pass their live model). */
  loaded?: LoadedTiny;
  /** Longest turn text in tokens. */
  maxNewTokens?: number;
  id?: string;
  /**
   * Guided decoding (src/agent/guide.ts): tokens that would break the protocol or the tools'
   * schemas are never chosen. Default on; GRPO rollouts turn it off so the policy's own samples
   * (and their log-probs) are what the update sees.
   */
  guided?: boolean;
  /**
   * Guided only: a clip call follows the window its think names (GuideOptions.followThink).
   * Default false here, so the trainers' rollouts and validations decode as their recipes were
   * measured; the registered `tiny` policy (ask, serve, MCP, eval) turns it on since 0.7.0.
   */
  followThink?: boolean;
}

// A tool-call turn is ~80 tokens (JSON punctuation is one token per character).
export const DEFAULT_MAX_NEW_TOKENS = 128;

/** Seeds differ per turn so a multi-turn rollout does not repeat one random stream. */
function turnSeed(seed: number, turn: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + turn * 0x85ebca6b) >>> 0;
}

/** Questions whose answer is a time ("When ...", "At what second ...", "What time ..."). */
export function asksForTime(question: string): boolean {
  return /\b(when|what time|at what (time|second|moment)|which (second|moment|timestamp))\b/i.test(question);
}

/**
 * The tools as this model can write them: arguments whose key its vocabulary cannot spell are
 * left out of the guide (an optional key it can only write as <unk> would open a call it cannot
 * close), and a `region` is written as its centre (zoom.ts).
 */
export function writableTools(tools: readonly GuideTool[], tokenizer: Tokenizer): GuideTool[] {
  return tools.map((t) => {
    const params = t.parameters as GuideSchema;
    if (!params.properties) return t;
    const keep = Object.entries(params.properties).filter(([k]) => tokenizer.encode(JSON.stringify(k)).unknown.length === 0);
    return { ...t, parameters: { ...params, properties: Object.fromEntries(keep.map(([k, v]) => [k, k === "region" ? WRITTEN_ZOOM_SCHEMA : v])) } };
  });
}

export function createTinyPolicy(cfg: TinyPolicyConfig = {}): Policy {
  const loaded = cfg.loaded ?? loadTiny(cfg.checkpoint);
  const { model, tokenizer } = loaded;
  const maxNewTokens = cfg.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  const eos = tokenizer.id("<eos>");
  const toolsFor = new WeakMap<readonly GuideTool[], GuideTool[]>();
  const writable = (tools: readonly GuideTool[]) => toolsFor.get(tools) ?? toolsFor.set(tools, writableTools(tools, tokenizer)).get(tools)!;
  return {
    id: cfg.id ?? "tiny",
    modelVersion: loaded.version,
    async step(input: PolicyInput, opts: StepOptions): Promise<PolicyStep> {
      throwIfAborted(opts.signal);
      const ctx = buildContext(contextFromInput(input), tokenizer);
      const prompt = toPrompt(ctx.items);
      const room = model.config.maxSeq - prompt.length;
      const warnings = ctx.unknown.length ? [`the embedded model does not know these words (read as <unk>): ${ctx.unknown.join(", ")}`] : [];
      if (room < 8) {
        warnings.push(`the turn's input (${prompt.length} tokens) nearly fills the model's context (${model.config.maxSeq})`);
      }
      const s = opts.sampling;
      // Limits only when the video is known (the chat endpoint may guess its length from the images).
      // The parser judges a written zoom (a centre) as the crop it asks for.
      const asCalled = (a: Record<string, unknown>) => (Array.isArray(a["region"]) ? { ...a, region: calledRegion(a["region"], input.video, ctx.view) } : a);
      const guide = cfg.guided === false ? null : turnGuide(writable(input.tools), input.video.fps > 0 ? inputLimits(input) : undefined, optionAnswers(input.options), { followThink: cfg.followThink ?? false, asCalled, framesInView: ctx.frameTimes });
      // decode() writes token by token, so a candidate's text is the turn so far plus its own.
      const sofar = { n: -1, text: "", inAnswer: false };
      // A frame reference decodes to that frame's time: an answer only when the question asks for one.
      const timeAnswers = asksForTime(input.question);
      const allow = guide
        ? (t: number, generated: readonly number[]) => {
            if (sofar.n !== generated.length) {
              const text = tokenizer.decode(generated, ctx.frameTimes);
              Object.assign(sofar, { n: generated.length, text, inAnswer: text.includes("<answer>") });
            }
            if (t === eos) return guide.complete(sofar.text);
            if (sofar.inAnswer && !timeAnswers && tokenizer.isRef(t)) return false;
            const piece = tokenizer.decode([t], ctx.frameTimes);
            // A token that writes nothing (<pad>, <gen>, ...) would let the turn stall while "valid".
            return piece !== "" && guide.ok(sofar.text + piece);
          }
        : undefined;
      const gen = await model.generate(prompt.slice(Math.max(0, prompt.length - model.config.maxSeq + 8)), {
        maxNewTokens: Math.max(1, Math.min(maxNewTokens, room)),
        temperature: s?.temperature ?? 0,
        topP: s?.topP ?? 1,
        ...(s?.sampleTokens !== undefined ? { sampleTokens: s.sampleTokens } : {}),
        rng: new Rng(turnSeed(s?.seed ?? 0, input.turn.index)),
        stopTokens: [eos],
        ...(allow ? { allow } : {}),
      });
      throwIfAborted(opts.signal);
      const ids = gen.tokens[gen.tokens.length - 1] === eos ? gen.tokens.slice(0, -1) : gen.tokens;
      const written = tokenizer.decode(ids, ctx.frameTimes);
      if (guide && !guide.complete(written)) warnings.push(`guided decoding did not reach a well-formed turn in ${gen.tokens.length} tokens`);
      return {
        // A zoom written as its centre, as the tools take it.
        text: zoomsAsCalled(written, input.video, ctx.view),
        tokenIds: gen.tokens,
        logprobs: gen.logprobs,
        ...(gen.masks ? { guideMasks: gen.masks } : {}),
        usage: { promptTokens: prompt.length, completionTokens: gen.tokens.length },
        ...(warnings.length ? { warnings } : {}),
      };
    },
  };
}
