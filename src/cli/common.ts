/**
 * Shared CLI plumbing: flag parsing (node:util parseArgs, then zod), JSON/error printing.
 * Errors print `{"error": {"code", "message"}}` on stdout and exit 2.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { z } from "zod";
import { FramemindError, toCliError } from "../errors.js";

export interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

export type Flags = NonNullable<ParseArgsConfig["options"]>;

export function parseFlags<T extends Flags>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason: `${(e as Error).message}\nusage: ${usage}` });
  }
}

/** Validates parsed flags with a zod schema; the error lists every bad flag. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const reason = r.error.issues.map((i) => `${i.path.join(".") || "arguments"}: ${i.message}`).join("; ");
    throw new FramemindError("FM_ERR_ARGS_INVALID", { reason });
  }
  return r.data;
}

/** "a,b,c" -> ["a","b","c"] (empty parts dropped). */
export function csv(s: string | undefined): string[] | undefined {
  return s === undefined ? undefined : s.split(",").map((x) => x.trim()).filter((x) => x.length > 0);
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Prints the error in the CLI shape and returns exit code 2. */
export function reportError(e: unknown): number {
  const body = toCliError(e);
  if (body.error.code === "FM_ERR_INTERNAL" && process.env.FRAMEMIND_DEBUG) console.error(e);
  printJson(body);
  return 2;
}

/** Runs a command body; every failure becomes the CLI error shape. */
export async function guarded(fn: () => Promise<number | void>): Promise<number> {
  try {
    return (await fn()) ?? 0;
  } catch (e) {
    return reportError(e);
  }
}

/** A stderr progress line with ETA (plain lines when stderr is not a TTY). */
export class Progress {
  private readonly t0 = performance.now();
  private lastPrint = 0;
  constructor(private readonly label: string, private readonly total: number) {}
  tick(done: number, note = ""): void {
    const now = performance.now();
    const tty = process.stderr.isTTY;
    if (done < this.total && now - this.lastPrint < (tty ? 100 : 5000)) return;
    this.lastPrint = now;
    const el = (now - this.t0) / 1000;
    const eta = done > 0 ? (el / done) * (this.total - done) : 0;
    const width = 24;
    const fill = Math.round((done / Math.max(1, this.total)) * width);
    const line = `${this.label} [${"#".repeat(fill)}${".".repeat(width - fill)}] ${done}/${this.total} ${el.toFixed(0)}s elapsed, ETA ${eta.toFixed(0)}s ${note}`;
    if (tty) process.stderr.write(`\r${line}\x1b[K${done >= this.total ? "\n" : ""}`);
    else process.stderr.write(line + "\n");
  }
}

/** Entry point of a bin: the exit code of `main`, or 1 (with the stack) for a bug that escaped. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
