import path from 'node:path';
import { ConfigError, isSet, mergeEnvironment, parseVariables, type LoadOptions } from './load-config.js';
import { Secret, secretOrUndefined } from './secret.js';

/**
 * ferry's configuration, built once at a service's edge from the environment and passed down.
 * Inside ferry nothing reads process.env.
 */
export interface FerryConfig {
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  redis: { url: string; prefix: string };
  database: { url: Secret; poolSize: number };
  dataDir: string;
  exchange: { id: string; baseUrl: string | undefined; timeoutMs: number; clockTtlMs: number; headroom: number };
  /** Binance's public archive; `explicit` = ARCHIVE_URL was set (not the default). */
  archive: { baseUrl: string; explicit: boolean };
  /**
   * Every queue's job settings: attempts before a job fails for good, its lock, the drain on shutdown, and how long
   * finished one-off jobs stay in Redis.
   */
  jobs: { attempts: number; lockMs: number; shutdownGraceMs: number; retention: JobRetention };
  /** How long finished runs and their items stay in PostgreSQL (RUN_RETENTION). */
  runs: { retentionMs: number };
  /** The download worker's own: downloads in flight per process. */
  download: { concurrency: number };
  s3: {
    endpoint: string;
    bucket: string;
    region: string;
    accessKeyId: Secret | undefined;
    secretAccessKey: Secret | undefined;
    /** Verified raw flat files, by key and ETag. */
    cacheDir: string;
    /** Size limit of the cache in bytes; 0 = none. */
    cacheMaxBytes: number;
  };
  sync: {
    target: 'dropbox' | 'local' | 'none';
    localDir: string;
    dropbox: {
      root: string;
      apiUrl: string | undefined;
      contentUrl: string | undefined;
      appKey: Secret | undefined;
      appSecret: Secret | undefined;
      refreshToken: Secret | undefined;
      accessToken: Secret | undefined;
      /** Upload-session chunk size in bytes (DROPBOX_CHUNK_MB). */
      chunkBytes: number;
    };
    /** Files committed together, and how long a batch waits to fill. */
    batchFiles: number;
    batchWaitMs: number;
    /** Directory-sync intervals in ms; null = that rule is off. */
    every: { learning: number | null; logs: number | null; models: number | null; candles: number | null };
    restoreOnStartup: boolean;
  };
  dashboard: {
    port: number;
    host: string;
    apiKeyRequired: boolean;
    sessionSecret: Secret | undefined;
    /** Express's `trust proxy` (TRUST_PROXY): false, a hop count, or proxy addresses and subnets. */
    trustProxy: false | number | string[];
  };
  /**
   * Cron patterns (UTC) of the scheduled collections; null = that schedule is off. `includeDelisted`: both also take
   * the coins the exchange no longer trades (SCHEDULE_INCLUDE_DELISTED). `explicit` says which were set rather than
   * left to their default: only those may replace what the dashboards share in Redis.
   */
  schedules: {
    collection: string | null;
    gapFill: string | null;
    includeDelisted: boolean;
    explicit: { collection: boolean; gapFill: boolean; includeDelisted: boolean };
  };
  metricsPort: number;
}

/** How long finished one-off jobs stay in Redis: completed (JOB_RETENTION) and failed for good (FAILED_JOB_RETENTION). */
export interface JobRetention {
  completedMs: number;
  failedMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): FerryConfig {
  const merged = mergeEnvironment(env, options);
  const v = parseVariables(merged);
  if (v.DROPBOX_REFRESH_TOKEN && !v.DROPBOX_APP_KEY) {
    throw new ConfigError(['DROPBOX_APP_KEY is required when DROPBOX_REFRESH_TOKEN is set: expected an app key']);
  }
  const hasDropboxCredentials = Boolean(v.DROPBOX_REFRESH_TOKEN || v.DROPBOX_ACCESS_TOKEN);
  if (v.SYNC_TARGET === 'dropbox' && !hasDropboxCredentials) {
    throw new ConfigError([
      'SYNC_TARGET=dropbox needs credentials: expected DROPBOX_REFRESH_TOKEN with DROPBOX_APP_KEY, or DROPBOX_ACCESS_TOKEN',
    ]);
  }
  const syncTarget = v.SYNC_TARGET === 'auto' ? (hasDropboxCredentials ? 'dropbox' : 'local') : v.SYNC_TARGET;
  return {
    log: { level: v.LOG_LEVEL, format: v.LOG_FORMAT },
    redis: { url: v.REDIS_URL, prefix: v.QUEUE_PREFIX },
    database: { url: new Secret(v.DATABASE_URL), poolSize: v.DATABASE_POOL_SIZE },
    dataDir: path.resolve(v.DATA_DIR),
    exchange: {
      id: v.EXCHANGE,
      baseUrl: v.EXCHANGE_URL,
      timeoutMs: v.EXCHANGE_TIMEOUT_MS,
      clockTtlMs: v.EXCHANGE_CLOCK_TTL_MS,
      headroom: v.RATE_LIMIT_HEADROOM,
    },
    archive: { baseUrl: v.ARCHIVE_URL.replace(/\/+$/, ''), explicit: isSet(merged, 'ARCHIVE_URL') },
    jobs: {
      attempts: v.JOB_ATTEMPTS,
      lockMs: v.JOB_LOCK_MS,
      shutdownGraceMs: v.SHUTDOWN_GRACE_MS,
      retention: { completedMs: v.JOB_RETENTION, failedMs: v.FAILED_JOB_RETENTION },
    },
    runs: { retentionMs: v.RUN_RETENTION },
    download: { concurrency: v.DOWNLOAD_CONCURRENCY },
    s3: {
      endpoint: v.S3_ENDPOINT,
      bucket: v.S3_BUCKET,
      region: v.S3_REGION,
      accessKeyId: secretOrUndefined(v.S3_ACCESS_KEY_ID),
      secretAccessKey: secretOrUndefined(v.S3_SECRET_ACCESS_KEY),
      cacheDir: path.resolve(v.FLAT_FILE_CACHE_DIR ?? path.join(v.DATA_DIR, 'cache', 'flat-files')),
      cacheMaxBytes: Math.round(v.FLAT_FILE_CACHE_MAX_MB * 1024 * 1024),
    },
    sync: {
      target: syncTarget,
      localDir: path.resolve(v.SYNC_LOCAL_DIR),
      dropbox: {
        root: v.DROPBOX_ROOT,
        apiUrl: v.DROPBOX_API_URL,
        contentUrl: v.DROPBOX_CONTENT_URL,
        appKey: secretOrUndefined(v.DROPBOX_APP_KEY),
        appSecret: secretOrUndefined(v.DROPBOX_APP_SECRET),
        refreshToken: secretOrUndefined(v.DROPBOX_REFRESH_TOKEN),
        accessToken: secretOrUndefined(v.DROPBOX_ACCESS_TOKEN),
        chunkBytes: v.DROPBOX_CHUNK_MB * 1024 * 1024,
      },
      batchFiles: v.SYNC_BATCH_FILES,
      batchWaitMs: v.SYNC_BATCH_WAIT_MS,
      every: { learning: v.SYNC_LEARNING_EVERY, logs: v.SYNC_LOGS_EVERY, models: v.SYNC_MODELS_EVERY, candles: v.SYNC_CANDLES_EVERY },
      restoreOnStartup: v.RESTORE_ON_STARTUP,
    },
    dashboard: {
      port: v.DASHBOARD_PORT,
      host: v.DASHBOARD_HOST,
      apiKeyRequired: v.API_KEY_REQUIRED,
      sessionSecret: secretOrUndefined(v.SESSION_SECRET),
      trustProxy: v.TRUST_PROXY,
    },
    schedules: {
      collection: v.COLLECTION_SCHEDULE,
      gapFill: v.GAP_FILL_SCHEDULE,
      includeDelisted: v.SCHEDULE_INCLUDE_DELISTED,
      explicit: {
        collection: isSet(merged, 'COLLECTION_SCHEDULE'),
        gapFill: isSet(merged, 'GAP_FILL_SCHEDULE'),
        includeDelisted: isSet(merged, 'SCHEDULE_INCLUDE_DELISTED'),
      },
    },
    metricsPort: v.METRICS_PORT,
  };
}
