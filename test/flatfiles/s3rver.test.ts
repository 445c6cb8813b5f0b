import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '@ferry/shared/s3';
import type { PreloadReport } from '../../services/producer/src/commands/preload.js';
import { flatFileBody, flatFileKey, flatFileRows, tradingDays } from '@ferry/emulators/s3';
import { startFlatFileHarness, type FlatFileHarness } from '../support/flatfile-harness.js';
import { REPO_ROOT } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

/**
 * The happy path against s3rver, an S3 implementation we did not write: ferry must not only work against its own
 * emulator. s3rver's ListObjectsV2 hashes with MD4, which Node 20's OpenSSL 3 only has in the legacy provider.
 */
const START = '2024-01-01';
const END = '2024-03-31';
const DAYS = tradingDays('us_stocks_sip', START, END);
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('ferry preload against s3rver', () => {
  let s3rver: ChildProcess;
  let dir: string;
  let h: FlatFileHarness;
  let report: PreloadReport;
  let code: number;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-s3rver-'));
    const port = await freePort();
    s3rver = spawn(process.execPath, [
      path.join(REPO_ROOT, 'node_modules/s3rver/bin/s3rver.js'), '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent',
      '--configure-bucket', 'flatfiles',
    ], { env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' }, stdio: 'ignore' });
    const endpoint = `http://127.0.0.1:${port}`;
    const s3 = createS3Client({ endpoint, region: 'us-east-1', ...CREDENTIALS, maxAttempts: 3 });
    await waitFor(async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'flatfiles', Key: 'ready', Body: '' }));
      return true;
    }, { timeoutMs: 20_000, intervalMs: 200, what: 's3rver to start' });
    for (const date of DAYS) {
      const Key = flatFileKey('us_stocks_sip', 'day_aggs_v1', date);
      await s3.send(new PutObjectCommand({ Bucket: 'flatfiles', Key, Body: flatFileBody({ market: 'us_stocks_sip', timeframe: 'day_aggs_v1', date }) }));
    }
    s3.destroy();
    h = await startFlatFileHarness({
      endpoint,
      env: { S3_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, S3_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey },
    });
    await h.startWorkers();
    const run = await h.ferry(['preload', 'TSLA', 'MSFT', '--start', START, '--end', END, '--wait', '--json']);
    code = run.code;
    report = JSON.parse(run.stdout) as PreloadReport;
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    s3rver?.kill();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('completes every file', () => {
    expect(code).toBe(0);
    expect(report).toMatchObject({ status: 'completed', files: DAYS.length, ingested: DAYS.length, failed: 0, rows: 2 * DAYS.length });
    expect(report.parquet.map((p) => p.ticker)).toEqual(['MSFT', 'TSLA']);
  });

  it('stores exactly the rows of the uploaded files', async () => {
    const { rows } = await h.db.pool.query<{ ticker: string; t: string; close: number }>(
      `SELECT ticker, (extract(epoch FROM time) * 1000)::bigint AS t, close FROM bars ORDER BY ticker, time`);
    const expected = ['MSFT', 'TSLA'].flatMap((ticker) => DAYS.flatMap((d) =>
      flatFileRows('us_stocks_sip', 'day_aggs_v1', d).filter((r) => r.ticker === ticker)
        .map((r) => ({ ticker, t: Number(r.window_start / 1_000_000n), close: r.close }))));
    expect(rows.map((r) => ({ ticker: r.ticker, t: Number(r.t), close: r.close }))).toEqual(expected);
  });
});
