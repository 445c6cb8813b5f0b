/**
 * Gathers items from many concurrent jobs into batches: a batch is cut when it holds `maxItems`, or `maxWaitMs` after
 * its first item arrived, and batches are flushed one at a time (one commit in flight per process, so a worker does
 * not contend with itself for Dropbox's write lock). Each `add` resolves with its item's own result.
 *
 * Why in-process batching: BullMQ (open source) hands a worker one job at a time; running the worker with a
 * concurrency of two batches lets it hold a batch's worth of jobs open while they wait here, and every job still
 * succeeds, fails or is rate-limited on its own.
 */
export interface BatcherOptions<I, O> {
  maxItems: number;
  maxWaitMs: number;
  /** One result per item, in order. A throw fails every item of the batch with that error. */
  flush(items: I[]): Promise<O[]>;
}

interface Waiting<I, O> {
  item: I;
  resolve(result: O): void;
  reject(err: unknown): void;
}

export class UploadBatcher<I, O> {
  private current: Array<Waiting<I, O>> = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private inFlight = 0;

  constructor(private readonly options: BatcherOptions<I, O>) {
    if (!Number.isSafeInteger(options.maxItems) || options.maxItems < 1) throw new Error(`maxItems must be a positive integer, got ${options.maxItems}`);
  }

  /** Items waiting for their batch to be cut, plus items of batches cut but not yet flushed. */
  get pending(): number {
    return this.current.length + this.inFlight;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.current.push({ item, resolve, reject });
      if (this.current.length >= this.options.maxItems) this.cut();
      else this.timer ??= setTimeout(() => this.cut(), this.options.maxWaitMs);
    });
  }

  /** Cuts the batch being gathered now and waits until everything added so far has been flushed. */
  async drain(): Promise<void> {
    this.cut();
    await this.flushing;
  }

  private cut(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.current.length === 0) return;
    const batch = this.current;
    this.current = [];
    this.inFlight += batch.length;
    this.flushing = this.flushing.then(() => this.run(batch));
  }

  private async run(batch: Array<Waiting<I, O>>): Promise<void> {
    try {
      const results = await this.options.flush(batch.map((w) => w.item));
      batch.forEach((w, i) => {
        if (i < results.length) w.resolve(results[i] as O);
        else w.reject(new Error(`batch flush returned ${results.length} results for ${batch.length} items`));
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.inFlight -= batch.length;
    }
  }
}
