import { DataValidationError, PermanentError, TransientError, type FerryError } from '../core/errors.js';
import { redactText } from '../core/logger.js';

/**
 * Checks of what an exchange answered, made before ccxt parses it. ccxt does not refuse an answer it cannot read: a
 * 200 HTML page becomes a string whose characters are parsed as candles, an exchangeInfo without symbols becomes an
 * empty (and cached) market list, a kline that is null or whose open time is text is silently dropped, which a
 * collector would then record as a hole in the exchange's history. So each of these becomes an error here.
 *
 * How they are classified (errors.ts):
 *  - Not JSON at all (an HTML page, an empty body) with a 2xx status: transient. Such pages come from whatever stands
 *    in front of the exchange (a CDN's maintenance page, a captive proxy) and pass; the exchange itself answers JSON.
 *    (A 5xx page is already ccxt's ExchangeNotAvailable, also transient.)
 *  - Empty where the exchange must list something (no markets, no tickers, no candles from a time on for a pair that
 *    is trading): transient. Exchanges answer so during maintenance and partial outages, nothing is stored from it,
 *    and asking again later reads the real answer.
 *  - JSON of the wrong shape (an object where a list belongs, a kline that is null, too short, or has text for a
 *    number): permanent, like a candle that fails its sanity check. The exchange answered, asking again gets the same
 *    bytes, and a person has to look (an API change, a base URL pointing at something else).
 */

/** The start of an answer's text, for error messages: enough to recognise it, never a whole page; one line, redacted. */
export function answerSnippet(text: string, max = 120): string {
  const line = redactText(text.replace(/\s+/g, ' ').trim());
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** A parsed JSON value as it was sent (strings quoted), shortened like answerSnippet. */
export function jsonSnippet(value: unknown, max = 120): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return answerSnippet(text, max);
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

function headerValue(headers: Record<string, string | undefined> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * A 2xx answer that is not JSON: an HTML page or an empty body. Other exchanges' non-JSON answers (a plain-text
 * timestamp, say) are left to ccxt. Undefined when the answer is JSON.
 */
export function nonJsonAnswerError(
  exchangeId: string,
  request: { method: string; url: string },
  answer: { status: number; headers: Record<string, string | undefined> | undefined; body: unknown; json: unknown },
): FerryError | undefined {
  if (answer.status < 200 || answer.status >= 300 || answer.json !== undefined) return undefined;
  const text = typeof answer.body === 'string' ? answer.body.trim() : '';
  const contentType = headerValue(answer.headers, 'content-type') ?? 'no content type';
  const what = text === ''
    ? 'an empty body'
    : /html/i.test(contentType) || text.startsWith('<')
      ? `an HTML page (${contentType}: ${JSON.stringify(answerSnippet(text, 80))})`
      : undefined;
  if (!what) return undefined;
  return new TransientError(
    `${exchangeId} ${request.method} ${pathOf(request.url)} answered HTTP ${answer.status} with ${what} instead of JSON: ` +
    'something in front of the exchange (a CDN or proxy, maintenance) answered; trying again later');
}

type ShapeCheck = (json: unknown) => string | undefined;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What Binance's public spot endpoints that ferry calls answer, by path; each check says what was expected. */
const BINANCE_SHAPES: Record<string, ShapeCheck> = {
  '/api/v3/klines': (json) => (Array.isArray(json) ? undefined : 'a list of klines'),
  '/api/v3/exchangeInfo': (json) => (isObject(json) && Array.isArray(json['symbols']) ? undefined : 'an object with a list of symbols'),
  '/api/v3/ticker/24hr': (json) => (Array.isArray(json) || (isObject(json) && typeof json['symbol'] === 'string') ? undefined : 'a list of 24h tickers'),
  '/api/v3/time': (json) => (isObject(json) && Number.isSafeInteger(json['serverTime']) ? undefined : 'an object with serverTime in epoch milliseconds'),
};

const SHAPES: Record<string, Record<string, ShapeCheck>> = { binance: BINANCE_SHAPES };

/** A 2xx JSON answer of a shape the endpoint never answers (for the exchanges whose shapes are listed here). */
export function answerShapeError(
  exchangeId: string,
  request: { method: string; url: string },
  answer: { status: number; json: unknown },
): FerryError | undefined {
  if (answer.status < 200 || answer.status >= 300 || answer.json === undefined) return undefined;
  const path = pathOf(request.url);
  const check = SHAPES[exchangeId]?.[path];
  const expected = check?.(answer.json);
  if (!expected) return undefined;
  return new PermanentError(
    `${exchangeId} ${request.method} ${path} answered JSON of the wrong shape: expected ${expected}, got ${jsonSnippet(answer.json)}`);
}

const OHLCV_FIELDS = ['open time', 'open', 'high', 'low', 'close', 'volume'] as const;
/** How an OHLCV row is described in errors. */
export const OHLCV_ROW = `[${OHLCV_FIELDS.join(', ')}]`;

/**
 * What is wrong with one OHLCV row as ccxt parsed it (ccxt leaves a field it cannot read undefined), or undefined
 * when it has an integer open time and five finite numbers.
 */
export function ohlcvRowProblem(row: unknown): string | undefined {
  if (!Array.isArray(row) || row.length < OHLCV_FIELDS.length) return `expected ${OHLCV_ROW}`;
  for (let i = 0; i < OHLCV_FIELDS.length; i++) {
    const v: unknown = row[i];
    const ok = i === 0 ? Number.isSafeInteger(v) : typeof v === 'number' && Number.isFinite(v);
    if (ok) continue;
    const field = `its ${OHLCV_FIELDS[i]}`;
    if (v === undefined || v === null) return `${field} is missing or not a number`;
    if (typeof v !== 'number') return `${field} is ${jsonSnippet(v, 40)}, not a number`;
    return `${field} is ${v}, not ${i === 0 ? 'whole epoch milliseconds' : 'a finite number'}`;
  }
  return undefined;
}

/** A kline the exchange sent that ferry cannot read; `fetchPage` adds which coin and page it was. */
export class MalformedKlineError extends DataValidationError {
  constructor(raw: unknown, problem: string) {
    super(`a kline is ${raw === undefined ? 'missing' : jsonSnippet(raw)}: ${problem}`);
  }
}
