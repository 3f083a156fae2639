/**
 * The "answer a question about this video" prompt. Its text is a versioned template beside this
 * module (prompts/ holds the agent's own templates; the answer-format line is taken from there so
 * both ask for answers the same way). Arguments complete from the videos inside the roots.
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import { fillTemplate, loadTemplate, packageRoot, PROMPT_VERSION } from "../../prompts/index.js";
import { rungNames } from "../video/index.js";
import type { SessionContext } from "./session.js";

let template: string | undefined;
function askTemplate(): string {
  template ??= readFileSync(join(packageRoot(), "src", "mcp", `ask_video.${PROMPT_VERSION}.md`), "utf8").replace(/\n+$/, "");
  return template;
}

/** The line of prompts/answer.<version>.md for open or multiple-choice questions. */
function answerFormat(hasOptions: boolean): string {
  const key = hasOptions ? "options:" : "open:";
  const line = loadTemplate("answer").split("\n").find((l) => l.startsWith(key));
  return line ? line.slice(key.length).trim() : "";
}

/** Prompt arguments are strings: options come one per line or separated by ';'. */
export function splitOptions(s: string | undefined): string[] {
  return (s ?? "").split(/\n|;/).map((o) => o.trim()).filter(Boolean);
}

export function renderAskVideo(s: SessionContext, args: { video: string; question: string; options?: string }): string {
  const options = splitOptions(args.options);
  const rungs = rungNames(s.options.ladder);
  return fillTemplate(askTemplate(), {
    video: args.video,
    question: args.question,
    options: options.length ? `Options:\n${options.join("\n")}\n` : "",
    low_rung: rungs[0]!,
    high_rung: rungs[rungs.length - 1]!,
    answer_format: answerFormat(options.length > 0).replace(/<answer>(.*?)<\/answer>/g, "$1"),
  });
}

export function registerPrompts(s: SessionContext): void {
  s.server.registerPrompt(
    "ask_video",
    {
      title: "Answer a question about this video",
      description: "Instructions to answer a question about a video with FrameMind's tools (overview first, then a closer look where it matters).",
      argsSchema: {
        video: completable(z.string().describe("video path inside the allowed roots"), (value) => s.roots.videos(value ?? "")),
        question: z.string().describe("the question"),
        options: z.string().optional().describe("multiple-choice options, one per line or separated by ';' (e.g. 'A. red; B. blue')"),
      },
    },
    (args) => ({
      description: `Answer a question about ${args.video}`,
      messages: [{ role: "user", content: { type: "text", text: renderAskVideo(s, args) } }],
    }),
  );
}
