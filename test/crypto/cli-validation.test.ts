import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName } from '@ferry/shared/jobs';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ferryInProcess } from '../support/ferry-cli.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

const ferry = ferryInProcess;

describe('ferry collect: bad input gets a clear message, a non-zero exit, and nothing enqueued', () => {
  let db: TestDatabase;
  const prefix = uniquePrefix('cli');
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    db = await createTestDatabase();
    // The exchange URL points nowhere: validation must fail before anything talks to it.
    env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, EXCHANGE_URL: 'http://127.0.0.1:9' };
  });
  afterAll(async () => {
    await deleteKeys(prefix);
    await db.drop();
  });

  it.each([
    [['--timeframe', '7h'], '--timeframe "7h": expected one or more of 1m'],
    [['--timeframe', '1h,2x'], '--timeframe "1h,2x"'],
    [['--exchange', 'nosuchexchange'], '--exchange "nosuchexchange": expected a ccxt exchange id'],
    [['--days', '-5'], '--days "-5": expected a whole number from 1 to 3650'],
    [['--days', '0'], '--days "0": expected a whole number from 1 to 3650'],
    [['--top', '0'], '--top "0": expected a whole number from 1 to 1000'],
    [['--top', '5000'], '--top "5000": expected a whole number from 1 to 1000'],
    [['--top', 'ten'], '--top "ten": expected a whole number'],
    [['--min-volume', '-1'], '--min-volume "-1": expected a number >= 0'],
    [['--mode', 'sideways'], '--mode "sideways": expected one of backward, forward, gap_fill'],
    [['--start', '2024-13-45'], '--start "2024-13-45": expected an ISO date'],
    [['--start', 'yesterday'], '--start "yesterday": expected an ISO date'],
    [['--start', '2024-02-01', '--end', '2024-01-01'], '--end "2024-01-01": expected a date after --start'],
    [['--end', '2999-01-01'], '--end "2999-01-01": expected a date no later than now, 2'],
    [['--timeframe', '1h,1h'], '--timeframe "1h,1h": 1h given more than once: expected each timeframe once'],
    [['--timeframe', '1d, 4h,1d,4h'], '--timeframe "1d, 4h,1d,4h": 1d, 4h given more than once'],
    [['--symbols', 'BTC,$$$'], '--symbols "BTC,$$$": expected coins such as BTC,ETH'],
    [['--include-delisted', '--source', 'rest'], '--include-delisted: delisted coins\' history is only in the archive\'s files'],
    [['--include-delisted', '--exchange', 'kraken'], '--include-delisted: delisted coins\' history is only in the archive\'s files ' +
      '(REST does not serve coins the exchange no longer lists), and kraken has none'],
    // EXCHANGE_URL points at an emulator and ARCHIVE_URL is not set: auto would not use Binance's archive.
    [['--include-delisted'], 'set ARCHIVE_URL too, or use --source archive'],
  ])('collect %j', async (args, message) => {
    const result = await ferry(['collect', ...args], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    const queue = new Queue(QueueName.Candles, { connection: { url: TEST_REDIS_URL }, prefix });
    expect(await queue.count()).toBe(0);
    await queue.close();
    const runs = await db.pool.query('SELECT count(*)::int AS n FROM collection_runs');
    expect(runs.rows[0].n).toBe(0);
  });

  it('an unknown option is a usage error', async () => {
    const result = await ferry(['collect', '--tops', '5'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--tops'");
  });

  it('--exchange-url is gone: EXCHANGE_URL is the one exchange URL, for the CLI and the workers alike', async () => {
    // It used to reach only the CLI's own calls (top N, clock) while the workers fetched candles from EXCHANGE_URL.
    const result = await ferry(['collect', '--symbols', 'BTC', '--exchange-url', 'http://127.0.0.1:8'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--exchange-url'");
    const runs = await db.pool.query('SELECT count(*)::int AS n FROM collection_runs');
    expect(runs.rows[0].n).toBe(0);
  });

  it('unreachable Redis: names REDIS_URL, exits non-zero, nothing recorded', async () => {
    const result = await ferry(['collect', '--symbols', 'BTC'], { ...env, REDIS_URL: 'redis://127.0.0.1:9' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach Redis at redis://127.0.0.1:9');
    expect(result.stderr).toContain('REDIS_URL');
  });

  it('a bad REDIS_URL is shown with its password replaced', async () => {
    const result = await ferry(['status'], { ...env, REDIS_URL: 'redis://:SuperRedisPw@127.0.0.1:99999' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('REDIS_URL="redis://:***@127.0.0.1:99999" is invalid: expected a redis:// or rediss:// URL');
    expect(result.stderr + result.stdout).not.toContain('SuperRedisPw');
  });

  it('unreachable Redis or PostgreSQL: the message never carries the password', async () => {
    const redis = await ferry(['status'], { ...env, REDIS_URL: 'redis://:SuperRedisPw@127.0.0.1:9/?password=QueryPw' });
    expect(redis.code).toBe(1);
    expect(redis.stderr).toContain('cannot reach Redis at redis://:***@127.0.0.1:9/?password=***');
    const db = await ferry(['status'], { ...env, DATABASE_URL: 'postgres://postgres:SuperDbPw@127.0.0.1:9/x' });
    expect(db.code).toBe(1);
    expect(db.stderr).toContain('cannot reach PostgreSQL (DATABASE_URL)');
    expect(redis.stderr + redis.stdout + db.stderr + db.stdout).not.toMatch(/SuperRedisPw|QueryPw|SuperDbPw/);
  });

  it('unreachable PostgreSQL: names DATABASE_URL, exits non-zero', async () => {
    const result = await ferry(['collect', '--symbols', 'BTC'], { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:9/x' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot reach PostgreSQL (DATABASE_URL)');
  });

  it('an unreachable exchange fails before anything is enqueued', async () => {
    const result = await ferry(['collect', '--symbols', 'BTC'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/binance (fetchTime|exchangeInfo)/);
    const runs = await db.pool.query('SELECT count(*)::int AS n FROM collection_runs');
    expect(runs.rows[0].n).toBe(0);
  });

  it('status rejects a malformed run id and reports an unknown one', async () => {
    expect((await ferry(['status', 'nope'], env)).code).toBe(2);
    const unknown = await ferry(['status', '00000000-0000-4000-8000-000000000000'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no run 00000000-0000-4000-8000-000000000000');
  });
});
