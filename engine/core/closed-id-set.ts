// A set of positive integer order ids in one Float64Array: open addressing, linear probing, and
// backward-shift deletion (no tombstones, so lookups stay short however long the engine runs). It holds
// the recently closed ids of a market (a bounded number), apart from the small map of live orders, so
// both stay compact: a lookup is one hash and, almost always, one cache line.

const EMPTY = 0; // ids are positive

export class ClosedIdSet {
  private keys: Float64Array;
  private mask: number;
  private count = 0;
  /** The table grows (doubling) up to this capacity, which keeps the load at or below ~40 % when full. */
  private readonly maxCapacity: number;

  /** `maxSize` entries at most. Starts small, so an idle market costs little memory. */
  constructor(readonly maxSize: number) {
    let cap = 16;
    while (cap < maxSize * 2.5) cap <<= 1;
    this.maxCapacity = cap;
    this.keys = new Float64Array(Math.min(cap, 1024));
    this.mask = this.keys.length - 1;
  }

  get size(): number {
    return this.count;
  }

  private home(id: number): number {
    // Low and high 32 bits mixed (ids may exceed 2^32), then a multiplicative scramble.
    const h = Math.imul((id >>> 0) ^ Math.imul((id / 4294967296) >>> 0, 0x27d4eb2d), 0x9e3779b1);
    return (h ^ (h >>> 16)) & this.mask;
  }

  has(id: number): boolean {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.home(id); ; i = (i + 1) & mask) {
      const k = keys[i];
      if (k === id) return true;
      if (k === EMPTY) return false;
    }
  }

  add(id: number): void {
    if (!(id > 0)) throw new RangeError(`closed order id must be positive: ${id}`);
    const keys = this.keys;
    let i = this.home(id);
    for (; keys[i] !== EMPTY; i = (i + 1) & this.mask) if (keys[i] === id) return;
    if (this.count >= this.maxSize) throw new RangeError('closed-id set is full');
    if ((this.count + 1) * 2.5 > keys.length && keys.length < this.maxCapacity) {
      this.grow();
      this.add(id);
      return;
    }
    keys[i] = id;
    this.count++;
  }

  /** Doubles the table and re-inserts every id at its new home. */
  private grow(): void {
    const old = this.keys;
    this.keys = new Float64Array(old.length * 2);
    this.mask = this.keys.length - 1;
    for (let j = 0; j < old.length; j++) {
      const id = old[j];
      if (id === EMPTY) continue;
      let i = this.home(id);
      while (this.keys[i] !== EMPTY) i = (i + 1) & this.mask;
      this.keys[i] = id;
    }
  }

  delete(id: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(id);
    for (; keys[i] !== id; i = (i + 1) & mask) if (keys[i] === EMPTY) return;
    // Shift later members of the probe run back into the hole when the hole lies on their path.
    for (let j = (i + 1) & mask; keys[j] !== EMPTY; j = (j + 1) & mask) {
      const h = this.home(keys[j]);
      const onPath = i <= j ? h <= i || h > j : h <= i && h > j;
      if (onPath) {
        keys[i] = keys[j];
        i = j;
      }
    }
    keys[i] = EMPTY;
    this.count--;
  }
}
