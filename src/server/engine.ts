/**
 * One question, end to end, for every surface that asks (QA route, chat route, MCP): runs the
 * agent loop with the request's cancel signal and the per-question timeout, captures the frames
 * the policy saw (to keep thumbnails; the loop's events carry no pixels), saves the trajectory,
 * and counts metrics. The policy is wrapped, not changed: at its last step `allEvidence` holds
 * every observation's frames, aligned with the record's observation indices.
 */
import { answer, type AgentEvent } from "../agent/loop.js";
import type { Trajectory } from "../agent/trajectory.js";
import { FramemindError } from "../errors.js";
import type { EvidenceFrame, Policy } from "../policy/types.js";
import { encodePng } from "../video/index.js";
import type { Metrics } from "./metrics.js";
import type { PolicyProvider } from "./policies.js";
import type { StoredFrame, Thumbnail, TrajectoryStore } from "./store.js";

export interface QaJob {
  /** Local file (see inputs.ts) and the roots confining it. */
  video: string;
  roots: string[];
  question: string;
  options?: string[];
  /** Policy name; the server's default when absent. */
  policy?: string;
  maxTurns?: number;
  maxVisualTokens?: number;
  signal?: AbortSignal;
  onEvent?: (e: AgentEvent) => void;
  /** Copied into the record (e.g. which route asked). */
  meta?: Record<string, unknown>;
}

export interface QaOutcome {
  record: Trajectory;
  frames: StoredFrame[];
  /** Set when the loop stopped on an error (model failure, timeout, cancel); the record is saved anyway. */
  error?: FramemindError;
}

export interface QaEngineOptions {
  policies: PolicyProvider;
  store: TrajectoryStore;
  metrics: Metrics;
  questionTimeoutMs: number;
  defaultMaxTurns?: number;
  defaultMaxVisualTokens?: number;
}

/** PNGs of frames the cache hands out again (same Buffer object) are encoded once. */
const pngCache = new WeakMap<Buffer, Buffer>();
function png(f: EvidenceFrame): Buffer {
  let p = pngCache.get(f.rgb);
  if (!p) pngCache.set(f.rgb, (p = encodePng({ width: f.width, height: f.height, rgb: f.rgb })));
  return p;
}

/** Wraps a policy to remember the last evidence list it was shown. */
function capturing(policy: Policy): { policy: Policy; seen: () => EvidenceFrame[][] } {
  let last: EvidenceFrame[][] = [];
  return {
    policy: {
      ...policy,
      step: (input, opts) => {
        last = input.allEvidence;
        return policy.step(input, opts);
      },
    },
    seen: () => last,
  };
}

export class QaEngine {
  constructor(private readonly opts: QaEngineOptions) {}

  async ask(job: QaJob): Promise<QaOutcome> {
    const { policy: base, ladder } = await this.opts.policies.get(job.policy);
    const cap = capturing(base);
    let result;
    try {
      result = await answer({
        video: job.video,
        question: job.question,
        ...(job.options ? { options: job.options } : {}),
        policy: cap.policy,
        settings: {
          ladder,
          ...((job.maxTurns ?? this.opts.defaultMaxTurns) ? { maxTurns: job.maxTurns ?? this.opts.defaultMaxTurns } : {}),
          ...((job.maxVisualTokens ?? this.opts.defaultMaxVisualTokens) ? { maxVisualTokens: job.maxVisualTokens ?? this.opts.defaultMaxVisualTokens } : {}),
          paths: { roots: job.roots },
          timeoutMs: this.opts.questionTimeoutMs,
        },
        ...(job.signal ? { signal: job.signal } : {}),
        ...(job.onEvent ? { onEvent: job.onEvent } : {}),
        ...(job.meta ? { meta: job.meta } : {}),
      });
    } catch (e) {
      const err = e instanceof FramemindError ? e : undefined;
      this.opts.metrics.questions.inc({ outcome: err?.code ?? "FM_ERR_INTERNAL" });
      throw e;
    }
    const { record } = result;
    const thumbs: Thumbnail[] = [];
    cap.seen().forEach((obs, o) =>
      obs.forEach((f, i) => thumbs.push({ observation: o, index: i, timestamp: f.timestamp, width: f.width, height: f.height, tokens: f.tokens, rung: f.rung, png: png(f) })),
    );
    const frames = await this.opts.store.save(record, thumbs);
    const m = this.opts.metrics;
    m.questions.inc({ outcome: result.error ? result.error.code : record.stopReason });
    m.tokens.inc({ kind: "visual" }, record.tokens.visual);
    if (record.tokens.textPrompt) m.tokens.inc({ kind: "prompt" }, record.tokens.textPrompt);
    if (record.tokens.textCompletion) m.tokens.inc({ kind: "completion" }, record.tokens.textCompletion);
    return { record, frames, ...(result.error ? { error: result.error } : {}) };
  }
}
