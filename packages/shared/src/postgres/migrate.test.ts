import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.js';
import { migrate, readMigrations } from './migrate.js';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => db.drop());

  it('apply once, concurrently safe, and are idempotent', async () => {
    const all = await readMigrations();
    expect(all[0]).toMatchObject({ version: 1, name: 'init' });
    const [first, second] = await Promise.all([migrate(db.pool), migrate(db.pool)]);
    expect([...first!, ...second!].sort((a, b) => a - b)).toEqual(all.map((m) => m.version));
    expect(await migrate(db.pool)).toEqual([]);
    const { rows } = await db.pool.query('SELECT version, name FROM ferry_migrations ORDER BY version');
    expect(rows).toEqual(all.map((m) => ({ version: m.version, name: m.name })));
  });

  it('key candles by (exchange, symbol, timeframe, open_time)', async () => {
    const insert = `INSERT INTO candles VALUES ('binance','BTC/USDT','1h','2024-01-01T00:00Z',1,2,0.5,1.5,10)
                    ON CONFLICT DO NOTHING`;
    await db.pool.query(insert);
    await db.pool.query(insert);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM candles');
    expect(rows[0].n).toBe(1);
  });
});
