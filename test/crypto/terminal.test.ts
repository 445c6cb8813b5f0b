import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobProducer, QueueName } from '@ferry/shared/jobs';
import { main } from '../../services/producer/src/program.js';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { runCli } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const NOW = Date.UTC(2026, 9, 20, 5, 30);

/** What a person at the terminal sees from `ferry collect`. */
describe('ferry collect at the terminal', () => {
  let h: CryptoHarness;
  let producer: JobProducer;

  beforeAll(async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, startWorker: false });
    producer = new JobProducer({ connection: h.redis, prefix: h.prefix, attempts: 3 });
  }, 60_000);
  afterAll(async () => {
    await producer.close();
    await h.close();
  });

  it('--symbols refuses coins the exchange does not list: exit 2, naming them, nothing queued', async () => {
    const run = await h.ferry(['collect', '--symbols', 'BTC,NOSUCHCOIN,ETH,ZZZQ', '--days', '2', '--timeframe', '1h']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('does not list NOSUCHCOIN/USDT, ZZZQ/USDT');
    expect(run.stderr).not.toMatch(/BTC\/USDT|ETH\/USDT/);
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM collection_runs')).rows[0].n).toBe(0);
    expect(await producer.queue(QueueName.Candles).count()).toBe(0);
  });

  it('--wait says when no worker is connected, with the command that starts one, and keeps waiting', async () => {
    let stderr = '';
    let stdout = '';
    const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), isTty: false, env: h.env };
    const waiting = main(['collect', '--symbols', 'BTC', '--days', '2', '--timeframe', '1h', '--wait'], io);
    await waitFor(async () => stderr.includes('no download worker is connected'), { what: 'the no-worker notice', timeoutMs: 15_000 });
    expect(stderr).toContain('no download worker is connected to the candles queue');
    expect(stderr).toContain('node services/download-worker/dist/main.js');
    expect(stderr).toContain('still waiting');
    // Still waiting: a worker started now takes the run, and the command ends with it.
    await h.startWorker();
    expect(await waiting).toBe(0);
    expect(stdout).toContain('completed');
    expect(stderr.match(/no download worker/g)).toHaveLength(1);
  }, 60_000);

  it('--wait says nothing about workers when one is connected', async () => {
    const run = await h.ferry(['collect', '--symbols', 'ETH', '--days', '2', '--timeframe', '1h', '--wait']);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('no download worker');
  }, 60_000);
});

describe('ferry at the terminal: no runtime notice in normal output', () => {
  it("leaves out the AWS SDK's Node version notice, and prints other warnings", async () => {
    // `preload` makes its S3 client first (the SDK's notice comes then on Node < 22), then fails on Redis, which is down.
    const env = {
      REDIS_URL: 'redis://127.0.0.1:9', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's', LOG_LEVEL: 'silent',
      NODE_OPTIONS: '--import=data:text/javascript,process.emitWarning(%22ferry-canary-warning%22)',
    };
    const { code, output } = await runCli(['preload', 'AAPL', '--period', '5d'], env);
    expect(code).toBe(1);
    expect(output).toContain('REDIS_URL');
    expect(output).toContain('ferry-canary-warning');
    expect(output).not.toContain('NodeVersionSupportWarning');
    expect(output).not.toContain('AWS SDK');
  }, 60_000);
});
