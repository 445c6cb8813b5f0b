import { isIP } from 'node:net';
import cronParser from 'cron-parser';
import { z } from 'zod';

/**
 * Every setting ferry reads from the environment, in one table: its schema, its default and one line of docs.
 * `.env.example` is checked against this table by a test, so the two cannot drift apart.
 * `secret: true` values never reach logs, error messages or job data.
 */
export interface VariableSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** The default as it would be written in the environment; undefined = unset unless given. */
  default?: string;
  doc: string;
  secret?: boolean;
  /** A URL: messages show it through `redactUrlCredentials`, since any URL may carry a password or a token. */
  url?: boolean;
  /** Human wording of what is expected, used in error messages. */
  expected: string;
}

const spec = <S extends z.ZodType>(s: VariableSpec<S>): VariableSpec<S> => s;

const int = (min: number, max: number) =>
  z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));
const url = (protocols: readonly string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  });
const optionalUrl = (protocols: readonly string[]) => url(protocols).optional();
const optionalString = z.string().min(1).optional();
const ratio = z.coerce.number().gt(0).max(1);
/** `90s`, `5m`, `2h` -> milliseconds; `off` -> null (the schedule is disabled). */
const everyOrOff = z
  .string()
  .regex(/^(off|[1-9][0-9]{0,5}[smh])$/)
  .transform((v) => (v === 'off' ? null : Number(v.slice(0, -1)) * { s: 1_000, m: 60_000, h: 3_600_000 }[v.slice(-1) as 's' | 'm' | 'h']));

/** `30s`, `12h`, `90d` -> milliseconds: how long something is kept. */
const keptFor = z
  .string()
  .regex(/^[1-9][0-9]{0,5}[smhd]$/)
  .transform((v) => Number(v.slice(0, -1)) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[v.slice(-1) as 's' | 'm' | 'h' | 'd']);

/** A cron expression BullMQ's job schedulers accept (they parse with cron-parser too); `off` -> null. */
const cronOrOff = z
  .string()
  .refine((v) => {
    if (v === 'off') return true;
    try {
      cronParser.parseExpression(v, { tz: 'UTC' });
      return v.trim().split(/\s+/).length >= 5;
    } catch {
      return false;
    }
  })
  .transform((v) => (v === 'off' ? null : v));

/** Proxy addresses Express understands by name (proxy-addr's presets). */
const PROXY_PRESETS = ['loopback', 'linklocal', 'uniquelocal'];
const isProxyAddress = (v: string) => {
  const [address = '', bits, extra] = v.split('/');
  const family = isIP(address);
  if (extra !== undefined || family === 0) return PROXY_PRESETS.includes(v);
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};
/**
 * Express's `trust proxy`: `off` -> false; a hop count; or the proxies' addresses and subnets. `true` (trust any
 * X-Forwarded-For) is not offered: it would let every client choose the address the sign-in limit counts.
 */
const trustProxy = z.string().trim().refine((v) => v === 'off' || /^[1-9]$/.test(v) || v.split(',').every((a) => isProxyAddress(a.trim())))
  .transform((v): false | number | string[] => (v === 'off' ? false : /^[1-9]$/.test(v) ? Number(v) : v.split(',').map((a) => a.trim())));

export const VARIABLES = {
  // --- process ---
  LOG_LEVEL: spec({
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    expected: 'one of fatal, error, warn, info, debug, trace, silent',
    doc: 'Minimum log level.',
  }),
  LOG_FORMAT: spec({
    schema: z.enum(['auto', 'json', 'pretty']),
    default: 'auto',
    expected: 'one of auto, json, pretty',
    doc: 'auto = pretty in a terminal, JSON otherwise.',
  }),

  // --- Redis / BullMQ ---
  REDIS_URL: spec({
    schema: url(['redis:', 'rediss:']),
    default: 'redis://127.0.0.1:6379',
    url: true,
    expected: 'a redis:// or rediss:// URL',
    doc: 'Redis holding the BullMQ queues and the shared rate-limit budget.',
  }),
  QUEUE_PREFIX: spec({
    schema: z.string().regex(/^[a-zA-Z0-9_-]+$/),
    default: 'ferry',
    expected: 'letters, digits, _ or -',
    doc: 'Prefix of every Redis key ferry writes (lets several ferries share one Redis).',
  }),

  // --- PostgreSQL ---
  DATABASE_URL: spec({
    schema: url(['postgres:', 'postgresql:']),
    default: 'postgres://postgres@127.0.0.1:5432/postgres',
    url: true,
    expected: 'a postgres:// URL',
    doc: 'PostgreSQL holding candles, runs and per-item results.',
    secret: true,
  }),
  DATABASE_POOL_SIZE: spec({
    schema: int(1, 200),
    default: '10',
    expected: 'an integer from 1 to 200',
    doc: 'Connections per process.',
  }),

  // --- files ---
  DATA_DIR: spec({
    schema: z.string().min(1),
    default: './data',
    expected: 'a directory path',
    doc: 'Where Parquet files (data/candles/...) and caches are written.',
  }),

  // --- exchange (crypto candles) ---
  EXCHANGE: spec({
    schema: z.string().regex(/^[a-z0-9]+$/),
    default: 'binance',
    expected: 'a ccxt exchange id such as binance',
    doc: 'Default exchange for collections.',
  }),
  EXCHANGE_URL: spec({
    schema: optionalUrl(['http:', 'https:']),
    url: true,
    expected: 'an http(s) URL',
    doc: "Replaces the exchange's REST base URL (proxy, testnet, emulator). Unset = the real exchange.",
  }),
  ARCHIVE_URL: spec({
    schema: url(['http:', 'https:']),
    default: 'https://s3-ap-northeast-1.amazonaws.com/data.binance.vision',
    url: true,
    expected: 'an http(s) URL',
    doc: "Binance's public data archive (data.binance.vision): the bucket's S3 address, which serves both its listing " +
      "and its files. Used by `ferry collect --source auto|archive` and `--include-delisted`; with EXCHANGE_URL set, auto " +
      'uses it only when set too.',
  }),
  EXCHANGE_TIMEOUT_MS: spec({
    schema: int(1000, 300_000),
    default: '15000',
    expected: 'an integer from 1000 to 300000',
    doc: 'Timeout of one exchange request.',
  }),
  EXCHANGE_CLOCK_TTL_MS: spec({
    schema: int(0, 3_600_000),
    default: '30000',
    expected: 'an integer from 0 to 3600000',
    doc: "How long a measured offset to the exchange's clock is reused (0 = ask the exchange for every job).",
  }),
  RATE_LIMIT_HEADROOM: spec({
    schema: ratio,
    default: '0.95',
    expected: 'a number in (0, 1]',
    doc: "Share of the exchange's declared weight limit ferry allows itself (all workers together).",
  }),

  // --- download worker ---
  DOWNLOAD_CONCURRENCY: spec({
    schema: int(1, 500),
    default: '20',
    expected: 'an integer from 1 to 500',
    doc: 'Jobs one download worker process runs at once.',
  }),
  JOB_ATTEMPTS: spec({
    schema: int(1, 100),
    default: '3',
    expected: 'an integer from 1 to 100',
    doc: 'Attempts per job for transient failures (rate-limit pauses and PostgreSQL outages do not spend attempts; permanent errors fail at once). 8 rides out a flaky source: about a minute of backoff in all.',
  }),
  JOB_LOCK_MS: spec({
    schema: int(1000, 600_000),
    default: '30000',
    expected: 'an integer from 1000 to 600000',
    doc: 'How long a job stays locked without a heartbeat; a crashed worker\'s jobs are picked up after this.',
  }),
  JOB_RETENTION: spec({
    schema: keptFor,
    default: '7d',
    expected: 'a duration such as 12h, 7d or 90d',
    doc: 'How long a completed job stays in Redis (Bull Board, `ferry status`); repeating jobs keep their last 50-100 instead.',
  }),
  FAILED_JOB_RETENTION: spec({
    schema: keptFor,
    default: '30d',
    expected: 'a duration such as 12h, 7d or 90d',
    doc: 'How long a job that failed for good stays in Redis, to be read and retried from Bull Board.',
  }),
  RUN_RETENTION: spec({
    schema: keptFor,
    default: '90d',
    expected: 'a duration such as 12h, 7d or 90d',
    doc: "How long a finished run and its items stay in PostgreSQL (`ferry status`); the dashboard's schedule worker deletes older ones.",
  }),
  SHUTDOWN_GRACE_MS: spec({
    schema: int(0, 3_600_000),
    default: '30000',
    expected: 'an integer from 0 to 3600000',
    doc: 'On SIGTERM, how long active jobs may run before the worker exits.',
  }),

  // --- S3 flat files ---
  S3_ENDPOINT: spec({
    schema: url(['http:', 'https:']),
    default: 'https://files.massive.com',
    url: true,
    expected: 'an http(s) URL',
    doc: "S3-compatible endpoint of the flat files (Massive.com's by default).",
  }),
  S3_BUCKET: spec({
    schema: z.string().min(3),
    default: 'flatfiles',
    expected: 'a bucket name',
    doc: 'Bucket holding the flat files.',
  }),
  S3_REGION: spec({
    schema: z.string().min(1),
    default: 'us-east-1',
    expected: 'an AWS region name',
    doc: 'Region used for request signing.',
  }),
  S3_ACCESS_KEY_ID: spec({
    schema: optionalString,
    expected: 'an access key id',
    doc: 'S3 access key (Massive dashboard -> Flat Files).',
    secret: true,
  }),
  S3_SECRET_ACCESS_KEY: spec({
    schema: optionalString,
    expected: 'a secret access key',
    doc: 'S3 secret key.',
    secret: true,
  }),

  FLAT_FILE_CACHE_DIR: spec({
    schema: optionalString,
    expected: 'a directory path',
    doc: 'Cache of verified raw flat files (by key and ETag); default DATA_DIR/cache/flat-files. `ferry cache clear` empties it.',
  }),
  FLAT_FILE_CACHE_MAX_MB: spec({
    schema: z.coerce.number().min(0).max(100_000_000),
    default: '10240',
    expected: 'a number of MiB from 0 to 100000000 (fractions allowed)',
    doc: 'Size limit of the flat-file cache in MiB: past it, the least recently used files are removed after each download (0 = no limit).',
  }),

  // --- sync (backups) ---
  SYNC_TARGET: spec({
    schema: z.enum(['auto', 'dropbox', 'local', 'none']),
    default: 'auto',
    expected: 'one of auto, dropbox, local, none',
    doc: 'auto = dropbox when Dropbox credentials are set, else local.',
  }),
  SYNC_LOCAL_DIR: spec({
    schema: z.string().min(1),
    default: './backup',
    expected: 'a directory path',
    doc: 'Folder of the local sync target.',
  }),
  DROPBOX_ROOT: spec({
    schema: z.string().regex(/^\/[^\\]*$/),
    default: '/ferry',
    expected: 'an absolute Dropbox path such as /ferry',
    doc: 'Dropbox folder everything is synced under.',
  }),
  DROPBOX_API_URL: spec({
    schema: optionalUrl(['http:', 'https:']),
    url: true,
    expected: 'an http(s) URL',
    doc: 'Replaces https://api.dropboxapi.com (emulator, proxy). Unset = real Dropbox.',
  }),
  DROPBOX_CONTENT_URL: spec({
    schema: optionalUrl(['http:', 'https:']),
    url: true,
    expected: 'an http(s) URL',
    doc: 'Replaces https://content.dropboxapi.com. Unset = real Dropbox.',
  }),
  DROPBOX_APP_KEY: spec({ schema: optionalString, expected: 'an app key', doc: 'Dropbox app key (with a refresh token).', secret: true }),
  DROPBOX_APP_SECRET: spec({ schema: optionalString, expected: 'an app secret', doc: 'Dropbox app secret (optional with PKCE).', secret: true }),
  DROPBOX_REFRESH_TOKEN: spec({ schema: optionalString, expected: 'a refresh token', doc: 'Long-lived refresh token; access tokens are refreshed automatically.', secret: true }),
  DROPBOX_ACCESS_TOKEN: spec({ schema: optionalString, expected: 'an access token', doc: 'Alternative to a refresh token: a long-lived access token.', secret: true }),
  DROPBOX_CHUNK_MB: spec({
    schema: int(8, 128),
    default: '64',
    expected: 'an integer from 8 to 128',
    doc: 'Chunk size (MiB) of Dropbox upload sessions for files over 150 MB; memory per upload is about one chunk.',
  }),
  SYNC_BATCH_FILES: spec({
    schema: int(1, 1000),
    default: '1000',
    expected: 'an integer from 1 to 1000',
    doc: 'Files a sync worker commits together (one Dropbox finish_batch call; Dropbox allows 1000).',
  }),
  SYNC_BATCH_WAIT_MS: spec({
    schema: int(10, 60_000),
    default: '1000',
    expected: 'an integer from 10 to 60000',
    doc: 'How long a sync worker gathers files before committing a batch that is not full.',
  }),
  SYNC_LEARNING_EVERY: spec({
    schema: everyOrOff,
    default: '5m',
    expected: 'a duration such as 90s, 5m or 2h, or off',
    doc: 'How often DATA_DIR/learning is synced (off = never).',
  }),
  SYNC_LOGS_EVERY: spec({
    schema: everyOrOff,
    default: '5m',
    expected: 'a duration such as 90s, 5m or 2h, or off',
    doc: 'How often DATA_DIR/logs and DATA_DIR/monitoring are synced (off = never).',
  }),
  SYNC_MODELS_EVERY: spec({
    schema: everyOrOff,
    default: '30m',
    expected: 'a duration such as 90s, 5m or 2h, or off',
    doc: 'How often DATA_DIR/models is synced (off = never).',
  }),
  SYNC_CANDLES_EVERY: spec({
    schema: everyOrOff,
    default: '2h',
    expected: 'a duration such as 90s, 5m or 2h, or off',
    doc: 'How often the whole candle cache DATA_DIR/candles is synced; new files are synced as they are written (off = never).',
  }),
  RESTORE_ON_STARTUP: spec({
    schema: bool,
    default: 'false',
    expected: 'true or false',
    doc: 'Download worker: pull data/candles from the sync target into DATA_DIR and PostgreSQL before taking jobs.',
  }),

  // --- dashboard / admin API ---
  DASHBOARD_PORT: spec({
    schema: int(1, 65535),
    default: '3000',
    expected: 'a port number',
    doc: 'Port of the dashboard (Bull Board and admin API).',
  }),
  DASHBOARD_HOST: spec({
    schema: z.string().min(1),
    default: '127.0.0.1',
    expected: 'an interface address',
    doc: 'Interface the dashboard listens on (0.0.0.0 in containers).',
  }),
  API_KEY_REQUIRED: spec({
    schema: bool,
    default: 'true',
    expected: 'true or false',
    doc: 'Refuse to start the dashboard without at least one API key.',
  }),
  SESSION_SECRET: spec({
    schema: z.string().min(32).optional(),
    expected: 'at least 32 characters',
    doc: 'Signs dashboard sign-in cookies. Unset = a random one per start (sign-ins end at restart; set it when running several dashboards).',
    secret: true,
  }),
  TRUST_PROXY: spec({
    schema: trustProxy,
    default: 'off',
    expected: 'off, a number of proxy hops from 1 to 9, or proxy addresses/subnets such as loopback,10.0.0.0/8',
    doc: "Which reverse proxies' X-Forwarded-For/-Proto the dashboard believes (client address for the sign-in limit, HTTPS for Secure cookies).",
  }),
  COLLECTION_SCHEDULE: spec({
    schema: cronOrOff,
    default: '0 */6 * * *',
    expected: 'a cron expression such as 0 */6 * * *, or off',
    doc: 'When the dashboard queues a forward collection (UTC cron; off = never).',
  }),
  GAP_FILL_SCHEDULE: spec({
    schema: cronOrOff,
    default: '0 3 * * 0',
    expected: 'a cron expression such as 0 3 * * 0, or off',
    doc: 'When the dashboard queues a gap_fill collection (UTC cron; off = never).',
  }),
  SCHEDULE_INCLUDE_DELISTED: spec({
    schema: bool,
    default: 'false',
    expected: 'true or false',
    doc: 'Scheduled collections also take the coins the exchange no longer trades, from the archive (as `ferry collect --include-delisted`; source auto).',
  }),
  METRICS_PORT: spec({
    schema: int(0, 65535),
    default: '0',
    expected: 'a port number, 0 = off',
    doc: 'Prometheus /metrics port of a worker (0 = off).',
  }),
} satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof VARIABLES;
export type ParsedVariables = { [K in VariableName]: z.output<(typeof VARIABLES)[K]['schema']> };
