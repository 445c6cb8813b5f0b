import { openQueue } from '../support/workers.js';
import type { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QueueName } from '@ferry/shared/jobs';
import type { PreloadReport } from '../../services/producer/src/commands/preload.js';
import { flatFileKey, S3Counter, S3Fault, tradingDays } from '@ferry/emulators/s3';
import { startFlatFileHarness, type FlatFileHarness } from '../support/flatfile-harness.js';

// One month of files per case; every case asks for another month, so nothing is cached or ingested yet.
const month = (m: number) => {
  const start = `2024-${String(m).padStart(2, '0')}-01`;
  const end = new Date(Date.UTC(2024, m, 0)).toISOString().slice(0, 10);
  return { start, end, days: tradingDays('us_stocks_sip', start, end) };
};
const keyOf = (day: string) => flatFileKey('us_stocks_sip', 'day_aggs_v1', day);

describe('flat-file faults: every bad download is caught, nothing half-written', () => {
  let h: FlatFileHarness;

  beforeAll(async () => {
    h = await startFlatFileHarness({ env: { JOB_ATTEMPTS: '3' } });
    await h.startWorkers();
  });
  afterEach(() => h.emulator!.control.clearFaults());
  afterAll(async () => h?.close());

  const preload = async (m: ReturnType<typeof month>) => {
    const run = await h.ferry(['preload', 'TSLA', '--start', m.start, '--end', m.end, '--wait', '--json']);
    return { code: run.code, report: JSON.parse(run.stdout || '{}') as PreloadReport, stderr: run.stderr };
  };
  const ingested = async (key: string) =>
    (await h.db.pool.query('SELECT 1 FROM ingested_files WHERE key = $1', [key])).rowCount;
  const failedJob = async (runId: string, key: string) => {
    const queue = openQueue(QueueName.FlatFiles, h.redis, h.prefix);
    try {
      const jobs = await queue.getJobs(['failed']);
      return jobs.find((j: Job) => j.data.key === key && j.data.runId === runId);
    } finally {
      await queue.close();
    }
  };

  it('truncated bodies are retried until whole', async () => {
    const m = month(1);
    const key = keyOf(m.days[3]!);
    h.emulator!.control.addFault({ name: S3Fault.TruncatedBody, pathIncludes: key, remaining: 2 });
    const { code, report } = await preload(m);
    expect(code).toBe(0);
    expect(report).toMatchObject({ files: m.days.length, ingested: m.days.length, failed: 0, rows: m.days.length });
    expect(h.emulator!.control.counter(S3Counter.getKey(key))).toBe(3);
  }, 60_000);

  it('a truncated body every time fails the file alone, naming the key and both sizes; the request still finishes', async () => {
    const m = month(2);
    const key = keyOf(m.days[5]!);
    h.emulator!.control.addFault({ name: S3Fault.TruncatedBody, pathIncludes: key });
    const { code, report } = await preload(m);
    expect(code).toBe(1);
    expect(report).toMatchObject({ status: 'failed', ingested: m.days.length - 1, failed: 1 });
    expect(report.failed_files[0]!.key).toBe(key);
    expect(report.failed_files[0]!.reason).toMatch(new RegExp(`${key}.*stopped after \\d+ of \\d+ bytes`));
    expect(report.parquet).toHaveLength(1);
    expect(h.emulator!.control.counter(S3Counter.getKey(key))).toBe(3);
    expect(await ingested(key)).toBe(0);
  }, 60_000);

  it('a wrong length is caught every time and fails after the attempts with both sizes', async () => {
    const m = month(3);
    const key = keyOf(m.days[2]!);
    h.emulator!.control.addFault({ name: S3Fault.WrongLength, pathIncludes: key, params: { bytes: 17 } });
    const { code, report } = await preload(m);
    expect(code).toBe(1);
    const listed = h.emulator!.object(key)!.size;
    expect(report.failed_files).toEqual([{
      key,
      reason: `size mismatch for s3://flatfiles/${key}: received ${listed - 17} bytes, Content-Length ${listed - 17}, listed ${listed}`,
    }]);
    expect(h.emulator!.control.counter(S3Counter.getKey(key))).toBe(3);
    expect(await ingested(key)).toBe(0);
    const bars = await h.db.pool.query(`SELECT 1 FROM bars WHERE time::date = $1::date`, [m.days[2]]);
    expect(bars.rowCount).toBe(0);
  }, 60_000);

  it('corrupt gzip fails at once, without retries, and nothing of the file is stored', async () => {
    const m = month(4);
    const key = keyOf(m.days[1]!);
    h.emulator!.control.addFault({ name: S3Fault.CorruptGzip, pathIncludes: key });
    const { code, report } = await preload(m);
    expect(code).toBe(1);
    expect(report.failed_files[0]!.reason).toMatch(/corrupt gzip/);
    expect(h.emulator!.control.counter(S3Counter.getKey(key))).toBe(1);
    const job = await failedJob(report.run_id, key);
    expect(job?.attemptsMade).toBe(1);
    expect(await ingested(key)).toBe(0);
  }, 60_000);

  it('a malformed CSV line fails at once, naming the line', async () => {
    const m = month(5);
    const key = keyOf(m.days[4]!);
    h.emulator!.control.addFault({ name: S3Fault.MalformedCsv, pathIncludes: key, params: { line: 7 } });
    const { code, report } = await preload(m);
    expect(code).toBe(1);
    expect(report.failed_files[0]!.reason).toMatch(new RegExp(`s3://flatfiles/${key}: malformed CSV at line 7`));
    expect((await failedJob(report.run_id, key))?.attemptsMade).toBe(1);
    expect(await ingested(key)).toBe(0);
  }, 60_000);

  it('a body that fails the S3 checksum is reported as a checksum mismatch, retried, then fails with that reason', async () => {
    const m = month(7);
    const key = keyOf(m.days[3]!);
    h.emulator!.control.addFault({ name: S3Fault.WrongChecksum, pathIncludes: key });
    const { code, report } = await preload(m);
    expect(code).toBe(1);
    expect(report.failed_files).toHaveLength(1);
    expect(report.failed_files[0]!.reason).toMatch(
      new RegExp(`^checksum mismatch for s3://flatfiles/${key}: the \\d+ bytes received do not match the x-amz-checksum-crc32 S3 sent`));
    expect(h.emulator!.control.counter(S3Counter.getKey(key))).toBe(3);
    expect(await ingested(key)).toBe(0);
  }, 60_000);

  it('objects stored with SSE-KMS, whose ETags are not MD5s, download and ingest whole', async () => {
    const m = month(8);
    h.emulator!.control.configure({ serverSideEncryption: 'aws:kms' });
    try {
      const { code, report } = await preload(m);
      expect(code).toBe(0);
      expect(report).toMatchObject({ files: m.days.length, ingested: m.days.length, failed: 0 });
      // One GET per file: nothing was refused and retried.
      expect(h.emulator!.control.counter(S3Counter.getKey(keyOf(m.days[0]!)))).toBe(1);
    } finally {
      h.emulator!.control.configure({ serverSideEncryption: null });
    }
  }, 60_000);

  it('503 SlowDown pauses the queue and the file completes without spending its attempts', async () => {
    const m = month(6);
    const key = keyOf(m.days[0]!);
    h.emulator!.control.addFault({ name: S3Fault.SlowDown, pathIncludes: key, remaining: 4 });
    const { code, report } = await preload(m);
    expect(code).toBe(0);
    // Four refusals with three attempts per job: pauses did not spend attempts.
    expect(report.failed).toBe(0);
    expect(h.emulator!.control.counter(S3Counter.error('SlowDown'))).toBe(4);
    expect(await ingested(key)).toBe(1);
  }, 60_000);
});

describe('ferry preload: bad credentials and bad arguments enqueue nothing', () => {
  let h: FlatFileHarness;
  beforeAll(async () => {
    h = await startFlatFileHarness();
  });
  afterAll(async () => h?.close());

  const nothingQueued = async () => {
    expect(await h.jobCount(QueueName.FlatFiles)).toBe(0);
    expect(await h.jobCount(QueueName.Preloads)).toBe(0);
    expect((await h.db.pool.query('SELECT 1 FROM collection_runs')).rowCount).toBe(0);
  };

  it('wrong credentials: a clear error naming the settings, exit 1', async () => {
    const run = await h.ferry(['preload', 'TSLA', '--period', '1m', '--end', '2024-06-30'], { S3_SECRET_ACCESS_KEY: 'not-the-secret' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/SignatureDoesNotMatch.*S3 refused the credentials; check S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY/);
    const unknownKey = await h.ferry(['preload', 'TSLA', '--period', '1m', '--end', '2024-06-30'], { S3_ACCESS_KEY_ID: 'AKIAUNKNOWN' });
    expect(unknownKey.code).toBe(1);
    expect(unknownKey.stderr).toMatch(/InvalidAccessKeyId/);
    await nothingQueued();
  });

  it('missing credentials: exit 2 naming the variable', async () => {
    const run = await h.ferry(['preload', 'TSLA'], { S3_ACCESS_KEY_ID: undefined });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('S3_ACCESS_KEY_ID is not set');
    await nothingQueued();
  });

  it.each([
    [['preload'], /missing required argument 'tickers'/],
    [['preload', 'not a ticker'], /TICKER "not a ticker" is not a stock ticker/],
    [['preload', 'TSLA', '--interval', '5m'], /--interval "5m": expected one of 1d, 1m/],
    [['preload', 'TSLA', '--period', '0y'], /--period "0y" is not a period/],
    [['preload', 'TSLA', '--period', 'five'], /--period "five" is not a period/],
    [['preload', 'TSLA', '--start', '2024-02-30'], /--start "2024-02-30" is not an ISO date/],
    [['preload', 'TSLA', '--start', '2024-03-01', '--end', '2024-02-01'], /--start 2024-03-01 is after end 2024-02-01/],
  ])('%j: exit 2 with the argument named', async (args, message) => {
    const run = await h.ferry(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    await nothingQueued();
  });

  it('a range without files (before the bucket starts) says so and enqueues nothing', async () => {
    const run = await h.ferry(['preload', 'TSLA', '--start', '2010-01-01', '--end', '2010-01-31']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no flat files in s3://flatfiles for us_stocks_sip 2010-01-01..2010-01-31');
    await nothingQueued();
  });
});
