import { Job, type Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, createLogger, loadConfig, type FerryConfig } from '@ferry/shared/core';
import { JobName, JobProducer, QueueName, type RunningWorkers } from '@ferry/shared/jobs';
import { collectionStatus } from '../../services/dashboard/src/admin/collection-handlers.js';
import { COLLECTION_SCHEDULERS, ScheduleError, upsertCollectionSchedules } from '../../services/dashboard/src/scheduler/collection-schedules.js';
import { RUN_PRUNING_SCHEDULER, runPruningEveryMs, upsertRunPruning } from '../../services/dashboard/src/scheduler/run-pruning.js';
import { startScheduleWorker, type PruneRunsResult, type ScheduledCollectionResult } from '../../services/dashboard/src/scheduler/schedule-worker.js';
import { createOrReuseRun, type RunRanking } from '@ferry/shared/runs';
import { startBinanceArchiveEmulator, type ArchiveEmulator } from '@ferry/emulators/binance-archive';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { waitFor } from '../support/wait.js';

const NOW = Date.UTC(2026, 9, 20, 5, 30);

describe('collection schedules: configuration', () => {
  it('defaults to every 6 hours and a weekly gap fill', () => {
    expect(loadConfig({}).schedules).toEqual({
      collection: '0 */6 * * *', gapFill: '0 3 * * 0', includeDelisted: false,
      explicit: { collection: false, gapFill: false, includeDelisted: false },
    });
  });

  it('turns off a schedule with off', () => {
    expect(loadConfig({ COLLECTION_SCHEDULE: 'off', GAP_FILL_SCHEDULE: 'off' }).schedules)
      .toEqual({ collection: null, gapFill: null, includeDelisted: false, explicit: { collection: true, gapFill: true, includeDelisted: false } });
  });

  it('takes delisted coins into scheduled collections with SCHEDULE_INCLUDE_DELISTED, refusing what is not true or false', () => {
    expect(loadConfig({ SCHEDULE_INCLUDE_DELISTED: 'true' }).schedules).toMatchObject({ includeDelisted: true, explicit: { includeDelisted: true } });
    expect(loadConfig({ SCHEDULE_INCLUDE_DELISTED: 'false' }).schedules).toMatchObject({ includeDelisted: false, explicit: { includeDelisted: true } });
    expect(() => loadConfig({ SCHEDULE_INCLUDE_DELISTED: 'sometimes' })).toThrow(/SCHEDULE_INCLUDE_DELISTED.*true or false/);
  });

  it.each([['COLLECTION_SCHEDULE', '61 * * * *'], ['GAP_FILL_SCHEDULE', 'weekly'], ['COLLECTION_SCHEDULE', '* *']])(
    'refuses %s=%s, naming the variable', (name, value) => {
      expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}.*cron expression`));
    });
});

describe('collection schedules: BullMQ job schedulers and the schedule worker', () => {
  let h: CryptoHarness;
  let schedules: Queue;
  let worker: RunningWorkers | undefined;
  let producer: JobProducer;
  const logger = createLogger({ name: 'test', level: 'silent' });

  /** A dashboard's configuration with these schedules, set explicitly unless `explicit` is false. */
  const configWith = (collection: string | null, gapFill: string | null, explicit = true): FerryConfig =>
    ({ ...h.config, schedules: { collection, gapFill, includeDelisted: false, explicit: { collection: explicit, gapFill: explicit, includeDelisted: false } } });
  /** Default schedules, SCHEDULE_INCLUDE_DELISTED as given (undefined: not set), with ARCHIVE_URL set or not. */
  const configDelisted = (includeDelisted: boolean | undefined, archive = true): FerryConfig => ({
    ...h.config,
    archive: { ...h.config.archive, explicit: archive },
    schedules: { collection: '0 */6 * * *', gapFill: '0 3 * * 0', includeDelisted: includeDelisted ?? false,
      explicit: { collection: false, gapFill: false, includeDelisted: includeDelisted !== undefined } },
  });

  beforeAll(async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, startWorker: false });
    producer = new JobProducer({ connection: h.redis, prefix: h.prefix, attempts: 3 });
    schedules = producer.queue(QueueName.Schedules);
  }, 60_000);
  afterAll(async () => {
    await worker?.close(0);
    await producer.close();
    await h.close();
  });

  it('leaves one schedule per collection however many replicas register them, and status shows the next run', async () => {
    const config = configWith('0 */6 * * *', '0 3 * * 0');
    await Promise.all([upsertCollectionSchedules(producer, config), upsertCollectionSchedules(producer, config)]);
    const found = await schedules.getJobSchedulers();
    expect(found.map((s) => [s.key, s.pattern, s.name]).sort()).toEqual([
      ['collection-forward', '0 */6 * * *', JobName.ScheduledCollection],
      ['collection-gap-fill', '0 3 * * 0', JobName.ScheduledCollection],
    ]);
    const forwardNext = found.find((s) => s.key === 'collection-forward')!.next!;
    expect(new Date(forwardNext).getUTCHours() % 6).toBe(0);
    expect(forwardNext - Date.now()).toBeLessThanOrEqual(6 * 3_600_000);
    const status = await collectionStatus({ body: undefined, query: new URLSearchParams() },
      { config, db: h.db.pool, redis: h.redis, probeRedis: h.redis, queues: [schedules], logger, version: 'test' });
    expect(status.body).toMatchObject({ next_run_time: new Date(Math.min(...found.map((s) => s.next!))).toISOString(), scheduler_paused: false });

    // Paused, nothing fires: status says so rather than promising the next run.
    await schedules.pause();
    try {
      const paused = await collectionStatus({ body: undefined, query: new URLSearchParams() },
        { config, db: h.db.pool, redis: h.redis, probeRedis: h.redis, queues: [schedules], logger, version: 'test' });
      expect(paused.body).toMatchObject({ next_run_time: null, scheduler_paused: true });
    } finally {
      await schedules.resume();
    }
  });

  it('removes a schedule that is turned off', async () => {
    await upsertCollectionSchedules(producer, configWith('0 */6 * * *', null));
    expect((await schedules.getJobSchedulers()).map((s) => s.key)).toEqual([COLLECTION_SCHEDULERS[0].id]);
    await upsertCollectionSchedules(producer, configWith(null, null));
    expect(await schedules.getJobSchedulersCount()).toBe(0);
  });

  describe('several dashboards share one set of schedules', () => {
    const patterns = async () => Object.fromEntries((await schedules.getJobSchedulers()).map((s) => [s.key, s.pattern]));
    beforeEach(async () => {
      for (const { id } of COLLECTION_SCHEDULERS) await schedules.removeJobScheduler(id);
      await (await schedules.client).del(schedules.toKey('ferry-explicit-schedules'));
    });

    it('one without the setting keeps what another set explicitly, and warns naming both', async () => {
      expect(await upsertCollectionSchedules(producer, configWith('0 * * * *', '0 3 * * 0'))).toEqual([]);
      const notices = await upsertCollectionSchedules(producer, configWith('0 */6 * * *', '0 3 * * 0', false));
      expect(await patterns()).toEqual({ 'collection-forward': '0 * * * *', 'collection-gap-fill': '0 3 * * 0' });
      expect(notices).toEqual([
        'COLLECTION_SCHEDULE is not set here (default "0 */6 * * *"): keeping the shared schedule "0 * * * *"; set COLLECTION_SCHEDULE to change it',
      ]);
    });

    it('one without the setting leaves a schedule that was turned off explicitly off', async () => {
      await upsertCollectionSchedules(producer, configWith(null, '0 3 * * 0'));
      const notices = await upsertCollectionSchedules(producer, configWith('0 */6 * * *', '0 3 * * 0', false));
      expect(await patterns()).toEqual({ 'collection-gap-fill': '0 3 * * 0' });
      expect(notices[0]).toBe('COLLECTION_SCHEDULE is not set here (default "0 */6 * * *"): keeping the shared schedule off; set COLLECTION_SCHEDULE to change it');
    });

    it('one without the setting creates the default when nothing is shared yet', async () => {
      expect(await upsertCollectionSchedules(producer, configWith('0 */6 * * *', '0 3 * * 0', false))).toEqual([]);
      expect(await patterns()).toEqual({ 'collection-forward': '0 */6 * * *', 'collection-gap-fill': '0 3 * * 0' });
    });

    describe('SCHEDULE_INCLUDE_DELISTED', () => {
      const dataOf = async () => Object.fromEntries((await schedules.getJobSchedulers()).map((s) => [s.key, s.template?.data]));

      it('puts include-delisted into both schedules\' jobs', async () => {
        expect(await upsertCollectionSchedules(producer, configDelisted(true))).toEqual([]);
        expect(await dataOf()).toEqual({
          'collection-forward': { mode: 'forward', includeDelisted: true },
          'collection-gap-fill': { mode: 'gap_fill', includeDelisted: true },
        });
      });

      it('one without the setting keeps what another set explicitly; an explicit false replaces it; both warn naming both', async () => {
        await upsertCollectionSchedules(producer, configDelisted(true));
        expect(await upsertCollectionSchedules(producer, configDelisted(undefined))).toEqual([
          'SCHEDULE_INCLUDE_DELISTED is not set here (default false): keeping the shared schedules\' setting true; set SCHEDULE_INCLUDE_DELISTED to change it',
        ]);
        expect(Object.values(await dataOf()).every((d) => d?.includeDelisted === true)).toBe(true);
        expect(await upsertCollectionSchedules(producer, configDelisted(false))).toEqual([
          'SCHEDULE_INCLUDE_DELISTED=false replaces the shared schedules\' setting true (set by another dashboard or an earlier start)',
        ]);
        expect(await dataOf()).toEqual({ 'collection-forward': { mode: 'forward' }, 'collection-gap-fill': { mode: 'gap_fill' } });
      });

      it('refuses it where the dashboard cannot use the archive, naming the variable and why, and changes nothing', async () => {
        await upsertCollectionSchedules(producer, configDelisted(undefined));
        // The harness points EXCHANGE_URL at the emulator; without ARCHIVE_URL, auto does not use the real archive.
        const refused = upsertCollectionSchedules(producer, configDelisted(true, false));
        await expect(refused).rejects.toThrow(ScheduleError);
        await expect(refused).rejects.toThrow('SCHEDULE_INCLUDE_DELISTED=true: delisted coins\' history is only in the archive\'s files ' +
          '(REST does not serve coins the exchange no longer lists), and source auto does not use it while EXCHANGE_URL points binance ' +
          'elsewhere: set ARCHIVE_URL too');
        expect(await dataOf()).toEqual({ 'collection-forward': { mode: 'forward' }, 'collection-gap-fill': { mode: 'gap_fill' } });
        // Not remembered: a dashboard without the setting still follows the schedules as they are.
        expect(await upsertCollectionSchedules(producer, configDelisted(undefined))).toEqual([]);
      });
    });

    it('an explicit setting, off included, replaces a different shared schedule and warns naming both', async () => {
      await upsertCollectionSchedules(producer, configWith('0 */6 * * *', '0 3 * * 0'));
      expect(await upsertCollectionSchedules(producer, configWith(null, '0 3 * * 0'))).toEqual([
        'COLLECTION_SCHEDULE=off replaces the shared schedule "0 */6 * * *" (set by another dashboard or an earlier start)',
      ]);
      expect(await patterns()).toEqual({ 'collection-gap-fill': '0 3 * * 0' });
      expect(await upsertCollectionSchedules(producer, configWith('0 * * * *', '0 3 * * 0'))).toEqual([
        'COLLECTION_SCHEDULE="0 * * * *" replaces the shared schedule off (set by another dashboard or an earlier start)',
      ]);
      expect(await patterns()).toEqual({ 'collection-forward': '0 * * * *', 'collection-gap-fill': '0 3 * * 0' });
    });
  });

  it('a scheduled job queues a collection, and one firing while that run is in progress is skipped', async () => {
    worker = await startScheduleWorker({ config: h.config, db: h.db.pool, redis: h.redis, logger });
    const finished = async (id: string) => waitFor(async () => {
      const job = await Job.fromId(schedules, id);
      return job && (await job.getState()) === 'completed' ? (job.returnvalue as ScheduledCollectionResult) : undefined;
    }, { what: `scheduled job ${id}`, timeoutMs: 30_000 });

    await schedules.add(JobName.ScheduledCollection, { mode: 'forward' }, { jobId: 'fire-1' });
    const first = await finished('fire-1');
    const runs = await h.db.pool.query<{ id: string; status: string; mode: string; items: number }>(
      `SELECT r.id, r.status, r.params->>'mode' AS mode, (SELECT count(*)::int FROM run_items i WHERE i.run_id = r.id) AS items
       FROM collection_runs r`);
    expect(runs.rows).toEqual([{ id: first.runId, status: 'queued', mode: 'forward', items: first.jobs }]);
    expect(first.jobs).toBeGreaterThan(0);

    await schedules.add(JobName.ScheduledCollection, { mode: 'gap_fill' }, { jobId: 'fire-2' });
    expect(await finished('fire-2')).toEqual({ skipped: `run ${first.runId} is queued` });
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM collection_runs')).rows[0].n).toBe(1);
  }, 60_000);

  it('a scheduled job asking for delisted coins fails for good, naming the field, where the worker cannot use the archive', async () => {
    worker ??= await startScheduleWorker({ config: h.config, db: h.db.pool, redis: h.redis, logger });
    const job = await schedules.add(JobName.ScheduledCollection, { mode: 'forward', includeDelisted: true }, { jobId: 'fire-delisted' });
    const reason = await waitFor(async () => {
      const found = await Job.fromId(schedules, job.id!);
      return found && (await found.getState()) === 'failed' ? found.failedReason : undefined;
    }, { what: 'the failed scheduled job', timeoutMs: 30_000 });
    expect(reason).toMatch(/^include_delisted: delisted coins' history is only in the archive's files .*set ARCHIVE_URL too, or use source archive$/);
    expect((await Job.fromId(schedules, job.id!))!.attemptsMade).toBe(1);
  }, 60_000);
});

describe('a scheduled collection with SCHEDULE_INCLUDE_DELISTED', () => {
  let archive: ArchiveEmulator;
  let h: CryptoHarness;
  let worker: RunningWorkers | undefined;
  beforeAll(async () => {
    // Three coins keep the default 1095 days of a schedule quick to plan; WAVES is BREAK, halted 2026-09-26.
    archive = await startBinanceArchiveEmulator({ settings: { nowMs: NOW, coinCount: 3 } });
    h = await startCryptoHarness({ emulator: { nowMs: NOW, coinCount: 3 }, env: { ARCHIVE_URL: archive.url }, startWorker: false });
  }, 60_000);
  afterAll(async () => {
    await worker?.close(0);
    await h?.close();
    await archive?.close();
  });

  it('queues a run that takes the coins the exchange no longer trades from the archive, and records them in its ranking', async () => {
    worker = await startScheduleWorker({ config: h.config, db: h.db.pool, redis: h.redis, logger: createLogger({ name: 'test', level: 'silent' }) });
    const schedules = new JobProducer({ connection: h.redis, prefix: h.prefix, attempts: 3 });
    try {
      await schedules.queue(QueueName.Schedules).add(JobName.ScheduledCollection, { mode: 'forward', includeDelisted: true }, { jobId: 'fire-delisted' });
      const result = await waitFor(async () => {
        const job = await Job.fromId(schedules.queue(QueueName.Schedules), 'fire-delisted');
        return job && (await job.getState()) === 'completed' ? (job.returnvalue as ScheduledCollectionResult) : undefined;
      }, { what: 'the scheduled job', timeoutMs: 30_000 });
      const run = await h.db.pool.query<{ id: string; params: Record<string, unknown>; ranking: RunRanking }>(
        'SELECT id, params, ranking FROM collection_runs');
      expect(run.rows).toHaveLength(1);
      expect(run.rows[0]!.id).toBe(result.runId);
      expect(run.rows[0]!.params).toMatchObject({ mode: 'forward', includeDelisted: true, source: 'archive' });
      expect(run.rows[0]!.ranking.entries.map((e) => [e.symbol, e.listed]))
        .toEqual([['BTC/USDT', true], ['ETH/USDT', true], ['BNB/USDT', true], ['WAVES/USDT', false]]);
    } finally {
      await schedules.close();
    }
  }, 60_000);
});

describe('run retention: RUN_RETENTION and the pruning job', () => {
  it('keeps runs 90 days unless told, and takes durations in s, m, h or d', () => {
    expect(loadConfig({}).runs.retentionMs).toBe(90 * 86_400_000);
    expect(loadConfig({ RUN_RETENTION: '36h' }).runs.retentionMs).toBe(36 * 3_600_000);
    expect(() => loadConfig({ RUN_RETENTION: '0d' })).toThrow(/RUN_RETENTION.*duration such as 12h, 7d or 90d/);
    expect(() => loadConfig({ RUN_RETENTION: '3 weeks' })).toThrow(ConfigError);
  });

  it('prunes hourly, or four times per retention when that is shorter', () => {
    expect(runPruningEveryMs(90 * 86_400_000)).toBe(3_600_000);
    expect(runPruningEveryMs(40_000)).toBe(10_000);
  });

  let h: CryptoHarness;
  let producer: JobProducer;
  let worker: RunningWorkers | undefined;
  const logger = createLogger({ name: 'test', level: 'silent' });
  beforeAll(async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, startWorker: false });
    producer = new JobProducer({ connection: h.redis, prefix: h.prefix, attempts: 3 });
  }, 60_000);
  afterAll(async () => {
    await worker?.close(0);
    await producer.close();
    await h.close();
  });

  it('deletes runs that finished longer ago than RUN_RETENTION, with their items; keeps newer and unfinished ones', async () => {
    const db = h.db.pool;
    const run = async (name: string, status: string, finishedDaysAgo: number | null) => {
      const { runId } = await createOrReuseRun(db, 'candles', { name }, [`${name}:a`, `${name}:b`]);
      await db.query(`UPDATE collection_runs SET status = $2, created_at = now() - interval '400 days',
        finished_at = CASE WHEN $3::int IS NULL THEN NULL ELSE now() - make_interval(days => $3::int) END WHERE id = $1`,
      [runId, status, finishedDaysAgo]);
      return runId;
    };
    const old = await run('old', 'completed', 31);
    const oldFailed = await run('old-failed', 'failed', 45);
    const recent = await run('recent', 'completed', 29);
    const stillRunning = await run('running', 'running', null);

    const config: FerryConfig = { ...h.config, runs: { retentionMs: 30 * 86_400_000 } };
    await upsertRunPruning(producer, config);
    const schedules = producer.queue(QueueName.Schedules);
    expect((await schedules.getJobSchedulers()).map((s) => [s.key, s.every, s.name]))
      .toContainEqual([RUN_PRUNING_SCHEDULER, 3_600_000, JobName.PruneRuns]);
    // The job the scheduler added goes too: this test runs its own, to know when it is done.
    await schedules.removeJobScheduler(RUN_PRUNING_SCHEDULER);
    await schedules.drain(true);

    worker = await startScheduleWorker({ config, db, redis: h.redis, logger });
    await schedules.add(JobName.PruneRuns, {}, { jobId: 'prune-1' });
    const result = await waitFor(async () => {
      const job = await Job.fromId(schedules, 'prune-1');
      return job && (await job.getState()) === 'completed' ? (job.returnvalue as PruneRunsResult) : undefined;
    }, { what: 'the prune job', timeoutMs: 30_000 });
    expect(result.pruned).toBe(2);

    const left = await db.query<{ id: string; items: number }>(
      `SELECT r.id, (SELECT count(*)::int FROM run_items i WHERE i.run_id = r.id) AS items FROM collection_runs r ORDER BY r.id`);
    expect(left.rows.map((r) => r.id).sort()).toEqual([recent, stillRunning].sort());
    expect(left.rows.every((r) => r.items === 2)).toBe(true);
    const orphans = await db.query('SELECT count(*)::int AS n FROM run_items WHERE run_id = ANY($1::uuid[])', [[old, oldFailed]]);
    expect(orphans.rows[0].n).toBe(0);
  }, 60_000);
});
