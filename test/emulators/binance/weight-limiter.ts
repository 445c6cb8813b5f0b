/**
 * Binance's request-weight accounting: a fixed window aligned to the clock (one minute by default) holds at most
 * `limit` weight. Over it: 429 with Retry-After. A client that sends again before that Retry-After has passed is
 * banned (418) for `banMs`. Windows run on real time even when the candle clock is fixed.
 */
export type Verdict =
  | { kind: 'ok'; used: number }
  | { kind: 'limited'; used: number; retryAfterMs: number }
  | { kind: 'banned'; bannedUntil: number };

export class WeightLimiter {
  private window = -1;
  private used = 0;
  /** After a 429, requests before this time (its Retry-After) are violations. */
  private limitedUntil = 0;
  private violations = 0;
  private bannedUntil = 0;
  maxWindowWeight = 0;

  charge(weight: number, limit: number, windowMs: number, banMs: number, violationsBeforeBan: number, now = Date.now()): Verdict {
    if (now < this.bannedUntil) return { kind: 'banned', bannedUntil: this.bannedUntil };
    const window = Math.floor(now / windowMs);
    if (window !== this.window) {
      this.window = window;
      this.used = 0;
    }
    if (now < this.limitedUntil) {
      // Requests already in flight when the 429 went out are forgiven; a client that keeps sending during the
      // Retry-After ("failing to back off") is banned.
      this.violations += 1;
      if (this.violations > violationsBeforeBan) {
        this.bannedUntil = now + banMs;
        return { kind: 'banned', bannedUntil: this.bannedUntil };
      }
      return { kind: 'limited', used: this.used, retryAfterMs: this.limitedUntil - now };
    }
    this.violations = 0;
    if (this.used + weight > limit) {
      const retryAfterMs = (window + 1) * windowMs - now;
      this.limitedUntil = now + retryAfterMs;
      return { kind: 'limited', used: this.used, retryAfterMs };
    }
    this.used += weight;
    this.maxWindowWeight = Math.max(this.maxWindowWeight, this.used);
    return { kind: 'ok', used: this.used };
  }

  /** A forced 429 (fault): the client must still back off for `retryAfterMs` or be banned. */
  markLimited(retryAfterMs: number, now = Date.now()): void {
    this.limitedUntil = Math.max(this.limitedUntil, now + retryAfterMs);
  }

  ban(until: number): void {
    this.bannedUntil = until;
  }

  reset(): void {
    this.window = -1;
    this.used = 0;
    this.limitedUntil = 0;
    this.violations = 0;
    this.bannedUntil = 0;
    this.maxWindowWeight = 0;
  }
}

/** Request weights as Binance documents them for the endpoints emulated. */
export function requestWeight(path: string, query: URLSearchParams): number {
  switch (path) {
    case '/api/v3/ping':
    case '/api/v3/time':
      return 1;
    case '/api/v3/exchangeInfo':
      return 20;
    case '/api/v3/klines':
      return 2;
    case '/api/v3/ticker/24hr': {
      if (query.has('symbol')) return 2;
      const symbols = query.get('symbols');
      if (!symbols) return 80;
      const n = symbols.split(',').length;
      return n <= 20 ? 2 : n <= 100 ? 40 : 80;
    }
    default:
      return 1;
  }
}

/** Binance names the used-weight header by interval: X-MBX-USED-WEIGHT-1M, -10S, -1H. */
export function usedWeightHeader(windowMs: number): string {
  for (const [ms, letter] of [[86_400_000, 'D'], [3_600_000, 'H'], [60_000, 'M'], [1_000, 'S']] as const) {
    if (windowMs % ms === 0) return `X-MBX-USED-WEIGHT-${windowMs / ms}${letter}`;
  }
  return `X-MBX-USED-WEIGHT-${windowMs}MS`;
}

export function intervalOf(windowMs: number): { interval: string; intervalNum: number } {
  for (const [ms, interval] of [[86_400_000, 'DAY'], [3_600_000, 'HOUR'], [60_000, 'MINUTE'], [1_000, 'SECOND']] as const) {
    if (windowMs % ms === 0) return { interval, intervalNum: windowMs / ms };
  }
  return { interval: 'SECOND', intervalNum: Math.max(1, Math.round(windowMs / 1000)) };
}
