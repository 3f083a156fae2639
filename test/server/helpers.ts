/** Server test fixtures: a scripted policy (deterministic, no model), a generated video, a running server. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { formatTurn } from "../../src/agent/protocol.js";
import type { Policy, PolicyInput, StepOptions } from "../../src/policy/types.js";
import { buildServer, type FramemindServer, type BuildOptions } from "../../src/server/app.js";
import type { ServerConfigInput } from "../../src/server/config.js";
import { makeIndexVideo, tmpDir } from "../helpers/videos.js";

/** Turn 0 looks closer at the middle of the video, turn 1 answers "B". */
export function scriptedPolicy(opts: { delayMs?: number; hang?: boolean } = {}): Policy {
  return {
    id: "scripted",
    async step(input: PolicyInput, o: StepOptions) {
      if (opts.hang) await new Promise((_, reject) => o.signal?.addEventListener("abort", () => reject(o.signal?.reason), { once: true }));
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      if (input.turn.index === 0 && !input.turn.mustAnswer) {
        const mid = Math.round(input.video.duration * 5) / 10;
        return { text: formatTurn({ think: `The overview shows ${input.evidence.length} frames; look closer at ${mid} s.`, call: { name: "get_frames", arguments: { timestamps: [mid, mid + 0.5], rung: "mid" } } }), usage: { promptTokens: 100, completionTokens: 20 } };
      }
      return { text: formatTurn({ think: `Seen ${input.allEvidence.flat().length} frames in all.`, answer: "B" }), usage: { promptTokens: 150, completionTokens: 10 } };
    },
  };
}

export interface Fixture {
  dir: string;
  roots: string;
  video: string;
  videoName: string;
}

export async function fixture(): Promise<Fixture> {
  const dir = tmpDir("fm-server-");
  const roots = join(dir, "videos");
  mkdirSync(roots, { recursive: true });
  const videoName = "clip.mp4";
  const video = await makeIndexVideo({ out: join(roots, videoName), width: 160, height: 96, fps: 10, frames: 60 });
  return { dir, roots, video, videoName };
}

export async function start(fx: Fixture, config: ServerConfigInput = {}, opts: BuildOptions & { policy?: Policy } = {}): Promise<{ server: FramemindServer; url: string }> {
  const policy = opts.policy ?? scriptedPolicy();
  const server = await buildServer(
    { host: "127.0.0.1", port: 0, roots: [fx.roots], dataDir: join(fx.dir, "data"), policy: { name: "scripted" }, ...config },
    { mcp: false, policyFactory: () => policy, ...opts },
  );
  const { url } = await server.listen();
  return { server, url };
}
