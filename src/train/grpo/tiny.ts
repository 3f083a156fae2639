/**
 * The embedded model as a TrainablePolicy: the `tiny` Policy bound to the live weights (its
 * updates are seen by the next rollout), and the row builder that rebuilds a sampled turn from
 * the SAME sequence code the policy used (src/policy/tiny/sequence.ts).
 */
import type { LoadedTiny } from "../../policy/tiny/checkpoint.js";
import { createTinyPolicy, DEFAULT_MAX_NEW_TOKENS } from "../../policy/tiny/policy.js";
import { buildContext, contextFromInput, toPrompt } from "../../policy/tiny/sequence.js";
import type { TrainablePolicy } from "./rollout.js";

/**
 * Guided, the policy returns each token's log-prob under the guided (masked, renormalized)
 * distribution and the mask (PolicyStep.guideMasks); the update adds the same mask to the logits
 * (GrpoBatch.logitBias), so its recomputed log-probs match the sampled ones either way.
 */
export function tinyTrainable(loaded: LoadedTiny, opts: { maxNewTokens?: number; guided?: boolean } = {}): TrainablePolicy {
  const { model, tokenizer } = loaded;
  return {
    policy: createTinyPolicy({ loaded, maxNewTokens: opts.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS, guided: opts.guided ?? false }),
    row(input, tokenIds) {
      const prompt = toPrompt(buildContext(contextFromInput(input), tokenizer).items);
      // The policy keeps the last maxSeq - 8 prompt items when a turn's input is too long; same here.
      const kept = prompt.slice(Math.max(0, prompt.length - model.config.maxSeq + 8));
      return { items: [...kept, ...tokenIds.map((token) => ({ token }))], train: [...kept.map(() => 0), ...tokenIds.map(() => 1)] };
    },
  };
}
