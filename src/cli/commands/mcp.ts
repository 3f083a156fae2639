import { z } from "zod";
import { LadderNameSchema } from "../../video/index.js";
import { createRuntime, listenHttp, runStdio } from "../../mcp/index.js";
import { csv, parseFlags, validate, type Command } from "../common.js";

const usage =
  "framemind mcp [--roots DIR,...] [--ladder qwen|tiny] [--policy tiny|openai|uniform] [--checkpoint DIR (tiny)] [--base-url URL --model NAME] [--image-format png|jpeg] [--timeout-ms N] [--max-frames N] [--trajectories DIR] [--http [HOST:]PORT [--stateless] [--allowed-hosts H,...]]";

const Flags = z.object({
  roots: z.array(z.string().min(1)).min(1).optional(),
  ladder: LadderNameSchema.optional(),
  policy: z.string().min(1).optional(),
  checkpoint: z.string().min(1).optional(),
  baseUrl: z.url().optional(),
  model: z.string().min(1).optional(),
  imageFormat: z.enum(["png", "jpeg"]).optional(),
  timeoutMs: z.coerce.number().int().positive().optional(),
  maxFrames: z.coerce.number().int().positive().optional(),
  trajectories: z.string().min(1).optional(),
  http: z
    .string()
    .regex(/^(?:(.+):)?(\d{1,5})$/, "--http takes PORT or HOST:PORT")
    .optional(),
  stateless: z.boolean().optional(),
  allowedHosts: z.array(z.string().min(1)).optional(),
});

export const command: Command = {
  summary: "serve FrameMind's tools to MCP clients (stdio by default, or Streamable HTTP with --http)",
  usage,
  async run(argv) {
    const { values } = parseFlags(
      argv,
      {
        roots: { type: "string" },
        ladder: { type: "string" },
        policy: { type: "string" },
        checkpoint: { type: "string" },
        "base-url": { type: "string" },
        model: { type: "string" },
        "image-format": { type: "string" },
        "timeout-ms": { type: "string" },
        "max-frames": { type: "string" },
        trajectories: { type: "string" },
        http: { type: "string" },
        stateless: { type: "boolean" },
        "allowed-hosts": { type: "string" },
      },
      usage,
    );
    const f = validate(Flags, {
      roots: csv(values.roots),
      ladder: values.ladder,
      policy: values.policy,
      checkpoint: values.checkpoint,
      baseUrl: values["base-url"],
      model: values.model,
      imageFormat: values["image-format"],
      timeoutMs: values["timeout-ms"],
      maxFrames: values["max-frames"],
      trajectories: values.trajectories,
      http: values.http,
      stateless: values.stateless,
      allowedHosts: csv(values["allowed-hosts"]),
    });
    const runtime = await createRuntime({
      roots: f.roots,
      ladder: f.ladder,
      policy: f.policy,
      ...(f.checkpoint ? { checkpoint: f.checkpoint } : {}),
      ...(f.baseUrl || f.model ? { openai: { ...(f.baseUrl ? { baseUrl: f.baseUrl } : {}), ...(f.model ? { model: f.model } : {}) } } : {}),
      imageFormat: f.imageFormat,
      timeoutMs: f.timeoutMs,
      maxFramesPerCall: f.maxFrames,
      trajectoriesDir: f.trajectories,
    });
    // stdout is the protocol channel in stdio mode: everything for people goes to stderr.
    const roots = runtime.options.roots?.join(", ") ?? `the client's roots if it declares any, else ${process.cwd()}`;
    if (f.http) {
      const m = /^(?:(.+):)?(\d{1,5})$/.exec(f.http)!;
      const { app, url } = await listenHttp(runtime, { host: m[1] ?? "127.0.0.1", port: Number(m[2]), stateless: f.stateless, allowedHosts: f.allowedHosts });
      process.stderr.write(`framemind mcp: Streamable HTTP at ${url}${f.stateless ? " (stateless)" : ""}; roots: ${roots}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void app.close().then(() => resolve());
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      return 0;
    }
    process.stderr.write(`framemind mcp: stdio; roots: ${roots}; ladder ${runtime.options.ladder}; video_qa policy ${runtime.options.policy}\n`);
    await runStdio(runtime);
    return 0;
  },
};
