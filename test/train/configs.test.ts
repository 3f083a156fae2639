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

describe("unknown keys", () => {
  // A misspelt or unsupported field must fail loudly, not be dropped (a `run.threads` key in a
  // GRPO config was once ignored without a word).
  it.each([
    ["grpo run", () => parseGrpoConfig({ run: { threads: 1 } }), "run.threads"],
    ["grpo rollout", () => parseGrpoConfig({ rollout: { groupsize: 4 } }), "rollout.groupsize"],
    ["grpo rewards", () => parseGrpoConfig({ rewards: { tool: { gated: true } } }), "rewards.tool.gated"],
    ["run teacher", () => parseConfig(RunConfigSchema, { teacher: { skiplook: 0.5 } }), "teacher.skiplook"],
  ])("%s: rejected with its path", (_name, parse, path) => {
    expect(parse).toThrow(expect.objectContaining({ code: "FM_ERR_TRAIN_CONFIG" }));
    expect(parse).toThrow(new RegExp(path.split(".").at(-1)!));
  });
});
