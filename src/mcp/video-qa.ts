/**
 * video_qa: runs the FiCOT agent loop on a video inside the roots and returns the answer with a
 * trajectory summary (structured + text). One progress notification per agent turn when the
 * client sent a progress token; the client's cancel aborts the model call and ffmpeg.
 */
import { z } from "zod";
import type { CallToolResult, ServerNotification } from "@modelcontextprotocol/sdk/types.js";
import { AgentSettingsSchema, answer, type AgentEvent } from "../agent/loop.js";
import { TrajectorySchema, TurnSchema, type Trajectory } from "../agent/trajectory.js";
import { FramemindError } from "../errors.js";
import { structured } from "./content.js";
import { toolError } from "./errors.js";
import { trajectoryUri } from "./resources.js";
import type { SessionContext } from "./session.js";
import { READ_ONLY, videoArg } from "./tools.js";

const settings = AgentSettingsSchema.shape;

export const VideoQaInput = z.object({
  video: videoArg,
  question: z.string().trim().min(1).describe("the question about the video"),
  options: z.array(z.string().min(1)).min(2).optional().describe('multiple-choice options written "A. red", "B. blue", ...; the answer is then a letter'),
  maxTurns: settings.maxTurns.optional().describe("most policy turns (each may fetch frames once); default 4, or the policy's longer route for the question"),
  maxVisualTokens: settings.maxVisualTokens.describe("visual-token budget for the whole question, first observation included"),
});

/** The record's public summary: the agent's own schemas, narrowed (no per-frame lists). */
export const VideoQaOutput = TrajectorySchema.pick({ id: true, answer: true, stopReason: true, question: true, options: true, policy: true, video: true, tokens: true, timings: true, calls: true, evidenceCited: true, warnings: true, errors: true }).extend({
  trajectory: z.string().describe("resource URI of the full record (framemind://trajectories/{id}) when saved"),
  turns: z.array(TurnSchema.pick({ index: true, call: true, answer: true, error: true, result: true })),
});
type VideoQaOutput = z.infer<typeof VideoQaOutput>;

function summarize(r: Trajectory, uri: string): VideoQaOutput {
  const { id, answer: a, stopReason, question, options, policy, video, tokens, timings, calls, evidenceCited, warnings, errors } = r;
  return {
    id, answer: a, stopReason, question, ...(options ? { options } : {}), policy, video, tokens, timings, calls, evidenceCited, warnings, errors,
    trajectory: uri,
    turns: r.turns.map((t) => ({ index: t.index, call: t.call, answer: t.answer, error: t.error, result: t.result })),
  };
}

/** One progress message per finished turn (its tool result, its recoverable error, or its answer). */
function turnMessage(e: AgentEvent): { turn: number; message: string } | undefined {
  if (e.type === "frames" && e.turn !== null) return { turn: e.turn, message: `turn ${e.turn + 1}: ${e.source} ${e.timestamps.length} frames at ${e.rung} (${e.usedVisualTokens} visual tokens used)` };
  if (e.type === "error" && e.turn !== null) return { turn: e.turn, message: `turn ${e.turn + 1}: ${e.code}` };
  if (e.type === "answer") return { turn: e.turn, message: `turn ${e.turn + 1}: answered ${e.answer}` };
  return undefined;
}

/** Keeps the record for the resource; a failed save costs the link, not the answer. */
async function save(s: SessionContext, record: Trajectory): Promise<boolean> {
  const store = s.runtime.trajectories;
  if (!store?.save) return false;
  try {
    await store.save(record);
    return true;
  } catch (e) {
    s.log("warning", `trajectory ${record.id} was not saved: ${(e as Error).message}`);
    return false;
  }
}

export function registerVideoQa(s: SessionContext): void {
  s.server.registerTool(
    "video_qa",
    {
      title: "Answer a question about a video",
      description:
        "Answer a question about a video with FrameMind's agent: it looks at a low-resolution overview, fetches frames or clips where and as sharp as it needs, then answers. Returns the answer and a summary of every turn (calls, frames, visual tokens, timings); the full record is a framemind://trajectories/{id} resource.",
      inputSchema: VideoQaInput,
      outputSchema: VideoQaOutput,
      annotations: { ...READ_ONLY, idempotentHint: false },
    },
    async (args, extra) =>
      s.call("video_qa", extra.signal, async (): Promise<CallToolResult> => {
        const { path, policy: paths } = await s.roots.resolve(args.video);
        const policy = await s.runtime.policy();
        const token = extra._meta?.progressToken;
        // Replaced by the settled value from the loop's start event.
        let total = args.maxTurns ?? 0;
        let lastTurn = -1;
        const onEvent = (e: AgentEvent) => {
          if (e.type === "start") total = e.settings.maxTurns;
          const m = turnMessage(e);
          if (!m || m.turn <= lastTurn) return;
          lastTurn = m.turn;
          s.log("info", m.message);
          if (token === undefined) return;
          const note: ServerNotification = { method: "notifications/progress", params: { progressToken: token, progress: m.turn + 1, total, message: m.message } };
          extra.sendNotification(note).catch(() => undefined);
        };
        const r = await answer({
          video: path,
          question: args.question,
          ...(args.options ? { options: args.options } : {}),
          policy,
          settings: {
            ladder: s.options.qaLadder,
            paths: { roots: paths.roots ? [...paths.roots] : undefined, maxBytes: paths.maxBytes },
            timeoutMs: s.options.timeoutMs,
            maxFramesPerCall: s.options.maxFramesPerCall,
            ...(args.maxTurns !== undefined ? { maxTurns: args.maxTurns } : {}),
            ...(args.maxVisualTokens !== undefined ? { maxVisualTokens: args.maxVisualTokens } : {}),
          },
          signal: extra.signal,
          onEvent,
        });
        if (r.record.stopReason === "cancelled") throw new FramemindError("FM_ERR_CANCELLED");
        const saved = await save(s, r.record);
        const uri = saved ? trajectoryUri(r.record.id) : "";
        const out = summarize(r.record, uri);
        // A question that ran but ended without an answer is still a result (with its errors), not a tool error,
        // except when nothing could be answered at all because the model failed.
        if (r.error && r.answer === null && r.record.stopReason !== "turn_limit" && r.record.stopReason !== "budget") {
          const err = toolError(r.error);
          return { ...err, content: [...err.content, { type: "text", text: JSON.stringify(out) }] };
        }
        const lead = `answer: ${r.answer ?? "(none)"} — ${r.record.turns.length} turn(s), ${r.record.tokens.visual} visual tokens, ${r.record.timings.totalMs} ms, stop: ${r.record.stopReason}`;
        const res = structured(out);
        res.content = [{ type: "text", text: lead }, ...res.content, ...(saved ? [{ type: "resource_link" as const, uri, name: `trajectory ${r.record.id}`, mimeType: "application/json" }] : [])];
        return res;
      }),
  );
}
