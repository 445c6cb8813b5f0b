import type pg from 'pg';
import { recordItemOutcomes, type ItemOutcome, type ItemOutcomeEntry, type ItemStatus } from './run-store.js';

/** Most outcomes one statement records: a few hundred rows keep it short, whatever the concurrency. */
const MAX_OUTCOMES_A_STATEMENT = 200;

/**
 * Records run items' outcomes for jobs that finish many at a time (a preload's file jobs): while one statement is in
 * flight, outcomes that arrive wait for it and go together in the next, so 20 jobs finishing together cost a few
 * statements and commits instead of 20. Nothing waits when nothing is in flight. Each caller's promise settles once
 * its own outcome is committed (or failed with the statement's error), so a job that awaits it still completes only
 * after its item is recorded, as with recordItemOutcome.
 */
export class ItemOutcomeRecorder {
  private waiting: Array<{ entry: ItemOutcomeEntry; settle: (previous: Promise<ItemStatus | undefined>) => void }> = [];
  private inFlight = false;

  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  /** recordItemOutcome, grouped with the outcomes that arrive meanwhile; resolves with the item's status before. */
  record(runId: string, itemKey: string, outcome: ItemOutcome): Promise<ItemStatus | undefined> {
    return new Promise((resolve) => {
      this.waiting.push({ entry: { runId, itemKey, outcome }, settle: resolve });
      if (!this.inFlight) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight = true;
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, MAX_OUTCOMES_A_STATEMENT);
      const recorded = recordItemOutcomes(this.db, group.map((g) => g.entry));
      // Each caller gets its own promise: one that rejects fails that caller's job, not this loop.
      group.forEach((g, i) => g.settle(recorded.then((previous) => previous[i])));
      await recorded.catch(() => undefined);
    }
    this.inFlight = false;
  }
}
