/**
 * Binance's request-weight accounting for one client IP: fixed windows aligned to the clock (one minute by
 * default) each allow `limit` weight. A request that would pass the limit gets 429 with Retry-After (to the window's
 * end) and is not charged. A client that keeps sending during that Retry-After is banned (418) for `banMs`; the
 * first `violationsBeforeBan` such requests are forgiven as already in flight. Pure: every call takes `now`.
 */

export interface WeightRules {
  limit: number;
  windowMs: number;
  banMs: number;
  violationsBeforeBan: number;
}

/** Weight used in the current configured window and in the current minute (the X-MBX-USED-WEIGHT-1M header). */
export interface WeightUsage {
  used: number;
  usedMinute: number;
}

export type Verdict =
  | ({ kind: 'ok' } & WeightUsage)
  | ({ kind: 'limited'; retryAfterMs: number } & WeightUsage)
  | ({ kind: 'banned'; bannedUntil: number; newBan: boolean } & WeightUsage);

const MINUTE = 60_000;

class FixedWindow {
  private index = Number.NaN;
  used = 0;
  /** Weight asked for in this window, refused requests included. */
  demanded = 0;

  roll(now: number, windowMs: number): void {
    const index = Math.floor(now / windowMs);
    if (index !== this.index) {
      this.index = index;
      this.used = 0;
      this.demanded = 0;
    }
  }

  endsAt(windowMs: number): number {
    return (this.index + 1) * windowMs;
  }
}

export class WeightLimiter {
  private window = new FixedWindow();
  private minute = new FixedWindow();
  private windowMs = 0;
  /** After a 429, requests before this time (its Retry-After) ignore it. */
  private limitedUntil = 0;
  private violations = 0;
  private bannedUntil = 0;
  /** The most weight asked for in one window: above the limit exactly when a client overran it. */
  maxWindowWeight = 0;

  charge(weight: number, rules: WeightRules, now: number): Verdict {
    this.roll(now, rules.windowMs);
    if (now < this.bannedUntil) return this.banned(false);
    if (now < this.limitedUntil) {
      this.demand(weight);
      this.violations += 1;
      if (this.violations > rules.violationsBeforeBan) return this.ban(now + rules.banMs);
      return { kind: 'limited', retryAfterMs: this.limitedUntil - now, ...this.usage() };
    }
    this.violations = 0;
    this.demand(weight);
    if (this.window.used + weight > rules.limit) {
      this.limitedUntil = this.window.endsAt(rules.windowMs);
      return { kind: 'limited', retryAfterMs: this.limitedUntil - now, ...this.usage() };
    }
    this.window.used += weight;
    this.minute.used += weight;
    return { kind: 'ok', ...this.usage() };
  }

  /** A 429 the exchange chose to send (the `rate-limit` fault): ignoring its Retry-After leads to a ban as well. */
  forceLimited(retryAfterMs: number, rules: WeightRules, now: number): Verdict {
    this.roll(now, rules.windowMs);
    if (now < this.bannedUntil) return this.banned(false);
    this.limitedUntil = Math.max(this.limitedUntil, now + retryAfterMs);
    this.violations = 0;
    return { kind: 'limited', retryAfterMs: this.limitedUntil - now, ...this.usage() };
  }

  /** A ban the exchange chose (the `ban` fault). */
  forceBan(banMs: number, rules: WeightRules, now: number): Verdict {
    this.roll(now, rules.windowMs);
    return this.ban(Math.max(this.bannedUntil, now + banMs));
  }

  /** Usage at `now`, e.g. for answers that are not charged. */
  usageAt(now: number, windowMs: number): WeightUsage {
    this.roll(now, windowMs);
    return this.usage();
  }

  reset(): void {
    this.window = new FixedWindow();
    this.minute = new FixedWindow();
    this.limitedUntil = 0;
    this.violations = 0;
    this.bannedUntil = 0;
    this.maxWindowWeight = 0;
  }

  private roll(now: number, windowMs: number): void {
    if (windowMs !== this.windowMs) {
      // A new window length starts a new count (the emulator was reconfigured).
      this.window = new FixedWindow();
      this.windowMs = windowMs;
    }
    this.window.roll(now, windowMs);
    this.minute.roll(now, MINUTE);
  }

  private demand(weight: number): void {
    this.window.demanded += weight;
    this.maxWindowWeight = Math.max(this.maxWindowWeight, this.window.demanded);
  }

  private usage(): WeightUsage {
    return { used: this.window.used, usedMinute: this.minute.used };
  }

  private ban(until: number): Verdict {
    this.bannedUntil = until;
    this.violations = 0;
    this.limitedUntil = 0;
    return this.banned(true);
  }

  private banned(newBan: boolean): Verdict {
    return { kind: 'banned', bannedUntil: this.bannedUntil, newBan, ...this.usage() };
  }
}
