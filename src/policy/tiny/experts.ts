/**
 * Experts: further weight sets of the embedded model, each fine-tuned on a kind of question the
 * main weights do not answer (since 0.10.0: small text, which takes thousands of steps of its own
 * and costs the other families when trained into the shared weights, docs/model.md "Session 22").
 * A model folder may hold `experts.json`; a question goes to the first expert one of whose words
 * it contains (whole words, any case), and to the main weights otherwise. The choice depends on
 * the question alone, so a trajectory is reproduced by its question and the model version, which
 * names every weight set.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { FramemindError } from "../../errors.js";
import { writeFileAtomic } from "../../nn/index.js";
import type { Policy, PolicyInput, StepOptions } from "../types.js";

export const EXPERTS_FILE = "experts.json";

const ExpertEntrySchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/, "lower-case letters, digits and '-'"),
  /** Checkpoint folder, relative to the model folder (or absolute). */
  checkpoint: z.string().min(1),
  /** The question goes to this expert when it contains one of these words. */
  words: z.array(z.string().regex(/^[\p{L}\p{N}-]+$/u, "one word")).min(1),
  /** The turns its route takes (a question routed here gets them when the caller sets no limit). */
  maxTurns: z.number().int().min(1).max(16).optional(),
});
const ExpertsFileSchema = z.object({
  experts: z
    .array(ExpertEntrySchema)
    .min(1)
    .refine((es) => new Set(es.map((e) => e.name)).size === es.length, "each expert's name once"),
});

const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");

/** An experts.json entry, checked (FM_ERR_ARGS_INVALID): what `train-framemind export --expert` checks before it copies. */
export function checkExpert(entry: Expert): Expert {
  const r = ExpertEntrySchema.safeParse(entry);
  if (!r.success) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `expert: ${issues(r.error)}` });
  return r.data;
}

export interface Expert {
  name: string;
  /** Absolute checkpoint folder. */
  checkpoint: string;
  words: string[];
  maxTurns?: number;
}

/** The experts a model folder routes to ([] without experts.json); a bad file is a typed error. */
export function readExperts(modelDir: string): Expert[] {
  const file = join(resolve(modelDir), EXPERTS_FILE);
  if (!existsSync(file)) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new FramemindError("FM_ERR_MODEL_INVALID", { path: file, reason: `not JSON: ${(e as Error).message}` });
  }
  const r = ExpertsFileSchema.safeParse(raw);
  if (!r.success) throw new FramemindError("FM_ERR_MODEL_INVALID", { path: file, reason: issues(r.error) });
  return r.data.experts.map((e) => ({ name: e.name, checkpoint: resolve(dirname(file), e.checkpoint), words: e.words, ...(e.maxTurns ? { maxTurns: e.maxTurns } : {}) }));
}

/**
 * Adds (or replaces in place, by name) an expert in a model folder's experts.json; the checkpoint is kept
 * relative to the folder when it lies inside it, so the folder can move.
 */
export function writeExpert(modelDir: string, expert: Expert): Expert[] {
  const dir = resolve(modelDir);
  const written = (e: Expert) => {
    const rel = relative(dir, resolve(e.checkpoint));
    return { name: e.name, checkpoint: rel.startsWith("..") || isAbsolute(rel) ? resolve(e.checkpoint) : rel.split(sep).join("/"), words: e.words, ...(e.maxTurns ? { maxTurns: e.maxTurns } : {}) };
  };
  const entry = checkExpert(written(expert));
  // A replaced expert keeps its place: the order is the routing priority.
  const old = readExperts(dir).map(written);
  const at = old.findIndex((e) => e.name === expert.name);
  const experts = at < 0 ? [...old, entry] : old.map((e, i) => (i === at ? entry : e));
  writeFileAtomic(join(dir, EXPERTS_FILE), `${JSON.stringify({ experts }, null, 2)}\n`);
  return readExperts(dir);
}

/** The expert a question goes to, or undefined for the main weights. */
export function routeOf<E extends Pick<Expert, "words">>(question: string, experts: readonly E[]): E | undefined {
  const words = new Set(question.toLowerCase().match(/[\p{L}\p{N}-]+/gu) ?? []);
  return experts.find((e) => e.words.some((w) => words.has(w.toLowerCase())));
}

/** One policy over the main weights and its experts: each step runs the policy its question routes to. */
export function createRoutedPolicy(main: Policy, experts: readonly { expert: Expert; policy: Policy }[]): Policy {
  if (experts.length === 0) return main;
  const routes = experts.map(({ expert, policy }) => ({ ...expert, policy }));
  return {
    id: main.id,
    modelVersion: [main.modelVersion ?? "", ...routes.map((r) => `${r.name}=${r.policy.modelVersion ?? ""}`)].join(";"),
    settings: { ...main.settings, experts: routes.map((r) => `${r.name}<-${r.words.join("|")}${r.maxTurns ? ` (${r.maxTurns} turns)` : ""}`).join(", ") },
    ...(main.overrides ? { overrides: main.overrides } : {}),
    turnsFor: (question) => routeOf(question, routes)?.maxTurns,
    async step(input: PolicyInput, opts: StepOptions) {
      const route = routeOf(input.question, routes);
      const step = await (route?.policy ?? main).step(input, opts);
      return { ...step, model: route ? `${route.name}=${route.policy.modelVersion ?? ""}` : (main.modelVersion ?? "main") };
    },
  };
}
