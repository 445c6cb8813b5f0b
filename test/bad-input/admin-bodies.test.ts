import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';

/**
 * POST /api/admin/collect/trigger with bodies beyond those test/dashboard/admin-api.test.ts rejects: wrong types,
 * values out of range, bodies that are not a JSON object, the wrong content type, bodies too large. Each gets a 4xx in
 * the admin API's error shape naming the field and the reason, and nothing is queued or recorded. The exchange URL
 * points nowhere: a body that got past validation would show as a 500 or a 202, not as a 400.
 */

const TRIGGER = '/api/admin/collect/trigger';

/** A JSON value nested `depth` levels deep. */
const nested = (depth: number): unknown => Array.from({ length: depth }).reduce<unknown>((inner) => ({ a: inner }), 1);

type Problem = { field: string; message: string };

describe('admin API: malformed trigger bodies are refused with the field and the reason, and nothing is queued', () => {
  let dash: DashboardHarness<'admin'>;
  let base: string;
  let admin: string;

  beforeAll(async () => {
    dash = await startDashboard({ label: 'badapi', keys: ['admin'], config: { EXCHANGE_URL: 'http://127.0.0.1:9' } });
    ({ base, keys: { admin } } = dash);
  });
  afterAll(() => dash.close());

  /** Sends `body` as it is (a string) or as JSON, with the content type given (default application/json). */
  async function trigger(body: unknown, contentType: string | null = 'application/json') {
    const headers: Record<string, string> = { 'x-api-key': admin };
    if (contentType) headers['content-type'] = contentType;
    const res = await fetch(`${base}${TRIGGER}`, {
      method: 'POST', headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text };
  }

  async function nothingQueued(): Promise<void> {
    const counts = await Promise.all(dash.queues.map(async (q) => Object.values(await q.getJobCounts()).reduce((a, b) => a + b, 0)));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(0);
    const runs = await dash.db.pool.query('SELECT count(*)::int AS n FROM collection_runs');
    expect(runs.rows[0].n).toBe(0);
  }

  /** The answer is the admin API's JSON error: `{success: false, error, message, problems}`, naming each field. */
  function expectProblems(answer: { status: number; type: string; text: string }, status: number, problems: Array<[string, string]>): void {
    expect(answer.status, answer.text).toBe(status);
    expect(answer.type).toMatch(/^application\/json/);
    const body = JSON.parse(answer.text) as { success: boolean; error: string; message: string; problems: Problem[] };
    expect(body).toMatchObject({ success: false, error: 'invalid_request' });
    expect(body.problems.map((p) => p.field)).toEqual(problems.map(([field]) => field));
    problems.forEach(([, reason], i) => expect(body.problems[i]!.message).toContain(reason));
    // The answer names what was wrong, never echoes a huge value back.
    expect(answer.text.length).toBeLessThan(2_000);
  }

  it.each<[string, unknown, Array<[string, string]>]>([
    ['a number for mode', { mode: 42 }, [['mode', 'expected one of backward, forward, gap_fill']]],
    ['null for mode', { mode: null }, [['mode', 'expected one of backward, forward, gap_fill']]],
    ['a list for mode', { mode: ['forward'] }, [['mode', 'expected one of backward, forward, gap_fill']]],
    ['a mode in capitals', { mode: 'FORWARD' }, [['mode', 'expected one of backward, forward, gap_fill']]],
    ['a negative top', { mode: 'forward', top: -5 }, [['top', 'expected a whole number from 1 to 1000']]],
    ['a huge top', { mode: 'forward', top: 1e9 }, [['top', 'expected a whole number from 1 to 1000']]],
    ['a fractional top', { mode: 'forward', top: 2.5 }, [['top', 'expected a whole number from 1 to 1000']]],
    ['null for top', { mode: 'forward', top: null }, [['top', 'expected a whole number from 1 to 1000']]],
    ['a number for timeframe', { mode: 'forward', timeframe: 60 }, [['timeframe', 'expected string']]],
    ['a number for start_date', { mode: 'backward', start_date: 20240101 }, [['start_date', 'expected']]],
    ['a start_date that is no date', { mode: 'backward', start_date: '2024-13-45' }, [['start_date', 'expected an ISO date']]],
    ['an end_date that is no date', { mode: 'backward', end_date: 'tomorrow' }, [['end_date', 'expected an ISO date']]],
    ['an end_date in the future', { mode: 'backward', end_date: '2999-01-01' }, [['end_date', 'expected a date no later than now, 2']]],
    // One timeframe per trigger: a list, repeated or not, is not a timeframe.
    ['a repeated timeframe', { mode: 'forward', timeframe: '1h,1h' }, [['timeframe', 'expected one of 1m']]],
    ['a huge start_date', { mode: 'backward', start_date: '2'.repeat(50_000) }, [['start_date', 'expected an ISO date']]],
    ['an empty list of symbols', { mode: 'forward', symbols: [] }, [['symbols', 'expected at least one coin']]],
    ['a number among the symbols', { mode: 'forward', symbols: ['BTC', 42] }, [['symbols.1', 'expected']]],
    ['an empty symbol', { mode: 'forward', symbols: [''] }, [['symbols.0', 'expected coins such as BTC or BTC/USDT']]],
    ['a string for include_delisted', { mode: 'backward', include_delisted: 'yes' }, [['include_delisted', 'expected true or false']]],
    ['an unknown source', { mode: 'backward', source: 'ftp' }, [['source', 'expected one of auto, rest, archive']]],
    // A delisted coin's history is in the archive only: REST cannot give it.
    ['include_delisted with source rest', { mode: 'backward', include_delisted: true, source: 'rest' },
      [['include_delisted', 'source rest never uses the archive: use source auto or archive']]],
    // EXCHANGE_URL points elsewhere and ARCHIVE_URL is not set: auto would not use Binance's archive.
    ['include_delisted without an archive to use', { mode: 'backward', include_delisted: true }, [['include_delisted', 'set ARCHIVE_URL too']]],
    ['an unknown field', { mode: 'forward', exchange: 'kraken' }, [['exchange', 'unknown field']]],
    ['a __proto__ field', '{"mode": "forward", "__proto__": {"top": 5}}', [['__proto__', 'unknown field']]],
    ['a deeply nested value', { mode: 'forward', top: nested(2_000) }, [['top', 'expected a whole number from 1 to 1000']]],
    ['several problems at once', { mode: 'sideways', top: 0, verbose: true }, [['verbose', 'unknown field'], ['mode', 'expected one of'], ['top', 'expected a whole number']]],
    ['a list instead of an object', [{ mode: 'forward' }], [['(body)', 'expected a JSON object']]],
    ['a JSON string', '"forward"', [['(body)', 'expected a JSON object']]],
    ['a JSON number', '42', [['(body)', 'expected a JSON object']]],
    ['JSON null', 'null', [['(body)', 'expected a JSON object']]],
    ['JSON with a bare word', '{"mode": forward}', [['(body)', 'expected a JSON object']]],
    ['an empty body', '', [['mode', 'expected one of backward, forward, gap_fill']]],
  ])('400 for %s', async (_what, body, problems) => {
    const answer = await trigger(body);
    // The order of problems is zod's (unknown keys first); compare as sets when there are several.
    if (problems.length > 1) {
      const fields = (JSON.parse(answer.text) as { problems: Problem[] }).problems.map((p) => p.field);
      expect(answer.status).toBe(400);
      expect([...fields].sort()).toEqual(problems.map(([f]) => f).sort());
    } else {
      expectProblems(answer, 400, problems);
    }
    await nothingQueued();
  });

  it('a body over 64 KiB: refused as too large, naming the body', async () => {
    const answer = await trigger({ mode: 'forward', symbols: Array.from({ length: 20_000 }, (_, i) => `C${i}`) });
    expect([400, 413]).toContain(answer.status);
    expectProblems({ ...answer, status: 400 }, 400, [['(body)', 'expected at most 64 KiB']]);
    await nothingQueued();
  });

  it.each<[string, string | null, string]>([
    ['text/plain', 'text/plain', '{"mode": "forward"}'],
    ['a form', 'application/x-www-form-urlencoded', 'mode=forward'],
    ['no content type', null, '{"mode": "forward"}'],
  ])('a body sent as %s is not read as a trigger: refused, nothing queued', async (_what, contentType, body) => {
    const answer = await trigger(body, contentType);
    expect([400, 415]).toContain(answer.status);
    expect(answer.type).toMatch(/^application\/json/);
    expect(JSON.parse(answer.text)).toMatchObject({ success: false });
    await nothingQueued();
  });

  const undecodable: Array<[string, Record<string, string>]> = [
    ['a charset body-parser cannot decode', { 'content-type': 'application/json; charset=latin1' }],
    ['a content encoding body-parser does not know', { 'content-type': 'application/json', 'content-encoding': 'zstd-x' }],
  ];

  it.each(undecodable)('a body in %s: 415, nothing queued', async (_what, headers) => {
    const res = await fetch(`${base}${TRIGGER}`, { method: 'POST', headers: { 'x-api-key': admin, ...headers }, body: '{"mode": "forward"}' });
    expect(res.status).toBe(415);
    await nothingQueued();
  });

  it.each(undecodable)('a body in %s: answered in the admin API error shape, without a stack trace', async (_what, headers) => {
    const res = await fetch(`${base}${TRIGGER}`, { method: 'POST', headers: { 'x-api-key': admin, ...headers }, body: '{"mode": "forward"}' });
    const text = await res.text();
    expect(text).not.toContain('node_modules');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(text)).toMatchObject({ success: false, problems: [{ field: '(body)' }] });
  });

  it('a start_date that does not exist (2024-02-30): 400 naming start_date', async () => {
    expectProblems(await trigger({ mode: 'backward', start_date: '2024-02-30' }), 400, [['start_date', 'expected an ISO date']]);
  });
});
