/** A set that remembers the most recent `capacity` ids (insertion order), forgetting the oldest. */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(
    private readonly capacity: number,
    initial: Iterable<string> = [],
  ) {
    for (const id of initial) this.add(id);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.ids.has(id)) return;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      // Sets iterate in insertion order: the first value is the oldest.
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
  }

  toArray(): string[] {
    return [...this.ids];
  }

  get size(): number {
    return this.ids.size;
  }
}
