/**
 * Prompt templates (prompts/<name>.<version>.md), filled from the zod tool schemas so the tools
 * and their arguments have one source. Templates are read from the package root, not from
 * dist/ (tsc does not copy .md files).
 */
import { readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { FramemindError } from "../src/errors.js";
import { LADDERS, targetSize, tokensFor, type LadderName } from "../src/video/index.js";
import { POLICY_TOOLS } from "../tools/index.js";
import type { ToolSpec } from "../src/policy/types.js";

export const PROMPT_VERSION = "v1";

let root: string | undefined;

/** The folder holding framemind's package.json (walks up from this module, works from src and dist). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "framemind") return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new FramemindError("FM_ERR_INTERNAL", { reason: "framemind's package.json not found above " + fileURLToPath(import.meta.url) });
    dir = up;
  }
}

let version: string | undefined;

/** framemind's version from package.json (recorded in every trajectory). */
export function packageVersion(): string {
  return (version ??= (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version);
}

const templates = new Map<string, string>();

export function loadTemplate(name: string, version = PROMPT_VERSION): string {
  const key = `${name}.${version}`;
  let t = templates.get(key);
  if (t === undefined) {
    const file = join(packageRoot(), "prompts", `${key}.md`);
    if (!existsSync(file)) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `no prompt template ${key}.md in ${join(packageRoot(), "prompts")}` });
    t = readFileSync(file, "utf8").replace(/\n+$/, "");
    templates.set(key, t);
  }
  return t;
}

/** Replaces `{{name}}`; a placeholder without a value is a bug in the caller, not a silent gap. */
export function fillTemplate(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new FramemindError("FM_ERR_INTERNAL", { reason: `prompt placeholder {{${k}}} has no value` });
    return String(v);
  });
}

/** The policy tools as JSON Schema (input side: arguments with defaults are optional). */
export function toolSpecs(ladder: LadderName): ToolSpec[] {
  return POLICY_TOOLS.map((t) => {
    const { $schema: _drop, ...parameters } = z.toJSONSchema(t.schema(ladder), { io: "input" }) as Record<string, unknown>;
    return { name: t.name, description: t.description, parameters };
  });
}

export interface SystemPromptVars {
  ladder: LadderName;
  video: { duration: number; fps: number; width: number; height: number };
  maxTurns: number;
  maxVisualTokens: number;
  hasOptions: boolean;
  version?: string;
}

/** "low (224x126, 36 tokens) < mid (...)": rung sizes for this video, so the model can weigh cost. */
function rungList(ladder: LadderName, video: { width: number; height: number }): string {
  return LADDERS[ladder].rungs
    .map((r) => {
      const s = targetSize(video, { ladder, rung: r.name });
      return `${r.name} (${s.width}x${s.height}, ${tokensFor(s)} tokens per frame)`;
    })
    .join(" < ");
}

function answerFormat(hasOptions: boolean, version: string): string {
  const lines = loadTemplate("answer", version).split("\n");
  const key = hasOptions ? "options:" : "open:";
  const line = lines.find((l) => l.startsWith(key));
  if (!line) throw new FramemindError("FM_ERR_INTERNAL", { reason: `answer.${version}.md has no '${key}' line` });
  return line.slice(key.length).trim();
}

export function renderSystemPrompt(v: SystemPromptVars): string {
  const version = v.version ?? PROMPT_VERSION;
  const tools = toolSpecs(v.ladder)
    .map((t) => fillTemplate(loadTemplate("tool", version), { name: t.name, description: t.description, parameters: JSON.stringify(t.parameters) }))
    .join("\n");
  return fillTemplate(loadTemplate("system", version), {
    duration: v.video.duration.toFixed(1),
    width: v.video.width,
    height: v.video.height,
    fps: Math.round(v.video.fps * 100) / 100,
    ladder: v.ladder,
    rungs: rungList(v.ladder, v.video),
    answer_format: answerFormat(v.hasOptions, version),
    max_turns: v.maxTurns,
    max_visual_tokens: v.maxVisualTokens,
    tools,
  });
}
