import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * A `name=value` pair, the name a whole run of name characters (the lookbehind starts a match only where a run
 * begins, so a long run without `=` is scanned once, not once per position: every redaction is linear in its input).
 */
const NAME_VALUE_PAIR = /(?<![A-Za-z0-9_%.-])([A-Za-z0-9_%.-]+)=([^&\s"']+)/g;
/** Names that carry credentials, compared after percent-decoding, lower-cased and without `-`/`_`: `api%5Fkey` is `api_key`. */
const SECRET_NAME = /(apikey|token|password|passwd|secret|signature|credential)$/;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
/** A URL's userinfo password, whatever the user name (`http://:pw@host` too); userinfo ends where the authority does. */
const URL_PASSWORD = /(:\/\/[^\s/?#@:]*:)[^\s/?#@]*@/g;

function isSecretName(name: string): boolean {
  let decoded = name;
  if (name.includes('%')) {
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // A malformed escape: judge the name as written.
    }
  }
  return SECRET_NAME.test(decoded.toLowerCase().replace(/[-_]/g, ''));
}

/** Removes credentials from free text (URLs in messages, error strings). */
export function redactText(text: string): string {
  return text
    .replace(NAME_VALUE_PAIR, (pair: string, name: string) => (isSecretName(name) ? `${name}=[redacted]` : pair))
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
