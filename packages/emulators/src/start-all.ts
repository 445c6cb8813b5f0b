import { startBinanceEmulator, type BinanceEmulator, type BinanceSettings } from './binance/index.js';
import { startBinanceArchiveEmulator, type ArchiveEmulator } from './binance-archive/index.js';
import { startDropboxEmulator, type DropboxEmulator } from './dropbox/index.js';
import { DEFAULT_S3_CREDENTIALS, startS3Emulator, type S3Emulator } from './s3/index.js';

/**
 * The whole emulated outside world at once (for `npm run emulators`, the demo and benchmarks), with the environment
 * that points ferry's services at it.
 */
export interface RunningEmulators {
  binance: BinanceEmulator;
  /** data.binance.vision, on the same clock, universe and outages as `binance`. */
  binanceArchive: ArchiveEmulator;
  dropbox: DropboxEmulator;
  s3: S3Emulator;
  /** REDIS_URL/DATABASE_URL excluded: settings that point ferry at these emulators. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export interface StartAllOptions {
  /** Fixed ports (the CLI); default: free ones. */
  ports?: { binance?: number; s3?: number; dropbox?: number; binanceArchive?: number };
  binanceLatencyMs?: number;
  binance?: Partial<BinanceSettings>;
}

export async function startEmulators(options: StartAllOptions = {}): Promise<RunningEmulators> {
  const binance = await startBinanceEmulator({
    port: options.ports?.binance,
    settings: { latencyMs: options.binanceLatencyMs ?? 0, ...options.binance },
  });
  const { nowMs, clockOffsetMs, coinCount, outages } = binance.control.settings;
  const binanceArchive = await startBinanceArchiveEmulator({
    port: options.ports?.binanceArchive,
    settings: { latencyMs: options.binanceLatencyMs ?? 0, nowMs, clockOffsetMs, coinCount, outages },
  });
  const dropbox = await startDropboxEmulator({ port: options.ports?.dropbox });
  const s3 = await startS3Emulator({ port: options.ports?.s3 });
  const env: NodeJS.ProcessEnv = {
    EXCHANGE: 'binance',
    EXCHANGE_URL: binance.url,
    ARCHIVE_URL: binanceArchive.url,
    S3_ENDPOINT: s3.url,
    S3_ACCESS_KEY_ID: DEFAULT_S3_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: DEFAULT_S3_CREDENTIALS.secretAccessKey,
    SYNC_TARGET: 'dropbox',
    DROPBOX_API_URL: dropbox.url,
    DROPBOX_CONTENT_URL: dropbox.url,
    DROPBOX_APP_KEY: dropbox.credentials.appKey,
    DROPBOX_APP_SECRET: dropbox.credentials.appSecret,
    DROPBOX_REFRESH_TOKEN: dropbox.credentials.refreshToken,
  };
  return {
    binance,
    binanceArchive,
    dropbox,
    s3,
    env,
    async close() {
      await Promise.all([binance.close(), binanceArchive.close(), dropbox.close(), s3.close()]);
    },
  };
}
