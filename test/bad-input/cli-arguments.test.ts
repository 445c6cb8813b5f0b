import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ferryInProcess } from '../support/ferry-cli.js';
import { runCli } from '../support/processes.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

/**
 * The `ferry` CLI's bad input beyond test/crypto/cli-validation.test.ts (which covers each collect option's main
 * mistakes, an unknown option, unreachable Redis/PostgreSQL/exchange and a malformed run id): the other commands,
 * the remaining shapes of bad values, and bad settings. Every case exits 2 (usage or configuration) or 1 (something
 * unreachable), says which option or variable and what was expected, and writes nothing: no key under the queue
 * prefix in Redis (so no job), no run, no API key.
 */

interface Case {
  args: string[];
  env?: NodeJS.ProcessEnv;
  code: 1 | 2;
  says: string[];
  /** Must not appear in what the CLI prints (secrets). */
  never?: string[];
}

const UNREACHABLE_DB = 'postgres://postgres:hunter2@127.0.0.1:9/ferry';

const CASES: Record<string, Case> = {
  // collect: values of the wrong shape
  'collect: non-numeric --days': { args: ['collect', '--days', 'abc'], code: 2, says: ['--days "abc": expected a whole number from 1 to 3650'] },
  'collect: fractional --days': { args: ['collect', '--days', '1.5'], code: 2, says: ['--days "1.5": expected a whole number'] },
  'collect: --days above its range': { args: ['collect', '--days', '99999'], code: 2, says: ['--days "99999": expected a whole number from 1 to 3650'] },
  'collect: empty --days': { args: ['collect', '--days', ''], code: 2, says: ['--days "": expected a whole number'] },
  'collect: hexadecimal --days': { args: ['collect', '--days', '0x10'], code: 2, says: ['--days "0x10": expected a whole number'] },
  'collect: negative --top': { args: ['collect', '--top', '-3'], code: 2, says: ['--top "-3": expected a whole number from 1 to 1000'] },
  'collect: --top in exponent notation': { args: ['collect', '--top', '1e3'], code: 2, says: ['--top "1e3": expected a whole number'] },
  'collect: --top without its value': { args: ['collect', '--top'], code: 2, says: ["option '--top <n>' argument missing"] },
  'collect: non-numeric --min-volume': { args: ['collect', '--min-volume', 'lots'], code: 2, says: ['--min-volume "lots": expected a number >= 0'] },
  'collect: malformed --end': { args: ['collect', '--end', 'soon'], code: 2, says: ['--end "soon": expected an ISO date'] },
  'collect: --end equal to --start': {
    args: ['collect', '--start', '2024-01-01', '--end', '2024-01-01'], code: 2, says: ['--end "2024-01-01": expected a date after --start "2024-01-01"'],
  },
  'collect: empty --timeframe': { args: ['collect', '--timeframe', ''], code: 2, says: ['--timeframe "": expected one or more of 1m'] },
  'collect: --symbols of commas only': { args: ['collect', '--symbols', ',,,'], code: 2, says: ['--symbols ",,,": expected coins such as BTC,ETH'] },
  'collect: empty --exchange': { args: ['collect', '--exchange', ''], code: 2, says: ['--exchange "": expected a ccxt exchange id'] },
  'collect: empty --mode': { args: ['collect', '--mode', ''], code: 2, says: ['--mode "": expected one of backward, forward, gap_fill'] },
  'collect: every problem at once': {
    args: ['collect', '--days', '0', '--top', '0', '--mode', 'up'], code: 2, says: ['--days "0"', '--top "0"', '--mode "up"'],
  },
  'collect: a stray argument': { args: ['collect', 'BTC'], code: 2, says: ["too many arguments for 'collect'"] },
  'a misspelt command': { args: ['colect', '--top', '5'], code: 2, says: ["unknown command 'colect'", 'Did you mean collect?'] },
  // status
  'status: a number for RUN_ID': { args: ['status', '123'], code: 2, says: ['RUN_ID "123": expected a run id (a UUID)'] },
  'status: two run ids': { args: ['status', 'a', 'b'], code: 2, says: ["too many arguments for 'status'"] },
  'status: a misspelt option': { args: ['status', '--jsn'], code: 2, says: ["unknown option '--jsn'", 'Did you mean --json?'] },
  'status: unreachable PostgreSQL': { args: ['status'], env: { DATABASE_URL: UNREACHABLE_DB }, code: 1, says: ['cannot reach PostgreSQL (DATABASE_URL)'], never: ['hunter2'] },
  'status: unreachable Redis': { args: ['status'], env: { REDIS_URL: 'redis://127.0.0.1:9' }, code: 1, says: ['cannot reach Redis at redis://127.0.0.1:9 (REDIS_URL)'] },
  // restore
  'restore: an unknown option': { args: ['restore', '--force'], code: 2, says: ["unknown option '--force'"] },
  'restore: a stray argument': { args: ['restore', 'backup.zip'], code: 2, says: ["too many arguments for 'restore'"] },
  'restore: an unknown SYNC_TARGET': { args: ['restore'], env: { SYNC_TARGET: 'ftp' }, code: 2, says: ['SYNC_TARGET="ftp" is invalid: expected one of auto, dropbox, local, none'] },
  'restore: unreachable PostgreSQL': { args: ['restore'], env: { DATABASE_URL: UNREACHABLE_DB }, code: 1, says: ['cannot reach PostgreSQL (DATABASE_URL)'], never: ['hunter2'] },
  // keys
  'keys create: no --name': { args: ['keys', 'create'], code: 2, says: ["required option '--name <name>' not specified"] },
  'keys create: empty --name': { args: ['keys', 'create', '--name', ''], code: 2, says: ['--name "": expected 1-64 letters, digits'] },
  'keys create: unknown --role': { args: ['keys', 'create', '--name', 'ops', '--role', 'superuser'], code: 2, says: ['--role "superuser": expected admin or viewer'] },
  'keys revoke: no name': { args: ['keys', 'revoke'], code: 2, says: ["missing required argument 'name'"] },
  'keys: an unknown subcommand': { args: ['keys', 'rotate'], code: 2, says: ["unknown command 'rotate'"] },
  'keys list: unreachable PostgreSQL': { args: ['keys', 'list'], env: { DATABASE_URL: UNREACHABLE_DB }, code: 1, says: ['cannot reach PostgreSQL (DATABASE_URL)'], never: ['hunter2'] },
  // settings: every variable is checked before anything is opened
  'REDIS_URL that is not a URL': { args: ['collect', '--symbols', 'BTC'], env: { REDIS_URL: 'nonsense' }, code: 2, says: ['REDIS_URL="nonsense" is invalid: expected a redis:// or rediss:// URL'] },
  'DATABASE_URL that is not a URL (its value stays hidden)': {
    args: ['status'], env: { DATABASE_URL: 'hunter2@db' }, code: 2, says: ['DATABASE_URL (value hidden) is invalid: expected a postgres:// URL'], never: ['hunter2'],
  },
  'QUEUE_PREFIX with a space': { args: ['status'], env: { QUEUE_PREFIX: 'my ferry' }, code: 2, says: ['QUEUE_PREFIX="my ferry" is invalid: expected letters, digits, _ or -'] },
  'JOB_ATTEMPTS of 0': { args: ['collect', '--symbols', 'BTC'], env: { JOB_ATTEMPTS: '0' }, code: 2, says: ['JOB_ATTEMPTS="0" is invalid: expected an integer from 1 to 100'] },
  'EXCHANGE_URL that is not http': { args: ['collect', '--symbols', 'BTC'], env: { EXCHANGE_URL: 'ftp://binance' }, code: 2, says: ['EXCHANGE_URL="ftp://binance" is invalid: expected an http(s) URL'] },
  'several bad variables at once': {
    args: ['keys', 'list'], env: { LOG_LEVEL: 'loud', DATABASE_POOL_SIZE: '-1' }, code: 2,
    says: ['LOG_LEVEL="loud" is invalid', 'DATABASE_POOL_SIZE="-1" is invalid: expected an integer from 1 to 200'],
  },
};

describe('ferry CLI with malformed arguments and settings: a clear message, exit 2 or 1, nothing written', () => {
  let db: TestDatabase;
  let redis: Redis;
  let scratch: string;
  const prefix = uniquePrefix('badcli');
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new Redis(TEST_REDIS_URL);
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-badcli-'));
    // The exchange URL points nowhere: no case may get as far as asking it.
    env = {
      DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, EXCHANGE_URL: 'http://127.0.0.1:9',
      DATA_DIR: path.join(scratch, 'data'), SYNC_TARGET: 'local', SYNC_LOCAL_DIR: path.join(scratch, 'backup'), LOG_LEVEL: 'silent',
    };
  });
  afterAll(async () => {
    redis.disconnect();
    await deleteKeys(prefix);
    await db.drop();
    await fs.rm(scratch, { recursive: true, force: true });
  });

  async function nothingWritten(): Promise<void> {
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    const counts = await db.pool.query(
      `SELECT (SELECT count(*) FROM collection_runs)::int AS runs, (SELECT count(*) FROM run_items)::int AS items,
              (SELECT count(*) FROM api_keys)::int AS keys, (SELECT count(*) FROM candles)::int AS candles`);
    expect(counts.rows[0]).toEqual({ runs: 0, items: 0, keys: 0, candles: 0 });
    expect(await fs.readdir(scratch)).toEqual([]);
  }

  it.each(Object.entries(CASES))('%s', async (_name, c) => {
    const { code, stdout, stderr } = await ferryInProcess(c.args, { ...env, ...c.env });
    expect({ code, stdout }).toEqual({ code: c.code, stdout: '' });
    for (const text of c.says) expect(stderr).toContain(text);
    for (const text of c.never ?? []) expect(stderr).not.toContain(text);
    await nothingWritten();
  });

  it('collect: a --start that does not exist (2024-02-30) is a usage error', async () => {
    const { code, stderr } = await ferryInProcess(['collect', '--symbols', 'BTC', '--start', '2024-02-30'], env);
    expect(code).toBe(2);
    expect(stderr).toContain('--start "2024-02-30": expected an ISO date');
    await nothingWritten();
  });

  it('the real `ferry` process exits with the same codes', async () => {
    const [usage, unreachable] = await Promise.all([
      runCli(['collect', '--days', '-5'], { ...env, REDIS_URL: 'nonsense' }),
      runCli(['status'], { ...env, DATABASE_URL: UNREACHABLE_DB }),
    ]);
    expect(usage!.code).toBe(2);
    expect(usage!.output).toContain('REDIS_URL="nonsense" is invalid');
    expect(unreachable!.code).toBe(1);
    expect(unreachable!.output).toContain('cannot reach PostgreSQL (DATABASE_URL)');
    expect(unreachable!.output).not.toContain('hunter2');
    await nothingWritten();
  });
});
