import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Job, Worker } from 'bullmq';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createSyncTarget } from '@ferry/shared/backup';
import { createLogger } from '@ferry/shared/core';
import { JobName, QueueName } from '@ferry/shared/jobs';
import type { SyncSummary } from '@ferry/shared/postgres';
import type { RunSummary } from '@ferry/shared/runs';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';
import { REPO_ROOT } from '../support/processes.js';
import { waitFor } from '../support/wait.js';
import { startSyncWorker, type RunningWorkers } from '../support/workers.js';

/** Debian's chromium; .ci/run installs it, so in CI this suite always runs. */
const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.error(`test/dashboard/browser.test.ts skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does)`);
const ARTIFACTS = path.join(REPO_ROOT, 'test/artifacts');
const LOG_LINE = 'fetched 500 candles of BTC/USDT from binance';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A headless Chromium page that reaches the dashboard only (Bull Board asks Google for fonts; the test stays offline). */
async function openOfflinePage(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  context.setDefaultTimeout(10_000);
  return { browser, page: await context.newPage() };
}

async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/admin/queues`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/admin/queues`);
}

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
    let dash: DashboardHarness<'admin'>;
    let worker: Worker;
    let browser: Browser;
    let page: Page;
    let base: string;
    let admin: string;
    let releaseJob: () => void = () => undefined;

    beforeAll(async () => {
      dash = await startDashboard({ label: 'browser', keys: ['admin'], redis: 'worker', sessionSecret: 'b'.repeat(32) });
      ({ base, keys: { admin } } = dash);

      // A real worker holds the job active after reporting progress and a log line, as a long download does.
      const held = new Promise<void>((resolve) => (releaseJob = resolve));
      worker = new Worker(QueueName.Candles, async (job) => {
        await job.updateProgress(42);
        await job.log(LOG_LINE);
        await held;
      }, { connection: dash.redis, prefix: dash.prefix });
      const candles = dash.queues.find((q) => q.name === QueueName.Candles)!;
      await candles.add(JobName.CollectCandles, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1d' }, { jobId: 'browser-1' });
      await waitFor(async () => (await Job.fromId(candles, 'browser-1'))?.progress === 42, { what: 'the job to report progress', timeoutMs: 10_000 });

      ({ browser, page } = await openOfflinePage());
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
      releaseJob();
      await worker?.close();
      await dash?.close();
    });

    it("signs in with a key, opens Bull Board and sees a job's progress and log", async () => {
      screenshotOnFailure(page, 'dashboard-sign-in');
      await signIn(page, base, admin);

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
      expect(await dash.queues.find((q) => q.name === QueueName.Candles)!.isPaused()).toBe(true);
    });
  },
);

const NOW = Date.UTC(2026, 9, 20, 5, 30);

describe.skipIf(!HAS_CHROMIUM)('retrying a failed run from Bull Board in headless Chromium', () => {
  let pipeline: CryptoHarness;
  let dash: DashboardHarness<'admin'>;
  let sync: RunningWorkers;
  let backupDir: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    backupDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-backup-'));
    pipeline = await startCryptoHarness({
      emulator: { nowMs: NOW }, env: { JOB_ATTEMPTS: '1', SYNC_TARGET: 'local', SYNC_LOCAL_DIR: backupDir },
    });
    sync = await startSyncWorker({
      config: pipeline.config, logger: createLogger({ name: 'sync', level: 'silent' }), db: pipeline.db.pool,
      redis: pipeline.redis, target: createSyncTarget(pipeline.config.sync), schedules: false,
    });
    dash = await startDashboard({ label: 'retry-browser', keys: ['admin'], sessionSecret: 'r'.repeat(32), over: { db: pipeline.db, prefix: pipeline.prefix } });
    ({ browser, page } = await openOfflinePage());
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await sync?.close(0);
    await pipeline?.close();
    await rm(backupDir, { recursive: true, force: true });
  });

  it('a run that failed while the exchange was down: the user retries its job, and the page, `ferry status` and the backup agree', async () => {
    screenshotOnFailure(page, 'dashboard-retry');
    // The exchange answers every klines request with a 5xx: the one job fails on its one attempt, and so does the run.
    pipeline.emulator.control.addFault({ name: 'server-error', pathIncludes: 'klines', remaining: 1_000 });
    const failed = await pipeline.ferry(['collect', '--symbols', 'BTC', '--days', '30', '--timeframe', '1d', '--wait', '--json']);
    expect(failed.code).toBe(1);
    const run = JSON.parse(failed.stdout) as RunSummary;
    expect(run).toMatchObject({ status: 'failed', failed: 1 });
    const [failedJob] = await dash.queues.find((q) => q.name === QueueName.Candles)!.getFailed();
    const jobId = failedJob!.id!;

    // The exchange is back; the user signs in, opens the failed job and clicks Retry.
    pipeline.emulator.control.reset();
    await signIn(page, dash.base, dash.keys.admin);
    await page.getByRole('link', { name: QueueName.Candles, exact: true }).first().click();
    await page.waitForURL(/\/admin\/queues\/queue\/candles/);
    await page.getByRole('link', { name: /failed/i }).click();
    await page.getByRole('link', { name: jobId }).click();
    await page.waitForURL(new RegExp(`/admin/queues/queue/candles/${jobId.replaceAll('.', '\\.')}`));
    // Bull Board's job actions are icon buttons named by a tooltip; failed jobs list Retry first.
    const retry = page.locator('ul[class*="jobActions"] button').first();
    await retry.hover();
    await page.getByText('Retry', { exact: true }).waitFor();
    await retry.click();
    const retried = page.waitForResponse((r) => r.url().endsWith(`/api/queues/candles/${jobId}/retry`));
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect((await retried).ok()).toBe(true);

    // The page: the job is listed among the completed ones.
    await page.goto(`${dash.base}/admin/queues/queue/candles?status=completed`);
    await page.getByRole('link', { name: jobId }).waitFor({ timeout: 20_000 });
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-retried-job.png'), fullPage: true });

    // `ferry status`: the run completed, and its file was uploaded by the sync worker.
    const status = await waitFor(async () => {
      const shown = await pipeline.ferry(['status', run.run_id, '--json']);
      const summary = JSON.parse(shown.stdout) as RunSummary & { sync: SyncSummary };
      return shown.code === 0 && summary.status === 'completed' && summary.sync.uploaded === 1 ? summary : undefined;
    }, { what: 'ferry status to show the run completed and its file uploaded', timeoutMs: 20_000 });
    expect(status).toMatchObject({ status: 'completed', complete: 1, failed: 0, total_records: 30 });
    expect(status.sync).toMatchObject({ total: 1, pending: 0, uploaded: 1, failed: 0 });
  }, 60_000);
});
