/**
 * Policy registry: `createPolicy(name, config)` for the CLI, eval, servers and the trainer.
 * A new policy registers with one line, e.g. `registerPolicy("tiny", (c) => createTinyPolicy(c));`
 */
import { FramemindError } from "../errors.js";
import type { LadderName } from "../video/index.js";
import type { DatasetItem } from "../../datasets/schema.js";
import { createOpenAIPolicy, openaiConfigFromEnv, type OpenAIPolicyConfig } from "./openai.js";
import { createOraclePolicy } from "./oracle.js";
import { createUniformPolicy } from "./uniform.js";
import { registerTinyPolicies } from "./tiny/index.js";
import type { Policy } from "./types.js";

export type { Policy, PolicyInput, PolicyStep, StepOptions, Sampling, EvidenceFrame, HistoryTurn, Observation, ToolSpec, ToolResultMeta, ParsedCall, NativeToolCall, PolicyOverrides } from "./types.js";

/** Everything a factory may need; each policy reads its part and checks it. */
export interface PolicyConfig {
  ladder?: LadderName;
  seed?: number;
  /** oracle: the dataset item (evidence intervals and answer). */
  item?: Pick<DatasetItem, "id" | "answer" | "evidence" | "meta">;
  /** openai (and an openai answerer for uniform): explicit values; the environment fills the rest. */
  openai?: Partial<OpenAIPolicyConfig>;
  /** uniform: frames and rung of its one observation, and the model that answers. */
  frames?: number;
  rung?: string;
  answerer?: Policy;
  /** Policy-specific extras (e.g. the embedded model's checkpoint folder). */
  options?: Record<string, unknown>;
}

export type PolicyFactory = (config: PolicyConfig) => Policy | Promise<Policy>;

const registry = new Map<string, PolicyFactory>();

export function registerPolicy(name: string, factory: PolicyFactory): void {
  registry.set(name, factory);
}

export function policyNames(): string[] {
  return [...registry.keys()];
}

export async function createPolicy(name: string, config: PolicyConfig = {}): Promise<Policy> {
  const factory = registry.get(name);
  if (!factory) throw new FramemindError("FM_ERR_POLICY_UNKNOWN", { policy: name, policies: policyNames().join(", ") });
  return factory(config);
}

/** True when an OpenAI-compatible endpoint is configured by flags or environment. */
function hasOpenAI(config: PolicyConfig): boolean {
  return Boolean(config.openai?.baseUrl ?? process.env.OPENAI_BASE_URL);
}

registerPolicy("openai", (c) => createOpenAIPolicy(openaiConfigFromEnv(c.openai)));
registerPolicy("oracle", (c) => {
  if (!c.item) throw new FramemindError("FM_ERR_POLICY_CONFIG", { policy: "oracle", reason: "needs a dataset item (ask: --item FILE:ID)" });
  return createOraclePolicy({ item: c.item, seed: c.seed ?? 0 });
});
// The embedded model's policies (src/policy/tiny), loaded on first use: onnxruntime is heavy.
for (const name of ["tiny", "tiny-uniform"]) {
  registerPolicy(name, async (c) => {
    const factories = new Map<string, PolicyFactory>();
    (await import("./tiny/index.js")).registerTinyPolicies((n, f) => factories.set(n, f));
    const f = factories.get(name);
    if (!f) throw new FramemindError("FM_ERR_POLICY_UNKNOWN", { policy: name, policies: [...factories.keys()].join(", ") });
    return f(c);
  });
}
registerPolicy("uniform", (c) =>
  createUniformPolicy({
    frames: c.frames ?? 8,
    rung: c.rung ?? "low",
    answerer: c.answerer ?? (hasOpenAI(c) ? createOpenAIPolicy(openaiConfigFromEnv(c.openai)) : undefined),
  }),
);
registerTinyPolicies(registerPolicy);
