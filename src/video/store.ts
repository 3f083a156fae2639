/**
 * Per-video, per-size frame store: every frame of a short video decoded once (in-process libav)
 * at one output size, then any request at that size is a lookup by presentation time. Meant for
 * training, where each rollout asks a few frames of the same short videos many times at a few
 * rungs (issue #7: "decode each training video once per rung"). Off by default: enableFrameStore().
 * Lookups follow getFrames' semantics: exact = the last frame with pts <= t (the first frame before
 * it); tolerant = the last keyframe at or before t minus half a frame, as the CLI's seek lands.
 */
import { LruCache } from "./cache.js";
import { nativeAvailable, nativeDecodeAll } from "./native.js";
import type { Size } from "./resize.js";

export interface FrameStoreOptions {
  /** Only videos up to this long are stored whole (seconds; default 120). */
  maxDurationS?: number;
  /** Bytes of decoded frames kept over all stored videos (LRU; default 1 GiB). */
  maxBytes?: number;
  /** Per-decode timeout (default 120 s). */
  timeoutMs?: number;
}

/** One video's frames at one size, in presentation order. */
export interface StoredVideo {
  width: number;
  height: number;
  /** Seconds, file timeline, ascending. */
  pts: number[];
  keys: boolean[];
  frames: Buffer[];
  bytes: number;
}

interface StoreConfig {
  maxDurationS: number;
  maxBytes: number;
  timeoutMs: number;
}

let config: StoreConfig | undefined;
let videos: LruCache<StoredVideo> | undefined;
const pending = new Map<string, Promise<StoredVideo>>();
const counters = { decodes: 0, lookups: 0, decodeMs: 0 };

/** Turns the store on (options) or off (false); either empties it and zeroes its counters. */
export function enableFrameStore(opts: FrameStoreOptions | false = {}): void {
  Object.assign(counters, { decodes: 0, lookups: 0, decodeMs: 0 });
  if (opts === false) {
    config = undefined;
    videos = undefined;
    return;
  }
  config = { maxDurationS: opts.maxDurationS ?? 120, maxBytes: opts.maxBytes ?? 1024 ** 3, timeoutMs: opts.timeoutMs ?? 120_000 };
  videos = new LruCache<StoredVideo>({ maxBytes: config.maxBytes, sizeOf: (v) => v.bytes + 64 * v.pts.length });
}

export function frameStoreStats(): { enabled: boolean; decodes: number; lookups: number; decodeMs: number; entries: number; bytes: number; maxBytes: number } {
  const s = videos?.stats();
  return { enabled: config !== undefined, ...counters, entries: s?.entries ?? 0, bytes: s?.bytes ?? 0, maxBytes: s?.maxBytes ?? 0 };
}

/** Whether a video of this duration and frame count fits the store (and the store is usable). */
export function storeAccepts(duration: number, frameCount: number, size: Size): boolean {
  if (!config || !nativeAvailable()) return false;
  return duration <= config.maxDurationS && frameCount * size.width * size.height * 3 <= config.maxBytes;
}

/** The stored frames of a video at a size, decoding them on first use (concurrent callers share it). */
export async function storedVideo(key: string, path: string, size: Size, rotation: number, frameCount: number, signal?: AbortSignal): Promise<StoredVideo> {
  const cfg = config;
  const lru = videos;
  if (!cfg || !lru) throw new Error("the frame store is off");
  const hit = lru.get(key);
  if (hit) return hit;
  let p = pending.get(key);
  if (!p) {
    const t0 = performance.now();
    // Room for a frame count estimate that is off (bogus container durations) without an unbounded decode.
    const maxFrames = Math.max(16, Math.floor(cfg.maxBytes / (size.width * size.height * 3)), Math.ceil(frameCount * 1.5));
    p = nativeDecodeAll({ path, width: size.width, height: size.height, rotation, maxFrames, timeoutMs: cfg.timeoutMs, signal })
      .then((r) => {
        const order = r.pts.map((_, k) => k).sort((a, b) => r.pts[a]! - r.pts[b]!);
        const v: StoredVideo = {
          width: size.width,
          height: size.height,
          pts: order.map((k) => r.pts[k]!),
          keys: order.map((k) => r.keys[k]!),
          frames: order.map((k) => r.frames[k]!),
          bytes: r.frames.reduce((n, f) => n + f.length, 0),
        };
        counters.decodes++;
        counters.decodeMs += performance.now() - t0;
        lru.set(key, v);
        return v;
      })
      .finally(() => pending.delete(key));
    pending.set(key, p);
  }
  return p;
}

/** Index of the frame for `abs` (file timeline): exact = shown at abs; tolerant = keyframe a seek to abs - halfFrame lands on. */
export function lookupFrame(v: StoredVideo, abs: number, mode: "exact" | "tolerant", frameDur: number): number {
  counters.lookups++;
  const eps = 1e-4;
  const limit = mode === "exact" ? abs + eps : abs - frameDur / 2 + eps;
  // Binary search: last k with pts[k] <= limit.
  let lo = 0;
  let hi = v.pts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (v.pts[mid]! <= limit) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (mode === "tolerant") while (found > 0 && !v.keys[found]) found--;
  return Math.max(0, found);
}
