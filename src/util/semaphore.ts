/**
 * A counting semaphore with an optional bounded waiting line. Waiters leave the line when their
 * AbortSignal fires (FM_ERR_CANCELLED); a full line refuses at once with the caller's error, so
 * overload is answered quickly instead of queueing forever.
 */
import { FramemindError } from "../errors.js";

export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(
    public limit: number,
    private readonly maxQueued = Number.POSITIVE_INFINITY,
    private readonly whenFull: () => Error = () => new FramemindError("FM_ERR_INTERNAL", { reason: "waiting line full" }),
  ) {}

  async acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new FramemindError("FM_ERR_CANCELLED");
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    if (this.waiters.length >= this.maxQueued) throw this.whenFull();
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

  release(): void {
    this.active--;
    this.waiters.shift()?.();
  }

  /** Runs fn inside a slot. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  get queued(): number {
    return this.waiters.length;
  }

  get running(): number {
    return this.active;
  }
}
