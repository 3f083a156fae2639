/**
 * The MCP limit layer: a process-wide gate on concurrent tool calls (ffmpeg and the model are the
 * scarce resources, not sessions), with a bounded waiting line so overload is refused quickly
 * with a tool error instead of queueing forever.
 */
import { FramemindError } from "../errors.js";

/** Anything that runs work inside a concurrency slot (the HTTP service passes its WorkQueue). */
export interface Gate {
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** The gate of a standalone MCP server (stdio, or HTTP without the service's queue). */
export class CallGate implements Gate {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly maxConcurrent: number, readonly maxQueued: number) {}

  /** Runs fn inside a slot; an abort while waiting leaves the line without running fn. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  stats(): { active: number; queued: number } {
    return { active: this.active, queued: this.waiters.length };
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new FramemindError("FM_ERR_CANCELLED");
    if (this.active < this.maxConcurrent) {
      this.active++;
      return;
    }
    if (this.waiters.length >= this.maxQueued) {
      throw new FramemindError("FM_ERR_SERVER_BUSY", { running: this.active, queued: this.waiters.length, retryAfter: 5 });
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(go);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new FramemindError("FM_ERR_CANCELLED"));
      };
      const go = () => {
        signal?.removeEventListener("abort", onAbort);
        this.active++;
        resolve();
      };
      this.waiters.push(go);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private release(): void {
    this.active--;
    this.waiters.shift()?.();
  }
}
