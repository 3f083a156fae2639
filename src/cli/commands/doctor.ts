import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { binaries, binaryVersion, decoderStatus } from "../../video/index.js";
import { cardVersion, defaultModelDir } from "../../policy/tiny/checkpoint.js";
import { readExperts } from "../../policy/tiny/experts.js";
import { asFramemindError } from "../../errors.js";
import { parseFlags, printJson, type Command } from "../common.js";

const usage = "framemind doctor [--json]";
const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

/** The shipped embedded model as its card and experts.json describe it (the weights are not loaded). */
function embeddedModel(warnings: string[]): { path: string; version: string | null; experts: string[] } {
  const path = defaultModelDir();
  let version: string | null = null;
  let experts: string[] = [];
  try {
    version = cardVersion(path) ?? null;
    if (version === null) warnings.push(`no model card with a version in ${path}`);
    const found = readExperts(path);
    for (const e of found) if (!existsSync(e.checkpoint)) warnings.push(`expert ${e.name}: no folder ${e.checkpoint}`);
    experts = found.map((e) => `${e.name} <- ${e.words.join("|")}${e.maxTurns ? ` (${e.maxTurns} turns)` : ""}`);
  } catch (e) {
    warnings.push(asFramemindError(e).message);
  }
  return { path, version, experts };
}

export const command: Command = {
  summary: "show which ffmpeg/ffprobe, frame decoder (in-process libav or CLI) and onnxruntime are used, and warn when they are old",
  usage,
  async run(argv) {
    const { values } = parseFlags(argv, { json: { type: "boolean" } }, usage);
    const b = binaries();
    const ffmpeg = binaryVersion(b.ffmpeg);
    const ffprobe = binaryVersion(b.ffprobe);
    const warnings: string[] = [];
    for (const v of [ffmpeg, ffprobe]) if (v.major > 0 && v.major < 5) warnings.push(`${v.path} is version ${v.version}: 5.1 or newer is recommended`);
    const decoder = decoderStatus();
    const report = {
      node: process.version,
      ffmpeg,
      ffprobe,
      decoder,
      onnxruntimeNode: packageVersion("onnxruntime-node"),
      ffmpegStatic: packageVersion("ffmpeg-static"),
      model: embeddedModel(warnings),
      warnings,
    };
    if (values.json) printJson(report);
    else {
      console.log(`node             ${report.node}`);
      console.log(`ffmpeg           ${ffmpeg.version}  ${ffmpeg.path}  (from ${ffmpeg.source})`);
      console.log(`ffprobe          ${ffprobe.version}  ${ffprobe.path}  (from ${ffprobe.source})`);
      console.log(`frame decoder    ${decoder.active ? "in-process" : "ffmpeg CLI"}: ${decoder.reason}`);
      console.log(`onnxruntime-node ${report.onnxruntimeNode}`);
      console.log(`ffmpeg-static    ${report.ffmpegStatic}`);
      console.log(`embedded model   ${report.model.version ?? "unknown version"}  ${report.model.path}${report.model.experts.length ? `  (experts: ${report.model.experts.join(", ")})` : ""}`);
      for (const w of warnings) console.log(`warning: ${w}`);
    }
    return 0;
  },
};
