import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { processStats } from "../../src/video/index.js";
import { fixture, start, type Fixture } from "./helpers.js";
import type { FramemindServer } from "../../src/server/app.js";

// Uncached questions spawn ffmpeg several times: allow for a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 });

let fx: Fixture;
let server: FramemindServer;
let url: string;

beforeAll(async () => {
  fx = await fixture();
  ({ server, url } = await start(fx));
});
afterAll(async () => {
  await server?.close();
  expect(processStats().live).toBe(0);
});

describe("POST /v1/video/qa", () => {
  it("answers by path over a real socket, with timestamps, summary and a saved trajectory", async () => {
    const res = await fetch(`${url}/v1/video/qa`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: fx.videoName, question: "Which digit?", options: ["A. 1", "B. 2"] }) });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.answer).toBe("B");
    expect(body.stop_reason).toBe("answer");
    expect(body.timestamps).toHaveLength(2);
    expect(body.summary.turns).toBe(2);
    expect(body.summary.frames).toBe(10);
    expect(body.trajectory.viewer).toMatch(/\/trajectories\//);
    const t = await fetch(body.trajectory.url).then((r) => r.json());
    expect(t.record.id).toBe(body.id);
    expect(t.frames).toHaveLength(10);
    const png = await fetch(`${url}${t.frames[0].url}`);
    expect(png.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe("PNG");
  });

  it("answers a multipart upload and removes the uploaded file", async () => {
    const form = new FormData();
    form.set("question", "Which digit?");
    form.set("options", JSON.stringify(["A. 1", "B. 2"]));
    form.set("file", new Blob([await readFile(fx.video)], { type: "video/mp4" }), "up.mp4");
    const res = await fetch(`${url}/v1/video/qa`, { method: "POST", body: form });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.answer).toBe("B");
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(server.services.tmpDir)).toEqual([]);
  });

  it("streams SSE events per step, ending with the result", async () => {
    const res = await fetch(`${url}/v1/video/qa`, { method: "POST", headers: { "content-type": "application/json", accept: "text/event-stream" }, body: JSON.stringify({ path: fx.videoName, question: "Which digit?" }) });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const text = await res.text();
    const events = text
      .split("\n\n")
      .filter((b) => b.includes("data:"))
      .map((b) => ({ event: /^event: (.*)$/m.exec(b)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(b)![1]!) }));
    const names = events.map((e) => e.event);
    expect(names[0]).toBe("start");
    expect(names).toContain("frames");
    expect(names).toContain("reasoning");
    expect(names).toContain("tool_call");
    expect(names).toContain("answer");
    expect(names.at(-1)).toBe("result");
    const frames = events.filter((e) => e.event === "frames");
    expect(frames[1]!.data.timestamps.length).toBe(2);
    expect(frames[1]!.data.width).toBeGreaterThan(0);
    expect(events.at(-1)!.data.answer).toBe("B");
  });
});
