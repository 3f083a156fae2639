import { createRequire } from "node:module";
import { binaries, binaryVersion, decoderStatus } from "../../video/index.js";
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
      for (const w of warnings) console.log(`warning: ${w}`);
    }
    return 0;
  },
};
