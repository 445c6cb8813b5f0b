import type { FailureKind } from './errors.js';

/**
 * The one retry policy: how long to wait before the next attempt, by failure kind.
 * Pure, so it is unit-tested without queues.
 */
export const RETRY_POLICY = {
  /** Rate limits: wait as asked; when the source did not say, back off from 1 s, at most 5 minutes. */
  rateLimited: { baseMs: 1_000, maxMs: 5 * 60_000 },
  /** Bans: wait as asked (Binance says in Retry-After); when it did not say, 2 minutes, its smallest ban. */
  banned: { defaultMs: 2 * 60_000, maxMs: 3 * 24 * 60 * 60_000 },
  network: { baseMs: 1_000, maxMs: 60_000 },
  transient: { baseMs: 500, maxMs: 30_000 },
  /** ferry's own PostgreSQL is down: not the job's fault, so no attempt is spent; look again every 1-3 s. */
  storeOutage: { minMs: 1_000, maxMs: 3_000 },
} as const;

/** How long a job waits while PostgreSQL does not answer (jittered, so that the jobs do not come back together). */
export function storeOutageDelayMs(random: () => number = Math.random): number {
  const { minMs, maxMs } = RETRY_POLICY.storeOutage;
  return Math.round(minMs + (maxMs - minMs) * random());
}

/**
 * Delay before retrying after the `attempt`-th failure (1-based). Exponential with "full jitter" so that many
 * workers failing together do not come back together. `random` is injectable for tests.
 */
export function retryDelayMs(
  kind: FailureKind,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, attempt);
  switch (kind) {
    case 'rate-limited': {
      if (retryAfterMs !== undefined) return clamp(retryAfterMs, 0, RETRY_POLICY.rateLimited.maxMs);
      return exponential(RETRY_POLICY.rateLimited.baseMs, RETRY_POLICY.rateLimited.maxMs, n, () => 1);
    }
    case 'banned':
      return clamp(retryAfterMs ?? RETRY_POLICY.banned.defaultMs, 0, RETRY_POLICY.banned.maxMs);
    case 'network':
      return exponential(RETRY_POLICY.network.baseMs, RETRY_POLICY.network.maxMs, n, random);
    case 'transient':
      return exponential(RETRY_POLICY.transient.baseMs, RETRY_POLICY.transient.maxMs, n, random);
    case 'permanent':
      return 0;
  }
}

function exponential(baseMs: number, maxMs: number, attempt: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  // Full jitter, but never less than half the ceiling, so a retry is not immediate.
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
