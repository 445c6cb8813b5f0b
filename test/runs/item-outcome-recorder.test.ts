import { describe, expect, it } from 'vitest';
import { createOrReuseRun, ItemOutcomeRecorder, markItemRunning, runSummary } from '@ferry/shared/runs';
import { createTestDatabase } from '../support/database.js';

describe('ItemOutcomeRecorder', () => {
  it('records outcomes that arrive together in fewer statements, each caller getting its own item\'s previous status', async () => {
    const db = await createTestDatabase();
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `file-${i}`);
      const { runId } = await createOrReuseRun(db.pool, 'flat_files', { test: 'recorder' }, keys);
      await markItemRunning(db.pool, runId, 'file-3', 1);
      let statements = 0;
      const counting = { query: ((...args: Parameters<typeof db.pool.query>) => (statements++, db.pool.query(...args))) as typeof db.pool.query };
      const recorder = new ItemOutcomeRecorder(counting);
      const previous = await Promise.all(keys.map((key, i) =>
        recorder.record(runId, key, { status: 'complete', records: i, details: { n: i, quote: 'a "quoted" \\ value' } })));
      expect(previous[3]).toBe('running');
      expect(previous.filter((p) => p === 'queued')).toHaveLength(29);
      // The first goes alone; the 29 that arrived while it was in flight go in the next statement.
      expect(statements).toBe(2);
      const summary = (await runSummary(db.pool, runId))!;
      expect(summary.complete).toBe(30);
      expect(summary.details.find((d) => d.item === 'file-7')).toMatchObject({ records: 7, details: { n: 7, quote: 'a "quoted" \\ value' } });
      // An item the run does not have: undefined, as recordItemOutcome says.
      expect(await recorder.record(runId, 'no-such-file', { status: 'complete' })).toBeUndefined();
    } finally {
      await db.drop();
    }
  });

  it('fails only the callers of a statement that failed, and keeps recording afterwards', async () => {
    const db = await createTestDatabase();
    try {
      const { runId } = await createOrReuseRun(db.pool, 'flat_files', { test: 'recorder-failure' }, ['a', 'b']);
      let failNext = true;
      const flaky = {
        query: ((...args: Parameters<typeof db.pool.query>) => {
          if (failNext) {
            failNext = false;
            return Promise.reject(new Error('connection terminated'));
          }
          return db.pool.query(...args);
        }) as typeof db.pool.query,
      };
      const recorder = new ItemOutcomeRecorder(flaky);
      await expect(recorder.record(runId, 'a', { status: 'complete' })).rejects.toThrow('connection terminated');
      expect(await recorder.record(runId, 'b', { status: 'complete' })).toBe('queued');
      expect(await recorder.record(runId, 'a', { status: 'complete' })).toBe('queued');
    } finally {
      await db.drop();
    }
  });
});
