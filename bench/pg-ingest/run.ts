/**
 * PostgreSQL ingest: candles/s through ferry's candle store (`insertCandles`: one statement per 1,000-candle page,
 * columns as arrays, conflict-safe) against a plain multi-row INSERT of the same pages, and against COPY as the
 * ceiling, each into a fresh, migrated database, with the same number of concurrent writers, in the same run. Rounds
 * alternate (ABC CBA).
 *
 *   npx tsx --conditions=ferry-source bench/pg-ingest/run.ts [--candles 600000] [--writers 4] [--rounds 4] [--quick]
 *
 * The baseline is the usual hand-written bulk insert (`VALUES ($1, ...), (...)`, 9 parameters a row, Date objects for
 * timestamps) without ON CONFLICT: it is not idempotent, so it is the cost ferry's conflict-safe insert is held to.
 * Writers default to 4, a few download jobs storing pages at once. Needs PostgreSQL (TEST_DATABASE_URL).
 *
 * A fourth side, `archive`, is how archive files are ingested (`replaceCandleRange`: in one transaction, delete the
 * file's period, then binary COPY its rows): idempotent, one transaction per file of 10 pages (10,000 candles), held
 * to the COPY ceiling (issue 14: at least 0.9 of it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { timeframeMs, type Candle, type CandleSeries } from '@ferry/shared/core';
import { insertCandles, replaceCandleRange, type Pool } from '@ferry/shared/postgres';
import { findBinary, postgresBinDirs } from '../../scripts/local-services.js';
import { createTestDatabase } from '../../test/support/database.js';
import { count, median, reportRows, type BenchRow } from '../common/report.js';

const { values } = parseArgs({
  options: {
    candles: { type: 'string' },
    writers: { type: 'string', default: '4' },
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const PAGE = 1000; // Binance's klines page limit: what one fetched page holds.
const totalCandles = Number(values.candles ?? (values.quick ? 200_000 : 600_000));
const writers = Number(values.writers);
const rounds = Number(values.rounds ?? (values.quick ? 2 : 4));

interface Page {
  series: CandleSeries;
  candles: Candle[];
}

/** Random-walk hourly candles, 10 pages per series, the same for both sides. */
function makePages(total: number): Page[] {
  const step = timeframeMs('1h');
  const pages: Page[] = [];
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let n = 0; n * PAGE < total; n++) {
    const series: CandleSeries = { exchange: 'binance', symbol: `C${Math.floor(n / 10)}/USDT`, timeframe: '1h' };
    const start = Date.UTC(2023, 0, 1) + (n % 10) * PAGE * step;
    let price = 100 + random() * 100;
    const candles = Array.from({ length: Math.min(PAGE, total - n * PAGE) }, (_, i) => {
      const open = price;
      price *= 1 + (random() - 0.5) * 0.02;
      return { openTime: start + i * step, open, high: Math.max(open, price) * 1.001, low: Math.min(open, price) * 0.999, close: price, volume: random() * 1e6 };
    });
    pages.push({ series, candles });
  }
  return pages;
}

const plainInsertSql = (rows: number) =>
  `INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume) VALUES ${Array.from(
    { length: rows }, (_, r) => `(${Array.from({ length: 9 }, (_, c) => `$${r * 9 + c + 1}`).join(', ')})`).join(', ')}`;

async function plainInsert(db: Pool, page: Page): Promise<void> {
  const { exchange, symbol, timeframe } = page.series;
  const params = page.candles.flatMap((c) => [exchange, symbol, timeframe, new Date(c.openTime), c.open, c.high, c.low, c.close, c.volume]);
  await db.query(plainInsertSql(page.candles.length), params);
}

/**
 * COPY, the fastest way into PostgreSQL, as the ceiling: one `psql ... COPY FROM STDIN` per writer, each streaming its
 * share of the pages as CSV. Not conflict-safe and not per page (a failure loses the whole stream), so not a design
 * ferry could use for pages arriving one by one; shown to say how far from the ceiling ferry is.
 */
async function copyIn(url: string, pages: readonly Page[]): Promise<void> {
  const psql = findBinary('psql', postgresBinDirs());
  if (!psql) throw new Error('psql not found');
  const child = spawn(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c',
    'COPY candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume) FROM STDIN WITH (FORMAT csv)'],
  { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (const { series, candles } of pages) {
    const csv = candles.map((c) =>
      `${series.exchange},${series.symbol},${series.timeframe},${new Date(c.openTime).toISOString()},${c.open},${c.high},${c.low},${c.close},${c.volume}\n`).join('');
    if (!child.stdin.write(csv)) await once(child.stdin, 'drain');
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`psql COPY failed (${code}): ${stderr}`);
}

type Side = 'ferry' | 'plain' | 'copy' | 'archive';

/** Pages grouped by series: what one archive file holds (consecutive candles of one coin). */
function files(pages: readonly Page[]): Page[][] {
  const bySeries = new Map<string, Page[]>();
  for (const page of pages) {
    const list = bySeries.get(page.series.symbol) ?? [];
    list.push(page);
    bySeries.set(page.series.symbol, list);
  }
  return [...bySeries.values()];
}

async function ingestFile(db: Pool, file: readonly Page[]): Promise<void> {
  const step = timeframeMs(file[0]!.series.timeframe);
  const range = { start: file[0]!.candles[0]!.openTime, end: file.at(-1)!.candles.at(-1)!.openTime + step };
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await replaceCandleRange(client, file[0]!.series, range, (async function* () {
      for (const page of file) yield page.candles;
    })());
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

async function round(side: Side, pages: readonly Page[]): Promise<number> {
  const db = await createTestDatabase();
  try {
    let next = 0;
    const started = performance.now();
    if (side === 'copy') {
      await Promise.all(Array.from({ length: writers }, (_, w) => copyIn(db.url, pages.filter((_, i) => i % writers === w))));
    } else if (side === 'archive') {
      const all = files(pages);
      await Promise.all(Array.from({ length: writers }, async () => {
        for (let i = next++; i < all.length; i = next++) await ingestFile(db.pool, all[i]!);
      }));
    } else {
      // `writers` loops taking the next page, as concurrent jobs do.
      await Promise.all(Array.from({ length: writers }, async () => {
        for (let i = next++; i < pages.length; i = next++) {
          const page = pages[i]!;
          if (side === 'ferry') await insertCandles(db.pool, page.series, page.candles);
          else await plainInsert(db.pool, page);
        }
      }));
    }
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM candles');
    const stored = rows[0]!.n;
    const expected = pages.reduce((n, p) => n + p.candles.length, 0);
    if (stored !== expected) throw new Error(`${side}: ${stored} rows stored, expected ${expected}`);
    return stored / seconds;
  } finally {
    await db.drop();
  }
}

const pages = makePages(totalCandles);
// Warm-up: connections, statement parsing, JIT of both paths; not counted.
await round('ferry', pages.slice(0, 20));
await round('plain', pages.slice(0, 20));
await round('archive', pages.slice(0, 20));
const copyAvailable = findBinary('psql', postgresBinDirs()) !== undefined;
if (copyAvailable) await round('copy', pages.slice(0, 20));
else console.log('psql not found: no COPY ceiling');
const rates: Record<Side, number[]> = { ferry: [], plain: [], copy: [], archive: [] };
const sides: Side[] = copyAvailable ? ['ferry', 'plain', 'copy', 'archive'] : ['ferry', 'plain', 'archive'];
const order: Side[] = [];
for (let i = 0; i < rounds; i++) order.push(...(i % 2 === 0 ? sides : [...sides].reverse()));
for (const side of order) {
  const rate = await round(side, pages);
  rates[side].push(rate);
  console.log(`${side.padEnd(7)} ${count(rate)} candles/s`);
}
const ferry = median(rates.ferry);
const plain = median(rates.plain);
const measure = `candles/s into a fresh database, ${count(totalCandles)} candles in ${PAGE}-candle pages, ${writers} writers` +
  (rounds > 1 ? `, median of ${rounds} alternated rounds` : '');
const rows: BenchRow[] = [{
  bench: 'pg-ingest',
  measure,
  result: `${count(ferry)} candles/s via insertCandles (unnest arrays, ON CONFLICT DO NOTHING)`,
  baseline: `${count(plain)} candles/s via plain multi-row INSERT ... VALUES`,
  ratio: ferry / plain,
}];
if (copyAvailable) {
  const copy = median(rates.copy);
  rows.push({
    bench: 'pg-ingest',
    measure: `${measure}; ceiling: COPY FROM STDIN (CSV, one stream per writer)`,
    result: `${count(ferry)} candles/s via insertCandles`,
    baseline: `${count(copy)} candles/s via COPY`,
    ratio: ferry / copy,
  });
  const archive = median(rates.archive);
  rows.push({
    bench: 'pg-ingest',
    measure: `${measure}; archive files (10,000 candles each): delete the period + binary COPY, one transaction a file, ` +
      'against COPY FROM STDIN (CSV)',
    result: `${count(archive)} candles/s via replaceCandleRange`,
    baseline: `${count(copy)} candles/s via COPY`,
    ratio: archive / copy,
    target: '>= 0.9',
    met: archive / copy >= 0.9,
  });
}
reportRows(rows);
