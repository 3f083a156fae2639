/**
 * `framemind serve`: the HTTP service (src/server). Flags mirror the config file's keys; the
 * order of precedence is flags > environment (FRAMEMIND_API_KEY) > --config FILE > defaults.
 * `--demo` (what `npm start` runs) serves the bundled sample videos (datasets/sample) with the
 * default policy, generating a small demo video into the cache folder when the samples are
 * absent, and prints a curl command that works as printed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import { packageRoot } from "../../../prompts/index.js";
import { FramemindError } from "../../errors.js";
import { buildServer } from "../../server/app.js";
import { isLoopbackHost, type ServerConfigInput } from "../../server/config.js";
import { encodeVideo } from "../../video/index.js";
import { csv, parseFlags, type Command } from "../common.js";

const usage =
  "framemind serve [--host 127.0.0.1] [--port 8080] [--roots DIR,...] [--policy tiny|openai --base-url URL --model NAME] [--checkpoint DIR (tiny)] [--api-key K | FRAMEMIND_API_KEY] [--config FILE] [--data-dir DIR] [--concurrency N] [--queue N] [--allow-urls] [--demo]";

const FLAGS = {
  host: { type: "string" },
  port: { type: "string" },
  roots: { type: "string" },
  policy: { type: "string" },
  "base-url": { type: "string" },
  checkpoint: { type: "string" },
  model: { type: "string" },
  "api-key": { type: "string" },
  config: { type: "string" },
  "data-dir": { type: "string" },
  concurrency: { type: "string" },
  queue: { type: "string" },
  "allow-urls": { type: "boolean" },
  demo: { type: "boolean" },
} as const;

function readConfigFile(file: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Record<string, unknown>;
  } catch (e) {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `--config ${file}: ${(e as Error).message}` });
  }
}

const int = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `--${flag} must be a non-negative integer, got '${v}'` });
  return n;
};

interface Demo {
  root: string;
  /** Path relative to the root, question and options for the printed curl. */
  path: string;
  question: string;
  options?: string[];
}

/** The first item of the bundled sample set, if it is there. */
function sampleDemo(): Demo | undefined {
  const dir = join(packageRoot(), "datasets", "sample");
  if (!existsSync(dir)) return undefined;
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".jsonl")).sort()) {
    for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const item = JSON.parse(line) as { video?: string; question?: string; options?: string[] };
        if (!item.video || !item.question) continue;
        const abs = join(dir, item.video);
        if (!existsSync(abs)) continue;
        return { root: dir, path: relative(dir, abs), question: item.question, ...(item.options ? { options: item.options } : {}) };
      } catch {
        // Not a dataset line: try the next.
      }
    }
  }
  return undefined;
}

const DEMO_COLOURS: Array<[string, [number, number, number]]> = [
  ["red", [200, 40, 40]],
  ["green", [40, 170, 60]],
  ["blue", [40, 70, 200]],
  ["yellow", [220, 200, 40]],
];

/** A 8 s video whose background changes colour every 2 s, made once into the cache folder. */
async function generatedDemo(): Promise<Demo> {
  const root = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "framemind", "demo");
  const out = join(root, "colours.mp4");
  if (!existsSync(out)) {
    const [w, h, fps, seconds] = [224, 160, 10, 8];
    function* frames() {
      for (let n = 0; n < fps * seconds; n++) {
        const [, rgb] = DEMO_COLOURS[Math.floor(n / (2 * fps)) % DEMO_COLOURS.length]!;
        const buf = Buffer.alloc(w * h * 3);
        for (let i = 0; i < w * h; i++) buf.set(rgb, i * 3);
        // A white square moving left to right, so frames differ within a segment.
        const x0 = Math.floor(((n % (2 * fps)) / (2 * fps)) * (w - 24));
        for (let y = 68; y < 92; y++) for (let x = x0; x < x0 + 24; x++) buf.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
        yield buf;
      }
    }
    await encodeVideo({ out, width: w, height: h, fps, frames: frames() });
  }
  return { root, path: "colours.mp4", question: "What colour is the background at the end of the video?", options: DEMO_COLOURS.map(([c], i) => `${String.fromCharCode(65 + i)}. ${c}`) };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const command: Command = {
  summary: "serve the HTTP API (video QA, OpenAI-compatible chat, trajectory viewer, metrics)",
  usage,
  async run(argv) {
    const { values: v } = parseFlags(argv, FLAGS, usage);
    const file = v.config ? readConfigFile(v.config) : {};
    const envKeys = csv(process.env.FRAMEMIND_API_KEY);
    const demo = v.demo ? (sampleDemo() ?? (await generatedDemo())) : undefined;
    const filePolicy = (file.policy ?? {}) as Record<string, unknown>;
    const fileLimits = (file.limits ?? {}) as Record<string, unknown>;
    const fileUrls = (file.urls ?? {}) as Record<string, unknown>;
    const input: ServerConfigInput = {
      ...(file as ServerConfigInput),
      ...(v.host ? { host: v.host } : {}),
      ...(v.port !== undefined ? { port: int("port", v.port) } : {}),
      ...(v.roots ? { roots: csv(v.roots) } : demo ? { roots: [demo.root] } : {}),
      ...(v["data-dir"] ? { dataDir: v["data-dir"] } : {}),
      apiKeys: v["api-key"] ? [v["api-key"]] : (envKeys ?? (file.apiKeys as string[] | undefined) ?? []),
      policy: {
        ...filePolicy,
        ...(v.policy ? { name: v.policy } : {}),
        ...(v["base-url"] ? { baseUrl: v["base-url"] } : {}),
        ...(v.model ? { model: v.model } : {}),
        ...(v.checkpoint ? { checkpoint: v.checkpoint } : {}),
      } as ServerConfigInput["policy"],
      limits: {
        ...fileLimits,
        ...(v.concurrency !== undefined ? { concurrency: int("concurrency", v.concurrency) } : {}),
        ...(v.queue !== undefined ? { queue: int("queue", v.queue) } : {}),
      } as ServerConfigInput["limits"],
      urls: { ...fileUrls, ...(v["allow-urls"] ? { enabled: true } : {}) } as ServerConfigInput["urls"],
    };
    const out = (s: string) => process.stderr.write(s + "\n");
    let server = await buildServer(input);
    let ready = await server.services.policies.ready();
    if (demo && !ready.ok && !v.policy && !filePolicy.name) {
      // The demo must answer as printed: without the embedded model, fall back to the uniform
      // baseline (placeholder answers, real frames and trajectories) and say so.
      out(`warning: the default policy is not available (${ready.reason}); the demo serves the 'uniform' baseline instead`);
      await server.close();
      server = await buildServer({ ...input, policy: { name: "uniform" } });
      ready = await server.services.policies.ready();
    }
    const { url } = await server.listen();
    const cfg = server.config;
    out(`framemind serving on ${url} (policy ${ready.ok ? ready.policy : `${cfg.policy.name}: NOT READY: ${ready.reason}`})`);
    out(`  roots: ${cfg.roots.join(", ")}`);
    out(`  API keys: ${cfg.apiKeys.length ? "required (Bearer)" : "off (loopback only)"}; URL input: ${cfg.urls.enabled ? "on" : "off"}; concurrency ${cfg.limits.concurrency}, queue ${cfg.limits.queue}`);
    out(`  docs: ${url}/docs   metrics: ${url}/metrics   health: ${url}/healthz`);
    if (demo) {
      const shownHost = isLoopbackHost(cfg.host) || cfg.host === "0.0.0.0" ? url.replace(/\/\/[^:/]+/, "//127.0.0.1") : url;
      const body = JSON.stringify({ path: demo.path, question: demo.question, ...(demo.options ? { options: demo.options } : {}) });
      const auth = cfg.apiKeys.length ? ` -H "Authorization: Bearer $FRAMEMIND_API_KEY"` : "";
      out(`\nTry it:\n  curl -s ${shownHost}/v1/video/qa -H 'content-type: application/json'${auth} -d ${shellQuote(body)}\n`);
    }
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        out(`\n${sig}: finishing in-flight requests...`);
        void server.close().then(resolve, resolve);
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    out("stopped");
    return 0;
  },
};
