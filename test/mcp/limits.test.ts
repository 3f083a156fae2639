import { describe, expect, it } from "vitest";
import { CallGate } from "../../src/mcp/limits.js";
import { settleOptions } from "../../src/mcp/config.js";
import { createPolicy } from "../../src/mcp/policy.js";
import { toolError } from "../../src/mcp/errors.js";
import { FramemindError } from "../../src/errors.js";

describe("CallGate", () => {
  it("runs at most maxConcurrent at once, queues up to maxQueued, refuses the rest as busy", async () => {
    const gate = new CallGate(1, 1);
    let release!: () => void;
    const first = gate.run(() => new Promise<string>((r) => (release = () => r("first"))));
    const second = gate.run(async () => "second");
    expect(gate.stats()).toEqual({ active: 1, queued: 1 });
    await expect(gate.run(async () => "third")).rejects.toMatchObject({ code: "FM_ERR_SERVER_BUSY" });
    release();
    expect(await first).toBe("first");
    expect(await second).toBe("second");
    expect(gate.stats()).toEqual({ active: 0, queued: 0 });
  });

  it("a cancelled waiter leaves the line without running", async () => {
    const gate = new CallGate(1, 4);
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)));
    const ac = new AbortController();
    let ran = false;
    const waiting = gate.run(async () => void (ran = true), ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: "FM_ERR_CANCELLED" });
    release();
    await first;
    expect(ran).toBe(false);
    expect(gate.stats()).toEqual({ active: 0, queued: 0 });
  });
});

describe("options and error rendering", () => {
  it("video_qa runs the embedded policy on the tiny ladder, others on the frame tools' ladder", () => {
    expect(settleOptions({}).qaLadder).toBe("tiny");
    expect(settleOptions({}).ladder).toBe("qwen");
    expect(settleOptions({ policy: "openai" }).qaLadder).toBe("qwen");
    expect(() => settleOptions({ ladder: "huge" as "qwen" })).toThrow();
  });

  it("video_qa's tiny policy loads the model folder named by checkpoint", async () => {
    const policy = await createPolicy(settleOptions({ checkpoint: "models/framemind-tiny/uniform" }));
    expect(policy.modelVersion).toMatch(/-uniform\.\d+\+[0-9a-f]{12}$/);
    expect((await createPolicy(settleOptions({}))).modelVersion).not.toMatch(/-uniform/);
  });

  it("tool errors carry the code, the message and a hint", () => {
    const r = toolError(new FramemindError("FM_ERR_VIDEO_OUT_OF_RANGE", { time: 9, duration: 5 }));
    expect(r.isError).toBe(true);
    expect(r.content[0]).toMatchObject({ type: "text", text: expect.stringMatching(/^FM_ERR_VIDEO_OUT_OF_RANGE: time 9s is outside the video \(0 to 5s\)\nhint: call probe_video/) });
    expect(toolError(new Error("boom")).content[0]).toMatchObject({ text: "FM_ERR_INTERNAL: internal error: boom" });
  });
});
