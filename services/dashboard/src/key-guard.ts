import { setTimeout as sleep } from 'node:timers/promises';
import { hashApiKey, listActiveKeyHashes, verifyApiKey, type ApiKeyOwner } from '@ferry/shared/auth';
import { type Pool } from '@ferry/shared/postgres';
import { FailedAttempts } from './failed-attempts.js';

/** What checking a key from a client decided. */
export type KeyCheck =
  | { outcome: 'accepted'; owner: ApiKeyOwner }
  /** A wrong, unknown or revoked key; `retryAfterSeconds` when the client is over its failure limit (429). */
  | { outcome: 'refused'; retryAfterSeconds?: number }
  /** The key store did not answer: nothing was decided and no failure was counted (503). */
  | { outcome: 'unavailable' };

/** Reloads of the active key hashes are at least this far apart, however many unknown keys arrive (at most 5 queries/s). */
const RELOAD_INTERVAL_MS = 200;

/**
 * Checks every key a request brings, however it arrives (sign-in form, Basic, X-API-Key, Bearer, ?api_key=).
 * A key whose hash is not among the active ones held in memory is refused after one shared, throttled reload, so
 * guesses cost no query each; a known hash is confirmed in the database (revocation takes effect at once). Failures
 * are counted per client, but only after the key was checked: a correct key is let in from any address.
 */
export class ApiKeyGuard {
  readonly failures: FailedAttempts;
  private hashes = new Set<string>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private reloading: Promise<void> | undefined;

  constructor(private readonly db: Pool, failures = new FailedAttempts()) {
    this.failures = failures;
  }

  async check(key: string, client: string): Promise<KeyCheck> {
    const hash = hashApiKey(key);
    let owner: ApiKeyOwner | undefined;
    try {
      if (!this.hashes.has(hash)) await this.reload();
      if (this.hashes.has(hash)) {
        owner = await verifyApiKey(this.db, key);
        if (!owner) this.hashes.delete(hash);
      }
    } catch {
      return { outcome: 'unavailable' };
    }
    if (owner) return { outcome: 'accepted', owner };
    return { outcome: 'refused', retryAfterSeconds: this.failures.recordFailure(client) };
  }

  /** One reload at a time, shared by every unknown key that waits for it. */
  private reload(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        const wait = this.loadedAt + RELOAD_INTERVAL_MS - Date.now();
        if (wait > 0) await sleep(wait);
        this.hashes = new Set(await listActiveKeyHashes(this.db));
      } finally {
        // A failed reload waits its turn too: a store that is down is not asked once per unknown key.
        this.loadedAt = Date.now();
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }
}
