// A bounded cache with a time to live: at most `capacity` entries, the least recently used evicted first, and
// an entry older than `ttlMs` is a miss. Map iteration order is insertion order, so re-inserting on every hit
// keeps the least recently used entry first.

export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; until: number }>();

  constructor(
    readonly capacity: number,
    readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    if (!(capacity >= 1)) throw new Error('LruCache capacity must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry if it is present and younger than the TTL; `found` tells a cached `undefined` from a miss. */
  lookup(key: K): { found: true; value: V } | { found: false } {
    const hit = this.entries.get(key);
    if (!hit) return { found: false };
    this.entries.delete(key);
    if (hit.until <= this.clock()) return { found: false };
    this.entries.set(key, hit);
    return { found: true, value: hit.value };
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, { value, until: this.clock() + this.ttlMs });
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as K;
      this.entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
