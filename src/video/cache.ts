/**
 * Content-addressed caches: an in-memory LRU with a byte cap, and an optional on-disk store so
 * training and evaluation reuse decoded frames across runs. Keys include the file identity
 * (device, inode, size, mtime, path) and the request, so a rewritten file never hits stale data.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface LruOptions<V> {
  maxBytes: number;
  sizeOf: (v: V) => number;
}

export class LruCache<V> {
  private readonly map = new Map<string, { value: V; size: number }>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly opts: LruOptions<V>) {}

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Re-insert to mark as most recently used.
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: string, value: V): void {
    const size = this.opts.sizeOf(value);
    if (size > this.opts.maxBytes) return;
    const old = this.map.get(key);
    if (old) {
      this.bytes -= old.size;
      this.map.delete(key);
    }
    this.map.set(key, { value, size });
    this.bytes += size;
    for (const [k, e] of this.map) {
      if (this.bytes <= this.opts.maxBytes) break;
      this.map.delete(k);
      this.bytes -= e.size;
    }
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  stats(): { entries: number; bytes: number; maxBytes: number; hits: number; misses: number } {
    return { entries: this.map.size, bytes: this.bytes, maxBytes: this.opts.maxBytes, hits: this.hits, misses: this.misses };
  }
}

export function cacheKey(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

/** A folder of blobs keyed by hash; writes are atomic (tmp + rename). */
export class DiskStore {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, key.slice(0, 2), key);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.file(key));
    } catch {
      return undefined;
    }
  }

  async set(key: string, data: Buffer): Promise<void> {
    const f = this.file(key);
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
    const tmp = `${f}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, f);
  }
}
