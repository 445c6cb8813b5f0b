import { EmulatorControl } from '../common/control.js';
import { startHttpEmulator, type RunningEmulator } from '../common/http-server.js';
import { FlatFileBucket, type StoredObject } from './bucket.js';
import { s3Error } from './errors.js';
import { sendError } from './reply.js';
import { s3Handler } from './routes.js';
import { defaultS3Settings, type S3Settings } from './settings.js';

/**
 * An S3 emulator serving Massive's (Polygon's) flat files: path style, bucket `flatfiles`, generated deterministic
 * gzipped CSVs for US stocks and crypto, SigV4 checked against known keys, S3's XML errors, named faults. Point the
 * real `@aws-sdk/client-s3` at `url` (forcePathStyle) with the credentials in `DEFAULT_S3_CREDENTIALS`.
 */
export { BigObject, type BigObjectSpec } from './big-object.js';
export { bucketKeys, contentVariant, md5Etag, objectBody, type ObjectMeta, type StoredObject } from './bucket.js';
export { MARKETS, easterSunday, easternMidnight, isTradingDay, nyseHolidays, tradingDays, type Market } from './calendar.js';
export {
  CSV_HEADER, DEFAULT_GENERATOR_SETTINGS, TIMEFRAMES, flatFileBody, flatFileCsv, flatFileKey, flatFileRows, malformedLine,
  parseFlatFileKey, publishedAt, type ContentVariant, type FlatFileId, type FlatFileRow, type GeneratorSettings, type Timeframe,
} from './generator.js';
export { decodeContinuationToken, encodeContinuationToken, listPage, type ListPage, type ListRequest } from './listing.js';
export { DEFAULT_S3_CREDENTIALS, S3Counter, S3Fault, defaultS3Settings, type S3Operation, type S3Settings } from './settings.js';
export { tickerUniverse, tickersOn, type TickerListing } from './universe.js';

export interface S3EmulatorOptions {
  port?: number;
  host?: string;
  /** Overrides of the default settings (which `control.reset()` returns to). */
  settings?: Partial<S3Settings>;
  /** Budget of the generated-body cache. Default 64 MiB. */
  cacheBytes?: number;
}

export interface S3Emulator extends RunningEmulator<S3Settings> {
  /** The object as the bucket holds it now (content faults included), or undefined. */
  object(key: string): StoredObject | undefined;
  /** Its whole body as served now. Throws for objects above 256 MiB: stream those with `object(key).chunks`. */
  body(key: string): Buffer | undefined;
  /** The bucket's keys (optionally under a prefix), sorted. */
  keys(prefix?: string): string[];
}

export async function startS3Emulator(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const control = new EmulatorControl<S3Settings>({ ...defaultS3Settings(), ...options.settings });
  const bucket = new FlatFileBucket(() => control.settings, () => control.listFaults(), options.cacheBytes ?? 64 * 1024 * 1024);
  const running = await startHttpEmulator<S3Settings>({
    name: 's3',
    port: options.port,
    host: options.host,
    control,
    handler: s3Handler({ control, bucket }),
    serverError: (res) => sendError(control, res, s3Error('InternalError'), false),
  });
  return {
    ...running,
    object: (key) => bucket.object(key),
    body: (key) => {
      const stored = bucket.object(key);
      if (stored && stored.size > 256 * 1024 * 1024) throw new Error(`${key} has ${stored.size} bytes: read it with object(key).chunks()`);
      return stored ? Buffer.concat([...stored.chunks(0, stored.size)]) : undefined;
    },
    keys: (prefix = '') => bucket.keys().filter((k) => k.startsWith(prefix)),
  };
}
