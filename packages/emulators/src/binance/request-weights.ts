/** Request weights as Binance's spot REST docs give them, and how windows are named in headers and exchangeInfo. */

/** `symbols=["A","B"]` (JSON, possibly URL-encoded by the client) to its list, or undefined when malformed. */
export function parseSymbolList(raw: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed) || !parsed.every((p): p is string => typeof p === 'string' && /^[A-Z0-9-_.]{1,20}$/.test(p))) {
      return undefined;
    }
    return parsed;
  } catch {
    return undefined;
  }
}

/** ticker/24hr: 2 for one symbol; `symbols` 2 for 1-20, 40 for 21-100, 80 for more; 80 for all. */
function ticker24hrWeight(query: URLSearchParams): number {
  if (query.has('symbol')) return 2;
  const raw = query.get('symbols');
  if (raw === null) return 80;
  const n = parseSymbolList(raw)?.length ?? raw.split(',').length;
  return n <= 20 ? 2 : n <= 100 ? 40 : 80;
}

const WEIGHTS: Record<string, (query: URLSearchParams) => number> = {
  '/api/v3/ping': () => 1,
  '/api/v3/time': () => 1,
  '/api/v3/exchangeInfo': () => 20,
  '/api/v3/klines': () => 2,
  '/api/v3/ticker/24hr': ticker24hrWeight,
};

/** The weight Binance charges for a request to `path` (1 for paths it does not document here). */
export function requestWeight(path: string, query: URLSearchParams): number {
  return WEIGHTS[path]?.(query) ?? 1;
}

const UNITS = [[86_400_000, 'DAY', 'D'], [3_600_000, 'HOUR', 'H'], [60_000, 'MINUTE', 'M'], [1_000, 'SECOND', 'S']] as const;

/** A window as exchangeInfo.rateLimits declares it: 10 s -> {SECOND, 10}, 1 min -> {MINUTE, 1}. */
export function rateLimitInterval(windowMs: number): { interval: string; intervalNum: number; letter: string } {
  for (const [ms, interval, letter] of UNITS) {
    if (windowMs % ms === 0) return { interval, intervalNum: windowMs / ms, letter };
  }
  throw new Error(`a weight window of ${windowMs} ms is not a whole number of seconds`);
}

/** `X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter)`: 60 000 -> X-MBX-USED-WEIGHT-1M, 10 000 -> ...-10S. */
export function usedWeightHeader(windowMs: number): string {
  const { intervalNum, letter } = rateLimitInterval(windowMs);
  return `X-MBX-USED-WEIGHT-${intervalNum}${letter}`;
}
