/**
 * What every emulator shares: knobs a test turns (latency, random error rate, named faults) and counters it reads.
 * The same surface is reachable in-process (tests) and over HTTP under `/__control/` (the `npm run emulators` CLI,
 * benchmarks and chaos runs in other processes).
 */

export interface FaultRule {
  /** Emulator-specific name, e.g. `truncated-body`, `rate-limit`, `expired-token`. */
  name: string;
  /** How many requests it hits before it is spent; absent = until cleared. */
  remaining?: number;
  /** Only requests whose path contains this string are hit. */
  pathIncludes?: string;
  /** Probability (0..1) that a matching request is hit; default 1. */
  probability?: number;
  /** Free-form parameters of the fault (e.g. `{ retryAfterSeconds: 2 }`). */
  params?: Record<string, unknown>;
}

export interface BaseSettings {
  /** Added before every answer, in milliseconds. */
  latencyMs: number;
  /** Probability (0..1) that a request gets the emulator's generic server error. */
  errorRate: number;
}

export class EmulatorControl<S extends BaseSettings = BaseSettings> {
  readonly counters = new Map<string, number>();
  private faults: FaultRule[] = [];
  settings: S;

  constructor(private readonly defaults: S) {
    this.settings = { ...defaults };
  }

  count(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  counter(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counters.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  configure(patch: Partial<S>): S {
    this.settings = { ...this.settings, ...patch };
    return this.settings;
  }

  addFault(rule: FaultRule): void {
    this.faults.push({ ...rule });
  }

  clearFaults(name?: string): void {
    this.faults = name ? this.faults.filter((f) => f.name !== name) : [];
  }

  listFaults(): FaultRule[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Returns the fault that hits this request (spending one of its uses), if any. */
  takeFault(path: string, names?: readonly string[]): FaultRule | undefined {
    for (const fault of this.faults) {
      if (names && !names.includes(fault.name)) continue;
      if (fault.pathIncludes && !path.includes(fault.pathIncludes)) continue;
      if (fault.remaining !== undefined && fault.remaining <= 0) continue;
      if (fault.probability !== undefined && Math.random() >= fault.probability) continue;
      if (fault.remaining !== undefined) fault.remaining -= 1;
      this.count(`fault:${fault.name}`);
      return fault;
    }
    return undefined;
  }

  /** Forget counters and faults and return to the settings the emulator started with. */
  reset(): void {
    this.counters.clear();
    this.faults = [];
    this.settings = { ...this.defaults };
  }
}
