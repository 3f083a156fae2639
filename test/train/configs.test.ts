import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, SftConfigSchema } from "../../src/train/config.js";
import { parseGrpoConfig } from "../../src/train/grpo/config.js";
import { RunConfigSchema } from "../../src/train/grpo/pipeline.js";

// The configs the docs tell people to run: each must pass its trainer's schema as checked in.
const dir = join(process.cwd(), "configs");
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));

describe("checked-in training configs", () => {
  it("are all named for their trainer", () => {
    expect(files.filter((f) => !/^(sft|grpo|run)[-.]/.test(f))).toEqual([]);
  });
  it.each(files)("%s parses", (f) => {
    const raw: unknown = JSON.parse(readFileSync(join(dir, f), "utf8"));
    if (/^sft[-.]/.test(f)) expect(() => parseConfig(SftConfigSchema, raw)).not.toThrow();
    else if (f.startsWith("grpo-")) expect(() => parseGrpoConfig(raw)).not.toThrow();
    else expect(() => parseConfig(RunConfigSchema, raw)).not.toThrow();
  });
});
