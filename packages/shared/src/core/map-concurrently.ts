/**
 * `fn` over every item with at most `limit` calls in flight; results in the items' order. The first rejection
 * rejects the whole (callers that want per-item failures catch inside `fn`).
 */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}

/**
 * A budget of units held at once (bytes of request bodies, renders in flight), granted in arrival order: a request
 * larger than the whole budget still goes, alone, so nothing waits forever.
 */
export class Budget {
  private inUse = 0;
  private readonly waiting: Array<{ bytes: number; grant: () => void }> = [];

  constructor(readonly capacity: number) {}

  /** Runs `fn` holding `units` of the budget. */
  async use<T>(units: number, fn: () => Promise<T>): Promise<T> {
    await this.acquire(units);
    try {
      return await fn();
    } finally {
      this.release(units);
    }
  }

  async acquire(bytes: number): Promise<void> {
    if (this.fits(bytes) && this.waiting.length === 0) {
      this.inUse += bytes;
      return;
    }
    await new Promise<void>((grant) => this.waiting.push({ bytes, grant }));
  }

  release(bytes: number): void {
    this.inUse -= bytes;
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
      const { bytes: granted, grant } = this.waiting.shift()!;
      this.inUse += granted;
      grant();
    }
  }

  private fits(bytes: number): boolean {
    return this.inUse === 0 || this.inUse + bytes <= this.capacity;
  }
}
