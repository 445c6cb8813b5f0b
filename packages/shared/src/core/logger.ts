import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Query parameters and key=value pairs that carry credentials, wherever they appear in a logged string. */
const SECRET_PAIR = /\b(api[_-]?key|apikey|access[_-]?token|refresh[_-]?token|token|password|secret|signature|x-amz-signature|x-amz-credential)=([^&\s"']+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s/]+@/gi;

/** Removes credentials from free text (URLs in messages, error strings). */
export function redactText(text: string): string {
  return text
    .replace(SECRET_PAIR, '$1=[redacted]')
    .replace(BEARER, '$1 [redacted]')
    .replace(URL_PASSWORD, '$1[redacted]@');
}

function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}

/** Keys whose values are credentials, at any of the first levels of a log record. */
const SECRET_KEYS = [
  'password', 'token', 'accessToken', 'refreshToken', 'apiKey', 'api_key', 'secret', 'secretAccessKey',
  'authorization', 'cookie', 'x-api-key',
];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `req.headers.${k}`, `headers["${k}"]`]);

export interface LoggerOptions {
  name: string;
  level?: string;
  format?: 'auto' | 'json' | 'pretty';
  /** Where JSON lines go; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty =
    options.format === 'pretty' || (options.format !== 'json' && !options.destination && process.stdout.isTTY);
  const base: pino.LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { log: (record) => redactDeep(record) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>;
        return method.apply(this, redacted);
      },
    },
    serializers: { err: (err: unknown) => redactDeep(pino.stdSerializers.err(err as Error)) },
  };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}
