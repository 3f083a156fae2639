import { probe } from "../../video/index.js";
import { csv, parseFlags, printJson, type Command } from "../common.js";
import { FramemindError } from "../../errors.js";

const usage = "framemind probe VIDEO [--json] [--roots DIR,...]";

export const command: Command = {
  summary: "describe a video (duration, fps, frames, size, codec, keyframes, audio)",
  usage,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { json: { type: "boolean" }, roots: { type: "string" } }, usage);
    const video = positionals[0];
    if (!video) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `missing VIDEO\nusage: ${usage}` });
    const info = await probe(video, { roots: csv(values.roots) });
    if (values.json) printJson(info);
    else {
      console.log(`${info.path}\n  ${info.duration.toFixed(3)} s, ${info.fps} fps (${info.frameCount} frames), ${info.width}x${info.height} display (coded ${info.codedWidth}x${info.codedHeight}, rotation ${info.rotation}), ${info.codec} ${info.pixFmt}`);
      console.log(`  keyframe every ${info.keyframeInterval ?? "?"} s, audio: ${info.hasAudio ? "yes" : "no"}, duration from ${info.durationSource}`);
      for (const w of info.warnings) console.log(`  warning: ${w}`);
    }
    return 0;
  },
};
