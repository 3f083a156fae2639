/**
 * The trajectory viewer in a real headless browser (Debian chromium driven by playwright-core):
 * load a real trajectory through its signed link, check the turns, the timeline marks and the
 * thumbnails (decoded by the browser at their stored size), and save a screenshot.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { FramemindServer } from "../../src/server/app.js";
import { fixture, start, type Fixture } from "./helpers.js";

// Uncached questions spawn ffmpeg several times: allow for a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 });

const CHROMIUM = "/usr/bin/chromium";
const KEY = "viewer-test-key-123";
const hasChromium = existsSync(CHROMIUM);

let fx: Fixture;
let server: FramemindServer;
let url: string;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  fx = await fixture();
  ({ server, url } = await start(fx, { apiKeys: [KEY] }));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe.skipIf(!hasChromium)(`viewer in headless chromium${hasChromium ? "" : ` (skipped: ${CHROMIUM} not found; .ci/run installs it)`}`, () => {
  it("shows the turns, the moments looked at on the timeline, the frames and the answer", async () => {
    const res = await fetch(`${url}/v1/video/qa`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` }, body: JSON.stringify({ path: fx.videoName, question: "Which digit is shown?", options: ["A. 1", "B. 2"] }) });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);

    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const failed: string[] = [];
    page.on("requestfailed", (r) => failed.push(r.url()));
    page.on("response", (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    // The signed link opens without the API key (a browser cannot send the header).
    await page.goto(body.trajectory.viewer, { waitUntil: "load" });
    expect(await page.title()).toContain(body.id);
    expect(await page.locator("#answer").textContent()).toBe("B");
    expect(await page.locator("section.turn[data-turn]").count()).toBe(2);
    expect(await page.locator("section.turn[data-turn='0'] .reasoning").textContent()).toContain("look closer");
    expect(await page.locator("section.turn[data-turn='0'] .call").textContent()).toContain("get_frames");
    // 8 overview marks + 2 closer looks on the timeline; the cited ones are outlined.
    expect(await page.locator(".timeline .mark").count()).toBe(10);
    expect(await page.locator(".timeline .mark.cited").count()).toBe(2);
    // Every thumbnail loaded, at the resolution the policy saw.
    const imgs = await page.locator("img.frame-img").evaluateAll((els) => (els as HTMLImageElement[]).map((i) => ({ complete: i.complete, w: i.naturalWidth, h: i.naturalHeight })));
    expect(imgs).toHaveLength(10);
    for (const i of imgs) expect(i.complete && i.w > 0 && i.h > 0).toBe(true);
    const t = body.timestamps as number[];
    const turnFrames = await page.locator("section.turn[data-turn='0'] figure.frame").evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.t)));
    expect(turnFrames).toEqual(t);
    const stored = (await server.services.store.get(body.id))!.frames.filter((f) => f.observation === 1);
    expect(imgs.slice(8).map((i) => `${i.w}x${i.h}`)).toEqual(stored.map((f) => `${f.width}x${f.height}`));
    expect(failed).toEqual([]);

    mkdirSync("test-output", { recursive: true });
    const shot = join("test-output", "server-viewer.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(existsSync(shot)).toBe(true);
    await page.close();
  });
});
