/**
 * The MCP limit layer: a process-wide gate on concurrent tool calls (ffmpeg and the model are the
 * scarce resources, not sessions), with a bounded waiting line so overload is refused quickly
 * with a tool error instead of queueing forever.
 */
import { FramemindError } from "../errors.js";
import { Semaphore } from "../util/semaphore.js";

/** Anything that runs work inside a concurrency slot (the HTTP service passes its WorkQueue). */
export interface Gate {
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** The gate of a standalone MCP server (stdio, or HTTP without the service's queue). */
export class CallGate implements Gate {
  private readonly slots: Semaphore;

  constructor(readonly maxConcurrent: number, readonly maxQueued: number) {
    this.slots = new Semaphore(maxConcurrent, maxQueued, () => new FramemindError("FM_ERR_SERVER_BUSY", { running: this.slots.running, queued: this.slots.queued, retryAfter: 5 }));
  }

  /** Runs fn inside a slot; an abort while waiting leaves the line without running fn. */
  run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.slots.run(fn, signal);
  }

  stats(): { active: number; queued: number } {
    return { active: this.slots.running, queued: this.slots.queued };
  }
}
