import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Job, Worker } from 'bullmq';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { JobName, QueueName } from '@ferry/shared/jobs';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';
import { REPO_ROOT } from '../support/processes.js';
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
      await dash?.close();
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
      expect(await dash.queues.find((q) => q.name === QueueName.Candles)!.isPaused()).toBe(true);
    });
  },
);
