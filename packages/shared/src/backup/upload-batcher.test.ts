import { describe, expect, it } from 'vitest';
import { UploadBatcher } from './upload-batcher.js';

describe('UploadBatcher', () => {
  it('commits a full batch at once, without waiting for the window', async () => {
    const flushed: number[][] = [];
    const batcher = new UploadBatcher<number, string>({
      maxItems: 3,
      maxWaitMs: 60_000,
      flush: async (items) => {
        flushed.push(items);
        return items.map((i) => `done ${i}`);
      },
    });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => batcher.add(i)));
    expect(results).toEqual(['done 1', 'done 2', 'done 3', 'done 4', 'done 5', 'done 6']);
    expect(flushed).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it('commits a partial batch when the window closes', async () => {
    const flushed: number[][] = [];
    const batcher = new UploadBatcher<number, number>({ maxItems: 1000, maxWaitMs: 20, flush: async (items) => (flushed.push(items), items) });
    await expect(Promise.all([batcher.add(7), batcher.add(8)])).resolves.toEqual([7, 8]);
    expect(flushed).toEqual([[7, 8]]);
  });

  it('flushes one batch at a time, in order', async () => {
    let running = 0;
    let maxRunning = 0;
    const order: number[] = [];
    const batcher = new UploadBatcher<number, number>({
      maxItems: 2,
      maxWaitMs: 60_000,
      flush: async (items) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(...items);
        running -= 1;
        return items;
      },
    });
    await Promise.all([1, 2, 3, 4, 5, 6].map((i) => batcher.add(i)));
    expect(maxRunning).toBe(1);
    expect(order).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('fails every item of a batch whose flush throws, and keeps going with the next batch', async () => {
    let calls = 0;
    const batcher = new UploadBatcher<number, number>({
      maxItems: 2,
      maxWaitMs: 60_000,
      flush: async (items) => {
        calls += 1;
        if (calls === 1) throw new Error('commit refused');
        return items;
      },
    });
    const first = [batcher.add(1), batcher.add(2)];
    const second = [batcher.add(3), batcher.add(4)];
    await expect(first[0]).rejects.toThrow('commit refused');
    await expect(first[1]).rejects.toThrow('commit refused');
    await expect(Promise.all(second)).resolves.toEqual([3, 4]);
  });

  it('drain commits what is gathered without waiting for the window', async () => {
    const batcher = new UploadBatcher<number, number>({ maxItems: 1000, maxWaitMs: 3_600_000, flush: async (items) => items });
    const pending = batcher.add(1);
    expect(batcher.pending).toBe(1);
    await batcher.drain();
    await expect(pending).resolves.toBe(1);
    expect(batcher.pending).toBe(0);
  });
});
