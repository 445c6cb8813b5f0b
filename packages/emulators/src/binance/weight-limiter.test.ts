import { describe, expect, it } from 'vitest';
import { rateLimitInterval, requestWeight, usedWeightHeader } from './request-weights.js';
import { WeightLimiter, type WeightRules } from './weight-limiter.js';

const rules: WeightRules = { limit: 10, windowMs: 10_000, banMs: 60_000, violationsBeforeBan: 1 };
const T = Date.UTC(2026, 9, 20, 5, 0, 0); // a window boundary for 10 s and 1 min windows

describe('request weight accounting', () => {
  it('counts weight per fixed window aligned to the clock, not a sliding one', () => {
    const limiter = new WeightLimiter();
    expect(limiter.charge(4, rules, T + 9_000)).toEqual({ kind: 'ok', used: 4, usedMinute: 4 });
    expect(limiter.charge(6, rules, T + 9_999)).toEqual({ kind: 'ok', used: 10, usedMinute: 10 });
    // 1 ms later a new 10 s window starts empty; the minute goes on.
    expect(limiter.charge(2, rules, T + 10_000)).toEqual({ kind: 'ok', used: 2, usedMinute: 12 });
    expect(limiter.charge(3, rules, T + 60_000)).toEqual({ kind: 'ok', used: 3, usedMinute: 3 });
    expect(limiter.maxWindowWeight).toBe(10);
  });

  it('refuses a request that would pass the limit with a Retry-After to the window end, without charging it', () => {
    const limiter = new WeightLimiter();
    limiter.charge(8, rules, T + 1_000);
    expect(limiter.charge(3, rules, T + 2_500)).toEqual({ kind: 'limited', retryAfterMs: 7_500, used: 8, usedMinute: 8 });
    // The refused weight shows that the client asked for more than the limit.
    expect(limiter.maxWindowWeight).toBe(11);
  });

  it('forgives violationsBeforeBan requests sent during the Retry-After, then bans for banMs', () => {
    const limiter = new WeightLimiter();
    limiter.charge(10, rules, T);
    expect(limiter.charge(1, rules, T + 100).kind).toBe('limited');
    expect(limiter.charge(1, rules, T + 200)).toMatchObject({ kind: 'limited', retryAfterMs: 9_800 }); // forgiven: in flight
    expect(limiter.charge(1, rules, T + 300)).toMatchObject({ kind: 'banned', bannedUntil: T + 60_300, newBan: true });
    // Everything is refused until the ban ends, even in fresh windows; the ban does not grow meanwhile.
    expect(limiter.charge(1, rules, T + 30_000)).toMatchObject({ kind: 'banned', bannedUntil: T + 60_300, newBan: false });
    expect(limiter.charge(1, rules, T + 60_299).kind).toBe('banned');
    expect(limiter.charge(1, rules, T + 60_300)).toEqual({ kind: 'ok', used: 1, usedMinute: 1 });
  });

  it('lets a client that waited out the Retry-After start again', () => {
    const limiter = new WeightLimiter();
    limiter.charge(10, rules, T);
    expect(limiter.charge(1, rules, T + 5_000).kind).toBe('limited');
    expect(limiter.charge(1, rules, T + 10_000)).toEqual({ kind: 'ok', used: 1, usedMinute: 11 });
    expect(limiter.charge(10, rules, T + 10_001).kind).toBe('limited');
    // Violations were forgotten when the client backed off: one is forgiven again.
    expect(limiter.charge(1, rules, T + 10_002).kind).toBe('limited');
  });

  it('treats a forced 429 like a real one and a forced ban like a real one', () => {
    const limiter = new WeightLimiter();
    expect(limiter.forceLimited(3_000, rules, T)).toMatchObject({ kind: 'limited', retryAfterMs: 3_000 });
    expect(limiter.charge(1, rules, T + 1_000).kind).toBe('limited');
    expect(limiter.charge(1, rules, T + 1_500).kind).toBe('banned');
    limiter.reset();
    expect(limiter.charge(1, rules, T + 1_600).kind).toBe('ok');
    expect(limiter.forceBan(2_000, rules, T + 2_000)).toMatchObject({ kind: 'banned', bannedUntil: T + 4_000, newBan: true });
    expect(limiter.charge(1, rules, T + 4_000).kind).toBe('ok');
  });

  it('starts a new count when the window length changes', () => {
    const limiter = new WeightLimiter();
    limiter.charge(9, rules, T);
    expect(limiter.charge(9, { ...rules, windowMs: 60_000, limit: 100 }, T + 1)).toEqual({ kind: 'ok', used: 9, usedMinute: 18 });
  });
});

describe('Binance request weights and window names', () => {
  const q = (s: string) => new URLSearchParams(s);
  const symbols = (n: number) => `symbols=${encodeURIComponent(JSON.stringify(Array.from({ length: n }, (_, i) => `S${i}USDT`)))}`;

  it('charges the documented weights', () => {
    expect(requestWeight('/api/v3/ping', q(''))).toBe(1);
    expect(requestWeight('/api/v3/time', q(''))).toBe(1);
    expect(requestWeight('/api/v3/exchangeInfo', q('symbol=BTCUSDT'))).toBe(20);
    expect(requestWeight('/api/v3/klines', q('symbol=BTCUSDT&interval=1h&limit=1000'))).toBe(2);
    expect(requestWeight('/api/v3/ticker/24hr', q('symbol=BTCUSDT'))).toBe(2);
    expect(requestWeight('/api/v3/ticker/24hr', q(''))).toBe(80);
    expect([1, 20, 21, 100, 101].map((n) => requestWeight('/api/v3/ticker/24hr', q(symbols(n))))).toEqual([2, 2, 40, 40, 80]);
  });

  it('names windows as exchangeInfo and the used-weight headers do', () => {
    expect(rateLimitInterval(60_000)).toEqual({ interval: 'MINUTE', intervalNum: 1, letter: 'M' });
    expect(rateLimitInterval(10_000)).toEqual({ interval: 'SECOND', intervalNum: 10, letter: 'S' });
    expect(rateLimitInterval(7_200_000)).toEqual({ interval: 'HOUR', intervalNum: 2, letter: 'H' });
    expect(usedWeightHeader(60_000)).toBe('X-MBX-USED-WEIGHT-1M');
    expect(usedWeightHeader(2_000)).toBe('X-MBX-USED-WEIGHT-2S');
    expect(usedWeightHeader(86_400_000)).toBe('X-MBX-USED-WEIGHT-1D');
    expect(() => rateLimitInterval(1_500)).toThrow(/1500 ms/);
  });
});
