import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import path from 'node:path';
import { Job, Worker, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { ALL_QUEUES, createApiKey, createLogger, createQueue, createRedis, JobName, QueueName } from '@ferry/shared';
import { createDashboardApp } from '../../services/dashboard/src/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { REPO_ROOT } from '../support/processes.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** Debian's chromium; .ci/run installs it, so in CI this suite always runs. */
const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.error(`test/dashboard/browser.test.ts skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`);
const ARTIFACTS = path.join(REPO_ROOT, 'test/artifacts');
const LOG_LINE = 'fetched 500 candles of BTC/USDT from binance';

/** On failure, what the browser showed goes to the CI artifacts too. */
function screenshotOnFailure(page: Page, name: string): void {
  onTestFailed(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-failed.png`), fullPage: true }).catch(() => undefined);
  });
}

describe.skipIf(!HAS_CHROMIUM)(
  HAS_CHROMIUM ? 'dashboard in headless Chromium' : `dashboard in headless Chromium: SKIPPED, ${CHROMIUM} is missing (apt-get install chromium)`,
  () => {
    let db: TestDatabase;
    let redis: Redis;
    let queues: Queue[];
    let worker: Worker;
    let server: Server;
    let browser: Browser;
    let page: Page;
    let base: string;
    let admin: string;
    let releaseJob: () => void = () => undefined;
    const prefix = uniquePrefix('browser');

    beforeAll(async () => {
      db = await createTestDatabase();
      redis = createRedis(TEST_REDIS_URL, 'worker');
      queues = ALL_QUEUES.map((name) => createQueue(name, redis, prefix));
      admin = await createApiKey(db.pool, 'admin', 'admin');
      const app = createDashboardApp({
        db: db.pool, redis, queues, logger: createLogger({ name: 'test', level: 'silent' }), sessionSecret: 'b'.repeat(32),
      });
      server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

      // A real worker holds the job active after reporting progress and a log line, as a long download does.
      const held = new Promise<void>((resolve) => (releaseJob = resolve));
      worker = new Worker(QueueName.Candles, async (job) => {
        await job.updateProgress(42);
        await job.log(LOG_LINE);
        await held;
      }, { connection: redis, prefix });
      const candles = queues.find((q) => q.name === QueueName.Candles)!;
      await candles.add(JobName.CollectCandles, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1d' }, { jobId: 'browser-1' });
      await waitFor(async () => (await Job.fromId(candles, 'browser-1'))?.progress === 42, { what: 'the job to report progress', timeoutMs: 10_000 });

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      // Bull Board asks Google for its fonts; the test stays offline and does not wait on them.
      await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
      context.setDefaultTimeout(10_000);
      page = await context.newPage();
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      releaseJob();
      await worker?.close();
      await Promise.all((queues ?? []).map((q) => q.close()));
      if (server) await new Promise((r) => server.close(r));
      redis?.disconnect();
      await deleteKeys(prefix);
      await db?.drop();
    });

    it("signs in with a key, opens Bull Board and sees a job's progress and log", async () => {
      screenshotOnFailure(page, 'dashboard-sign-in');
      await page.goto(`${base}/admin/queues`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.getByLabel('API key').fill(admin);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${base}/admin/queues`);

      await page.getByRole('link', { name: QueueName.Candles, exact: true }).first().click();
      await page.waitForURL(/\/admin\/queues\/queue\/candles/);
      await page.getByRole('link', { name: /active/i }).click();
      await page.getByRole('link', { name: 'browser-1' }).click();
      await page.waitForURL(/\/admin\/queues\/queue\/candles\/browser-1/);
      await page.getByText('42%').waitFor();
      await page.getByRole('tab', { name: 'Logs' }).click();
      await page.getByText(LOG_LINE).waitFor();

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-job.png'), fullPage: true });
    });

    // Still signed in from the test above.
    it("changes a queue from Bull Board's own menu: its requests carry the session's CSRF token", async () => {
      screenshotOnFailure(page, 'dashboard-pause');
      await page.goto(`${base}/admin/queues/queue/candles`);
      await page.locator('button[aria-haspopup=menu]').click();
      await page.getByRole('menuitem', { name: 'Pause' }).click();
      const paused = page.waitForResponse((r) => r.url().endsWith('/api/queues/candles/pause'));
      await page.getByRole('button', { name: 'Confirm' }).click();
      expect((await paused).status()).toBe(200);
      expect(await queues.find((q) => q.name === QueueName.Candles)!.isPaused()).toBe(true);
    });
  },
);
