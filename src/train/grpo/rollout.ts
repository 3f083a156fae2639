/**
 * Rollouts (DESIGN.md §6 step 1): each one is a real `answer()` through the agent loop and the
 * real tools, starting from its DRFS start, sampling with its own seeded stream. A recording
 * wrapper keeps what the policy saw and generated at every turn (the trainer-only data the
 * public record leaves out), so the update can rebuild exactly the rows that were sampled.
 */
import { answer, type AgentSettingsInput } from "../../agent/loop.js";
import type { Trajectory } from "../../agent/trajectory.js";
import type { PromptItem } from "../../nn/index.js";
import type { Policy, PolicyInput, PolicyStep } from "../../policy/types.js";
import type { DatasetItem } from "../../../datasets/schema.js";
import type { DrfsStart } from "../drfs.js";

/** A trainable policy bound to the live model, plus its sequence builder (policy -> model rows). */
export interface TrainablePolicy {
  policy: Policy;
  /** The model input of one turn followed by its generated tokens; train = 1 on generated tokens. */
  row(input: PolicyInput, tokenIds: readonly number[]): { items: PromptItem[]; train: number[] };
}

export interface RecordedTurn {
  input: PolicyInput;
  tokenIds: number[];
  logprobs: number[];
  guideMasks?: (Uint8Array | null)[];
}

export interface RolloutSpec {
  item: DatasetItem;
  /** Absolute video path. */
  video: string;
  start: DrfsStart;
  /** Seed of this rollout's sampling stream. */
  seed: number;
}

export interface Rollout {
  spec: RolloutSpec;
  record: Trajectory;
  turns: RecordedTurn[];
}

export interface RolloutSettings {
  ladder: AgentSettingsInput["ladder"];
  maxTurns: number;
  maxVisualTokens: number;
  maxFramesPerCall: number;
  timeoutMs: number;
  temperature: number;
  topP: number;
  /** Tokens per turn sampled (Sampling.sampleTokens); 0 = all. */
  sampleTokens: number;
}

/** Wraps a policy so every step's input and generated ids are kept, in turn order. */
export function recording(inner: Policy): { policy: Policy; turns: RecordedTurn[] } {
  const turns: RecordedTurn[] = [];
  const policy: Policy = {
    id: inner.id,
    ...(inner.modelVersion ? { modelVersion: inner.modelVersion } : {}),
    ...(inner.overrides ? { overrides: inner.overrides } : {}),
    async step(input, opts): Promise<PolicyStep> {
      const out = await inner.step(input, opts);
      turns.push({ input, tokenIds: out.tokenIds ?? [], logprobs: out.logprobs ?? [], ...(out.guideMasks ? { guideMasks: out.guideMasks } : {}) });
      return out;
    },
  };
  return { policy, turns };
}

export function agentSettings(s: RolloutSettings, start: DrfsStart, source: "drfs" | "settings"): AgentSettingsInput {
  return {
    ladder: s.ladder,
    firstObservation: { frames: start.frames, rung: start.rung, mode: "tolerant", source },
    maxTurns: s.maxTurns,
    maxVisualTokens: s.maxVisualTokens,
    maxFramesPerCall: s.maxFramesPerCall,
    timeoutMs: s.timeoutMs,
  };
}

export async function runRollout(spec: RolloutSpec, tp: TrainablePolicy, s: RolloutSettings, signal?: AbortSignal): Promise<Rollout> {
  const rec = recording(tp.policy);
  const r = await answer({
    video: spec.video,
    question: spec.item.question,
    ...(spec.item.options ? { options: spec.item.options } : {}),
    policy: rec.policy,
    settings: agentSettings(s, spec.start, "drfs"),
    sampling: { temperature: s.temperature, topP: s.topP, seed: spec.seed, ...(s.sampleTokens ? { sampleTokens: s.sampleTokens } : {}) },
    ...(signal ? { signal } : {}),
    item: { id: spec.item.id },
  });
  return { spec, record: r.record, turns: rec.turns };
}

/** Runs tasks with at most `limit` in flight; results keep the input order. */
export async function pool<T, R>(tasks: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await fn(tasks[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}
