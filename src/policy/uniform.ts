/**
 * The uniform baseline (DESIGN.md §4): N uniformly sampled frames at one rung, answered in one
 * turn by an answering model (another Policy, which is told it must answer and gets no tools).
 * Without an answerer it answers "unknown" with a warning: eval then reports evidence recall only.
 */
import { FramemindError } from "../errors.js";
import { formatTurn } from "../agent/protocol.js";
import type { Policy, PolicyInput, PolicyStep, StepOptions } from "./types.js";

export interface UniformConfig {
  frames: number;
  rung: string;
  answerer?: Policy;
}

export const NO_ANSWERER = "unknown";

export function createUniformPolicy(cfg: UniformConfig): Policy {
  if (!Number.isInteger(cfg.frames) || cfg.frames < 1) throw new FramemindError("FM_ERR_POLICY_CONFIG", { policy: "uniform", reason: `frames must be a positive integer, got ${cfg.frames}` });
  const inner = cfg.answerer;
  return {
    id: inner ? `uniform+${inner.id}` : "uniform",
    ...(inner?.modelVersion ? { modelVersion: inner.modelVersion } : {}),
    settings: { frames: cfg.frames, rung: cfg.rung, ...(inner?.settings ?? {}) },
    overrides: { firstObservation: { frames: cfg.frames, rung: cfg.rung }, maxTurns: 1 },
    async step(input: PolicyInput, opts: StepOptions): Promise<PolicyStep> {
      if (!inner) {
        return {
          text: formatTurn({ think: `No answering model is configured; ${input.evidence.length} frames were sampled uniformly.`, answer: NO_ANSWERER }),
          warnings: ["uniform policy without an answering model: the answer is a placeholder"],
        };
      }
      return inner.step({ ...input, turn: { ...input.turn, mustAnswer: true }, tools: [] }, opts);
    },
  };
}
