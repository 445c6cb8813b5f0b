import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/**
 * One request-weight budget per exchange, kept in Redis and shared by every worker process on every host, so the
 * exchange's limit holds however many workers run. A fixed window (as Binance counts weight: per window aligned to
 * the clock) holds at most `limit` weight; a request that would pass it waits for the next window. A pause (after a
 * 429 or a 418) blocks every request of every worker until it ends.
 *
 * Time is Redis's own clock (TIME inside the script), so hosts with skewed clocks still agree on windows.
 */

export interface BudgetLimits {
  /** Weight allowed per window for all workers together (already reduced by headroom). */
  limit: number;
  windowMs: number;
}

export interface Acquired {
  /** Index of the window the weight was taken from (ms since epoch / windowMs). */
  window: number;
  /** How long this request waited for budget, in ms. */
  waitedMs: number;
}

// KEYS[1] = window counter key prefix, KEYS[2] = pause key
// ARGV[1] = weight, ARGV[2] = limit, ARGV[3] = windowMs, ARGV[4] = guardMs
// Returns {0, window} when granted, {waitMs, window} when the caller must wait.
// Nothing is granted in the last guardMs of a window: a request sent then would reach the exchange in its next
// window and be counted there, on top of that window's full budget.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pause = redis.call('PTTL', KEYS[2])
local windowMs = tonumber(ARGV[3])
local window = math.floor(now / windowMs)
if pause > 0 then return {pause, window} end
local untilNext = (window + 1) * windowMs - now
if untilNext <= tonumber(ARGV[4]) then return {untilNext, window} end
local key = KEYS[1] .. window
local used = tonumber(redis.call('GET', key) or '0')
local weight = tonumber(ARGV[1])
if used + weight > tonumber(ARGV[2]) and used > 0 then
  return {(window + 1) * windowMs - now, window}
end
redis.call('INCRBY', key, weight)
redis.call('PEXPIRE', key, windowMs * 2)
return {0, window}
`;

// Raise the current window's count to what the exchange reports (other clients on the same IP, clock drift).
// A report arriving just after a window turned may still describe the previous window, so the first moments of a
// window ignore reports rather than block the new window with the old count.
// KEYS[1] = window counter key prefix; ARGV[1] = used weight reported, ARGV[2] = windowMs, ARGV[3] = graceMs
const OBSERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local windowMs = tonumber(ARGV[2])
local window = math.floor(now / windowMs)
if now - window * windowMs < tonumber(ARGV[3]) then return 0 end
local key = KEYS[1] .. window
local used = tonumber(redis.call('GET', key) or '0')
if tonumber(ARGV[1]) > used then
  redis.call('SET', key, ARGV[1], 'PX', windowMs * 2)
  return 1
end
return 0
`;

// Extends the pause to at least ARGV[1] ms from now (a later, shorter pause never shortens a ban).
const PAUSE = `
local current = redis.call('PTTL', KEYS[1])
if current < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
  return 1
end
return 0
`;

/** The end of each window kept free of new requests: 250 ms (several round trips), at most 5% of the window. */
export function guardMs(windowMs: number): number {
  return Math.min(250, Math.floor(windowMs / 20));
}

export class WeightBudget {
  // Window counters are per window length, so processes that briefly disagree on the window never mix counts.
  private windowPrefix: string;
  private readonly pauseKey: string;

  constructor(
    private readonly redis: Redis,
    /** e.g. `ferry:budget:binance` */
    private readonly keyPrefix: string,
    private limits: BudgetLimits,
  ) {
    this.windowPrefix = `${keyPrefix}:${limits.windowMs}:w:`;
    this.pauseKey = `${keyPrefix}:pause`;
  }

  get current(): BudgetLimits {
    return this.limits;
  }

  setLimits(limits: BudgetLimits): void {
    this.limits = limits;
    this.windowPrefix = `${this.keyPrefix}:${limits.windowMs}:w:`;
  }

  /** Waits until `weight` fits in the shared window and takes it. Rejects if `signal` aborts while waiting. */
  async acquire(weight: number, signal?: AbortSignal): Promise<Acquired> {
    // A single request heavier than the whole window could never fit; let it through alone in a fresh window.
    const w = Math.min(weight, this.limits.limit);
    let waitedMs = 0;
    for (;;) {
      signal?.throwIfAborted();
      const [waitMs, window] = (await this.redis.eval(
        ACQUIRE, 2, this.windowPrefix, this.pauseKey, w, this.limits.limit, this.limits.windowMs, guardMs(this.limits.windowMs),
      )) as [number, number];
      if (waitMs <= 0) return { window, waitedMs };
      // Small jitter so that waiting workers do not stampede the first millisecond of the next window.
      const delay = waitMs + Math.floor(Math.random() * 25);
      waitedMs += delay;
      await sleep(delay, undefined, signal ? { signal } : undefined);
    }
  }

  /** Records the exchange's own count of used weight in the current window. */
  async observeUsed(usedWeight: number): Promise<void> {
    const graceMs = Math.min(2_000, this.limits.windowMs / 5);
    await this.redis.eval(OBSERVE, 1, this.windowPrefix, Math.ceil(usedWeight), this.limits.windowMs, graceMs);
  }

  /** Blocks every request of every worker for at least `ms`. */
  async pauseFor(ms: number): Promise<void> {
    await this.redis.eval(PAUSE, 1, this.pauseKey, Math.max(1, Math.ceil(ms)));
  }

  /** Remaining pause in ms (0 when not paused). */
  async pausedForMs(): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.pauseKey));
  }
}
