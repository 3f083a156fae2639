import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fillTemplate, loadTemplate, packageRoot, PROMPT_VERSION, renderSystemPrompt, toolSpecs } from "../../prompts/index.js";

describe("prompts", () => {
  it("renders the system prompt from the tool schemas, with the rung sizes of this video", () => {
    const p = renderSystemPrompt({ ladder: "tiny", video: { duration: 6.04, fps: 10, width: 160, height: 90 }, maxTurns: 3, maxVisualTokens: 99, hasOptions: false });
    expect(p).toContain("The video is 6.0 s long (160x90 px, 10 fps)");
    expect(p).toContain("low (56x28, 2 tokens per frame) < high (140x84, 15 tokens per frame)");
    expect(p).toContain("at most 3 turns and 99 visual tokens");
    expect(p).toContain("Answer with a single word, a number, or a time in seconds");
    expect(p).not.toMatch(/\{\{\w+\}\}/);
    for (const t of toolSpecs("tiny")) expect(p).toContain(`- ${t.name}: ${t.description}\n  arguments (JSON Schema): ${JSON.stringify(t.parameters)}`);
  });

  it("tool specs are the zod schemas as JSON Schema (input side)", () => {
    const [frames, clip] = toolSpecs("qwen");
    expect(frames!.name).toBe("get_frames");
    expect(frames!.parameters).toMatchObject({ type: "object", required: ["rung"], properties: { rung: { enum: ["low", "mid", "high"] } } });
    expect(clip!.parameters).toMatchObject({ required: ["start", "end", "rung"], properties: { count: { minimum: 8, maximum: 20, default: 16 } } });
    expect(frames!.parameters).not.toHaveProperty("$schema");
  });

  it("templates load from the package root; gaps and unknown versions are typed errors", () => {
    expect(loadTemplate("system")).toBe(loadTemplate("system", PROMPT_VERSION));
    expect(existsSync(join(packageRoot(), "prompts", `system.${PROMPT_VERSION}.md`))).toBe(true);
    expect(() => fillTemplate("{{a}} {{b}}", { a: 1 })).toThrow(/\{\{b\}\} has no value/);
    expect(() => loadTemplate("system", "v999")).toThrow(expect.objectContaining({ code: "FM_ERR_ARGS_INVALID" }));
  });
});
