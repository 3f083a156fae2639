/**
 * Runs @modelcontextprotocol/conformance 0.1.13 (server mode) against a URL, offline, with a
 * bounded time; returns the exit code and the per-scenario summary it printed.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

const BIN = join(process.cwd(), "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");

export interface ConformanceRun {
  code: number | null;
  output: string;
  timedOut: boolean;
}

export function runConformance(url: string, args: string[] = [], timeoutMs = 120_000): Promise<ConformanceRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "server", "--url", url, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => (output += b.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}
