/**
 * The embedded model's public surface:
 *   createTinyPolicy({checkpoint?, loaded?, maxNewTokens?, guided?, followThink?}) -> Policy       (policy.ts)
 *   readExperts(dir) / createRoutedPolicy(main, experts) / routeOf(question, experts)   (experts.ts: weight sets chosen per question)
 *   loadTiny(dir?) / saveTiny(dir, model, tokenizer, extra)                   (checkpoint.ts)
 *   Tokenizer, pieces()                                                       (tokenizer.ts)
 *   buildContext / contextFromInput / makeBatch / Example                     (sequence.ts: one sequence layout for policy, SFT, GRPO)
 *   createCueTeacher / writeCueTrajectories                                   (teacher.ts: learnable SFT data)
 * and the registry hook: `tiny` (the shipped agent model) and `tiny-uniform` (the uniform
 * baseline: N uniform frames at one rung answered by the model trained on uniform observations).
 */
import type { PolicyFactory } from "../index.js";
import { createUniformPolicy } from "../uniform.js";
import { join, resolve } from "node:path";
import { defaultModelDir, loadTiny, type LoadedTiny } from "./checkpoint.js";
import { createTinyPolicy, type TinyPolicyConfig } from "./policy.js";
import { createRoutedPolicy, readExperts } from "./experts.js";

export { createRoutedPolicy, readExperts, routeOf, EXPERTS_FILE, type Expert } from "./experts.js";
export { createTinyPolicy, DEFAULT_MAX_NEW_TOKENS, type TinyPolicyConfig } from "./policy.js";
export { loadTiny, saveTiny, defaultModelDir, type LoadedTiny } from "./checkpoint.js";
export { Tokenizer, pieces, SPECIAL } from "./tokenizer.js";
export { buildContext, contextFromInput, makeBatch, exampleLength, turnExample, toPrompt, PATCH_DIM, type Example, type ExampleOptions, type TurnContext, type SeqItem } from "./sequence.js";
export { createCueTeacher, writeCueTrajectories, CLIP_FRAMES } from "./teacher.js";

/** The uniform baseline's observation (frames x rung): its checkpoint records the same. */
export const UNIFORM_DEFAULT = { frames: 24, rung: "low" } as const;

const checkpointOf = (o: Record<string, unknown> | undefined): string | undefined => (typeof o?.checkpoint === "string" ? o.checkpoint : undefined);
/** options.guided: false turns guided decoding off (src/agent/guide.ts). */
const guidedOf = (o: Record<string, unknown> | undefined): boolean => o?.guided !== false;
/** options.followThink: false lets a clip call leave its think's window (GuideOptions; on since 0.7.0). */
const followThinkOf = (o: Record<string, unknown> | undefined): boolean => o?.followThink !== false;

// Callers such as eval create a policy per question: load each checkpoint (and build its
// onnxruntime sessions) once per process.
const loadedModels = new Map<string, LoadedTiny>();
function loadOnce(dir: string): LoadedTiny {
  const key = resolve(dir);
  let l = loadedModels.get(key);
  if (!l) loadedModels.set(key, (l = loadTiny(key)));
  return l;
}

/** The tiny policy of a model folder with the experts its experts.json names (experts.ts). */
function createFolderPolicy(dir: string, cfg: Omit<TinyPolicyConfig, "loaded" | "checkpoint">) {
  const main = createTinyPolicy({ ...cfg, loaded: loadOnce(dir) });
  return createRoutedPolicy(main, readExperts(dir).map((expert) => ({ expert, policy: createTinyPolicy({ ...cfg, loaded: loadOnce(expert.checkpoint) }) })));
}

/** Registers `tiny` and `tiny-uniform` (options.checkpoint overrides the shipped folders). */
export function registerTinyPolicies(register: (name: string, f: PolicyFactory) => void): void {
  register("tiny", (c) => createFolderPolicy(checkpointOf(c.options) ?? defaultModelDir(), { guided: guidedOf(c.options), followThink: followThinkOf(c.options) }));
  register("tiny-uniform", (c) =>
    createUniformPolicy({
      frames: c.frames ?? UNIFORM_DEFAULT.frames,
      rung: c.rung ?? UNIFORM_DEFAULT.rung,
      // The twin routes as the agent does when its folder names experts (their twins).
      answerer: createFolderPolicy(checkpointOf(c.options) ?? join(defaultModelDir(), "uniform"), { id: "tiny-uniform", guided: guidedOf(c.options) }),
    }),
  );
}
