#!/usr/bin/env node
/** `framemind`: one subcommand per module in ./commands, loaded on demand. */
import { guarded, runMain, type Command } from "./common.js";

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  doctor: () => import("./commands/doctor.js"),
  probe: () => import("./commands/probe.js"),
  frames: () => import("./commands/frames.js"),
  serve: () => import("./commands/serve.js"),
  ask: () => import("./commands/ask.js"),
  mcp: () => import("./commands/mcp.js"),
  data: () => import("./commands/data.js"),
  "gen-data": () => import("./commands/gen-data.js"),
  eval: () => import("./commands/eval.js"),
};

async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log("usage: framemind <command> [options]\n");
    for (const [n, load] of Object.entries(COMMANDS)) {
      const { command } = await load();
      console.log(`  ${n.padEnd(10)} ${command.summary}`);
    }
    console.log("\nRun `framemind <command> --help` for a command's options.");
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) return guarded(async () => {
    const { FramemindError } = await import("../errors.js");
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(", ")})` });
  });
  const { command } = await load();
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`usage: ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  return guarded(() => command.run(argv.slice(1)));
}

runMain(() => main(process.argv.slice(2)));
