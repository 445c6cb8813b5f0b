/** Wrong keys allowed per client address in a window; after that its wrong keys get 429 until the window ends. */
export const FAILURES_ALLOWED = 10;
export const FAILURE_WINDOW_MS = 15 * 60_000;
/** Addresses remembered at most: enough for any team, and a flood of addresses cannot grow memory without bound. */
const MAX_CLIENTS = 10_000;

interface Window {
  failures: number;
  endsAt: number;
}

/**
 * Wrong keys per client address, in fixed windows, in this process's memory. Only failures count, and nothing here
 * refuses a request by itself: the caller checks a key first, so a correct key still gets in from an address a
 * guesser (behind the same NAT) has used up.
 */
export class FailedAttempts {
  private readonly clients = new Map<string, Window>();

  constructor(private readonly allowed = FAILURES_ALLOWED, private readonly windowMs = FAILURE_WINDOW_MS, private readonly now = Date.now) {}

  /** Records a wrong key; returns the seconds until the window ends when the client is now over its limit. */
  recordFailure(client: string): number | undefined {
    const now = this.now();
    let window = this.clients.get(client);
    if (!window || window.endsAt <= now) {
      this.forget(now);
      window = { failures: 0, endsAt: now + this.windowMs };
      this.clients.set(client, window);
    }
    window.failures++;
    return window.failures > this.allowed ? Math.ceil((window.endsAt - now) / 1000) : undefined;
  }

  /** Seconds until the client may try wrong keys again, or undefined when it is under its limit. */
  retryAfterSeconds(client: string): number | undefined {
    const window = this.clients.get(client);
    const now = this.now();
    if (!window || window.endsAt <= now || window.failures < this.allowed) return undefined;
    return Math.ceil((window.endsAt - now) / 1000);
  }

  private forget(now: number): void {
    if (this.clients.size < MAX_CLIENTS) return;
    for (const [client, window] of this.clients) if (window.endsAt <= now) this.clients.delete(client);
    // Still full of live windows: the oldest go first (a Map iterates in insertion order).
    for (const client of this.clients.keys()) {
      if (this.clients.size < MAX_CLIENTS) break;
      this.clients.delete(client);
    }
  }
}
