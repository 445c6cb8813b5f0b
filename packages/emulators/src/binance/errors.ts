import { htmlReply, jsonReply, type Reply } from './reply.js';
import { rateLimitInterval } from './request-weights.js';

/**
 * Every error the emulated exchange answers, worded as Binance's errors.md words them: request errors are HTTP 400
 * with `{"code": -11xx, "msg": "..."}`.
 */

const binanceError = (code: number, msg: string, status = 400): Reply => jsonReply({ code, msg }, status);

export const invalidSymbol = () => binanceError(-1121, 'Invalid symbol.');
export const invalidInterval = () => binanceError(-1120, 'Invalid interval.');
export const invalidSymbolStatus = () => binanceError(-1122, 'Invalid symbolStatus.');
export const symbolStatusMismatch = () => binanceError(-1220, "The symbol's status does not match the requested symbolStatus.");
export const mandatoryParameter = (name: string) =>
  binanceError(-1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
export const illegalCharacters = (name: string, legalRange: string) =>
  binanceError(-1100, `Illegal characters found in parameter '${name}'; legal range is '${legalRange}'.`);
export const invalidParameter = (name: string) => binanceError(-1130, `Data sent for parameter '${name}' is not valid.`);
export const startAfterEnd = () => binanceError(-1023, 'Start time is greater than end time.');
export const badParameterCombination = () => binanceError(-1128, 'Combination of optional parameters invalid.');
export const duplicateParameter = () => binanceError(-1101, 'Duplicate values for a parameter detected.');
export const unreadParameters = (read: number, sent: number) =>
  binanceError(-1104, `Not all sent parameters were read; read '${read}' parameter(s) but was sent '${sent}'.`);

/** The legal range Binance quotes for a malformed `symbols` list. */
export const SYMBOLS_RANGE = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$';
export const SYMBOL_RANGE = '^[A-Z0-9-_.]{1,20}$';
export const LONG_RANGE = '^[0-9]{1,20}$';

export function notFound(method: string, path: string): Reply {
  return binanceError(-1000, `emulator: no route ${method} ${path}`, 404);
}

/** 429: over the weight limit; Retry-After is whole seconds to the window's end. */
export function tooMuchWeight(limit: number, windowMs: number, retryAfterMs: number): Reply {
  const { interval, intervalNum } = rateLimitInterval(windowMs);
  return jsonReply({
    code: -1003,
    msg: `Too much request weight used; current limit is ${limit} request weight per ${intervalNum} ${interval}. ` +
      'Please use WebSocket Streams for live updates to avoid polling the API.',
  }, 429, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
}

/** 418: banned for ignoring 429s; the body names the end of the ban in epoch ms, Retry-After counts to it. */
export function ipBanned(bannedUntil: number, now: number): Reply {
  return jsonReply({
    code: -1003,
    msg: `Way too much request weight used; IP banned until ${bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`,
  }, 418, { 'Retry-After': String(Math.max(1, Math.ceil((bannedUntil - now) / 1000))) });
}

/** Binance's own "try again" error (HTTP 5xx: the outcome is unknown). */
export function internalError(status = 503): Reply {
  return binanceError(-1001, 'Internal error; unable to process your request. Please try again.', status);
}

const STATUS_TEXT: Record<number, string> = {
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out',
};

/** A 5xx from the gateway in front of the exchange (an HTML page), or from the exchange itself (JSON -1001). */
export function gatewayError(status: number, body: 'html' | 'json'): Reply {
  const code = STATUS_TEXT[status] ? status : 502;
  if (body === 'json') return internalError(code);
  const title = `${code} ${STATUS_TEXT[code]}`;
  return htmlReply(`<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`, code);
}

/** A maintenance page served with 200, as a CDN does while the API is down. */
export function maintenancePage(): Reply {
  return htmlReply('<!DOCTYPE html><html><head><title>Binance</title></head><body><h1>System maintenance</h1>' +
    '<p>Binance is upgrading its system. Please wait.</p></body></html>', 200);
}

/**
 * 451: Binance refuses requests from a restricted location (Binance REST docs, "HTTP Return Codes"). The body is
 * Binance's, word for word.
 */
export function restrictedLocation(): Reply {
  return jsonReply({
    code: 0,
    msg: "Service unavailable from a restricted location according to 'b. Eligibility' in https://www.binance.com/en/terms. " +
      'Please contact customer service if you believe you received this message in error.',
  }, 451);
}

/** 403: the web application firewall in front of the API refused the request (a WAF rule was hit). */
export function wafBlocked(): Reply {
  return htmlReply('<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n<center><h1>403 Forbidden</h1></center>\r\n' +
    '</body>\r\n</html>\r\n', 403);
}
