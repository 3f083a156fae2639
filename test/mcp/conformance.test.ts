/**
 * The official MCP conformance suite (0.1.13, offline) in server mode against /mcp:
 * (a) the product server with a baseline of fixture-dependent scenarios only (exit 0 means no
 *     regression and no stale entry), (b) the fixture server (product + test_* fixtures through
 *     our own HTTP plugin and gate) with no baseline at all.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "./fixture-server.js";
import { runConformance } from "./conformance.js";

const summary = (out: string) => out.slice(out.indexOf("=== SUMMARY"));

describe("MCP conformance 0.1.13", () => {
  let s: RunningServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it("product server: only fixture-dependent scenarios fail (baseline)", async () => {
    s = await startServer({ fixtures: false });
    const r = await runConformance(s.url, ["--suite", "all", "--expected-failures", join(import.meta.dirname, "conformance-baseline.yml")], 150_000);
    expect(r.timedOut).toBe(false);
    expect(r.code, summary(r.output)).toBe(0);
    expect(r.output).toMatch(/✓ dns-rebinding-protection: 2 passed, 0 failed/);
    expect(r.output).toMatch(/✓ tools-list: 1 passed, 0 failed/);
  }, 170_000);

  it("fixture server: all 44 checks pass with no baseline", async () => {
    s = await startServer({ fixtures: true });
    const r = await runConformance(s.url, ["--suite", "all"], 150_000);
    expect(r.timedOut).toBe(false);
    expect(r.code, summary(r.output)).toBe(0);
    expect(r.output).toMatch(/Total: 44 passed, 0 failed/);
  }, 170_000);
});
