/**
 * `framemind ask`: one question through the FiCOT loop, printing each turn as it happens (what
 * the policy thought, which frames it fetched and at what size) and the answer; --json prints
 * the trajectory record instead, --trajectory saves it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { answer, type AgentEvent } from "../../agent/loop.js";
import { letterOptions } from "../../agent/protocol.js";
import { FramemindError } from "../../errors.js";
import { createPolicy, policyNames, type PolicyConfig } from "../../policy/index.js";
import { LadderNameSchema } from "../../video/index.js";
import { loadDataset, videoPath } from "../../../datasets/io.js";
import type { DatasetItem } from "../../../datasets/schema.js";
import { csv, parseFlags, printJson, validate, type Command } from "../common.js";

const usage =
  'framemind ask VIDEO "question" [--options A,B,C] [--policy openai|uniform|oracle|tiny|tiny-uniform] [--checkpoint DIR (tiny policies)] [--item FILE:ID] [--max-turns n] [--budget tokens] [--frames N --rung R] [--ladder qwen|tiny] [--base-url URL --model NAME [--api-key KEY] [--stream] [--native-tools auto|on|off]] [--temperature T --top-p P] [--seed S] [--timeout ms] [--roots DIR,...] [--json] [--trajectory FILE]';

const Flags = z
  .object({
    policy: z.string().optional(),
    options: z.array(z.string()).min(2).optional(),
    item: z.string().regex(/^.+:[^:]+$/, "--item looks like FILE:ID").optional(),
    maxTurns: z.coerce.number().int().min(1).max(16).optional(),
    budget: z.coerce.number().int().positive().optional(),
    frames: z.coerce.number().int().min(1).max(64).optional(),
    rung: z.string().optional(),
    ladder: LadderNameSchema.optional(),
    baseUrl: z.string().optional(),
    model: z.string().optional(),
    apiKey: z.string().optional(),
    stream: z.boolean().default(false),
    nativeTools: z.enum(["auto", "on", "off"]).default("auto"),
    temperature: z.coerce.number().min(0).max(2).optional(),
    topP: z.coerce.number().gt(0).max(1).optional(),
    seed: z.coerce.number().int().min(0).default(0),
    timeout: z.coerce.number().int().positive().optional(),
    checkpoint: z.string().min(1).optional(),
  })
  .refine((f) => (f.frames === undefined) === (f.rung === undefined), { message: "--frames and --rung go together" })
  .refine((f) => f.policy !== "oracle" || f.item !== undefined, { message: "the oracle policy needs --item FILE:ID" });

async function loadItem(spec: string): Promise<{ file: string; item: DatasetItem }> {
  const at = spec.lastIndexOf(":");
  const file = resolve(spec.slice(0, at));
  const id = spec.slice(at + 1);
  const item = (await loadDataset(file)).find((i) => i.id === id);
  if (!item) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `no item '${id}' in ${file}` });
  return { file, item };
}

const ts = (xs: number[]) => xs.map((t) => t.toFixed(1)).join(", ");

/** One human-readable line per event. */
export function describeEvent(e: AgentEvent): string {
  const turn = (t: number | null) => (t === null ? "[overview]" : `[turn ${t + 1}]`);
  switch (e.type) {
    case "start":
      return `video ${e.video.path} (${e.video.duration.toFixed(1)} s, ${e.video.width}x${e.video.height}, ${e.video.fps} fps) | policy ${e.policy.id} | ladder ${e.settings.ladder} | ${e.settings.maxTurns} turn${e.settings.maxTurns === 1 ? "" : "s"}, ${e.settings.maxVisualTokens} visual tokens`;
    case "frames":
      return `${turn(e.turn)} ${e.source === "first_observation" ? "saw" : "got"} ${e.timestamps.length} frame(s) at rung ${e.rung}, ${e.width}x${e.height}, ${e.tokens} tokens${e.cached ? " (cached)" : `, decoded in ${e.decodeMs} ms`}: t = ${ts(e.timestamps)} s  [${e.usedVisualTokens} tokens used]`;
    case "reasoning":
      return `${turn(e.turn)} think: ${e.text}`;
    case "tool_call":
      return `${turn(e.turn)} call ${e.name} ${JSON.stringify(e.arguments)}`;
    case "error":
      return `${turn(e.turn)} ${e.recoverable ? "invalid call" : "error"} ${e.code}: ${e.message}`;
    case "answer":
      return `${turn(e.turn)} answer: ${e.answer}  (evidence at t = ${ts(e.evidence)} s)`;
    case "done":
      return `done: ${e.stopReason}, ${e.turns} turn(s), ${e.visualTokens} visual tokens, ${(e.totalMs / 1000).toFixed(2)} s`;
  }
}

export const command: Command = {
  summary: "answer a question about a video with an agentic policy (prints the turns as they happen)",
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        options: { type: "string" },
        policy: { type: "string" },
        item: { type: "string" },
        "max-turns": { type: "string" },
        budget: { type: "string" },
        frames: { type: "string" },
        rung: { type: "string" },
        ladder: { type: "string" },
        "base-url": { type: "string" },
        model: { type: "string" },
        "api-key": { type: "string" },
        stream: { type: "boolean" },
        "native-tools": { type: "string" },
        temperature: { type: "string" },
        "top-p": { type: "string" },
        seed: { type: "string" },
        timeout: { type: "string" },
        roots: { type: "string" },
        json: { type: "boolean" },
        checkpoint: { type: "string" },
        trajectory: { type: "string" },
      },
      usage,
    );
    const f = validate(Flags, {
      ...values,
      options: csv(values.options),
      maxTurns: values["max-turns"],
      baseUrl: values["base-url"],
      apiKey: values["api-key"],
      nativeTools: values["native-tools"],
      topP: values["top-p"],
    });
    // The embedded model is the default; a --base-url means a remote OpenAI-compatible model.
    const policyName = f.policy ?? (f.baseUrl ? "openai" : "tiny");
    const fromItem = f.item ? await loadItem(f.item) : undefined;
    const video = positionals[0] ?? (fromItem ? videoPath(fromItem.file, fromItem.item) : undefined);
    const question = positionals[1] ?? fromItem?.item.question;
    if (!video || !question) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `give VIDEO and "question" (or --item FILE:ID)\nusage: ${usage}` });
    const options = f.options ? letterOptions(f.options) : positionals[1] === undefined ? fromItem?.item.options : undefined;
    // The embedded model reads the tiny ladder; remote VLMs the qwen one.
    const ladder = f.ladder ?? (policyName.startsWith("tiny") ? "tiny" : "qwen");

    const config: PolicyConfig = {
      ladder,
      seed: f.seed,
      ...(fromItem ? { item: fromItem.item } : {}),
      openai: {
        ...(f.baseUrl ? { baseUrl: f.baseUrl } : {}),
        ...(f.model ? { model: f.model } : {}),
        ...(f.apiKey ? { apiKey: f.apiKey } : {}),
        stream: f.stream,
        nativeTools: f.nativeTools,
      },
      ...(f.frames !== undefined ? { frames: f.frames, rung: f.rung } : {}),
      ...(f.checkpoint ? { options: { checkpoint: f.checkpoint } } : {}),
    };
    if (!policyNames().includes(policyName)) throw new FramemindError("FM_ERR_POLICY_UNKNOWN", { policy: policyName, policies: policyNames().join(", ") });
    const policy = await createPolicy(policyName, config);

    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once("SIGINT", onSigint);
    try {
      const result = await answer({
        video,
        question,
        ...(options ? { options } : {}),
        policy,
        settings: {
          ladder,
          ...(f.maxTurns !== undefined ? { maxTurns: f.maxTurns } : {}),
          ...(f.budget !== undefined ? { maxVisualTokens: f.budget } : {}),
          ...(f.frames !== undefined && policyName !== "uniform" ? { firstObservation: { frames: f.frames, rung: f.rung! } } : {}),
          ...(f.timeout !== undefined ? { timeoutMs: f.timeout } : {}),
          ...(values.roots ? { paths: { roots: csv(values.roots) } } : {}),
        },
        ...(f.temperature !== undefined || f.topP !== undefined ? { sampling: { temperature: f.temperature ?? 1, topP: f.topP ?? 1, seed: f.seed } } : {}),
        signal: controller.signal,
        ...(fromItem ? { item: { id: fromItem.item.id, file: fromItem.file } } : {}),
        onEvent: values.json ? undefined : (e) => console.log(describeEvent(e)),
      });
      if (values.trajectory) {
        await mkdir(dirname(resolve(values.trajectory)), { recursive: true });
        await writeFile(values.trajectory, JSON.stringify(result.record, null, 2) + "\n");
        if (!values.json) console.log(`trajectory written to ${values.trajectory}`);
      }
      if (values.json) {
        printJson(result.record);
        return result.error ? 2 : 0;
      }
      if (result.error) throw result.error;
      if (result.answer === null) return 1;
      console.log(`\nanswer: ${result.answer}`);
      return 0;
    } finally {
      process.off("SIGINT", onSigint);
    }
  },
};
