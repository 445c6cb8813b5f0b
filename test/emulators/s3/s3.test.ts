import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, Secret } from '@ferry/shared';
import {
  DEFAULT_S3_CREDENTIALS, flatFileCsv, flatFileKey, flatFileRows, nyseHolidays, startS3Emulator, tradingDays, type S3Emulator,
} from './index.js';

const client = (emu: S3Emulator, keyId = DEFAULT_S3_CREDENTIALS.accessKeyId, secret = DEFAULT_S3_CREDENTIALS.secretAccessKey): S3Client =>
  createS3Client({ endpoint: emu.url, region: 'us-east-1', accessKeyId: new Secret(keyId), secretAccessKey: new Secret(secret) });

async function bodyOf(c: S3Client, key: string): Promise<Buffer> {
  const out = await c.send(new GetObjectCommand({ Bucket: 'flatfiles', Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe('NYSE calendar', () => {
  it('knows the holidays and closures', () => {
    const h2024 = nyseHolidays(2024);
    for (const d of ['2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19', '2024-07-04', '2024-09-02', '2024-11-28', '2024-12-25']) {
      expect(h2024.has(d), d).toBe(true);
    }
    expect(h2024.size).toBe(10);
    expect(nyseHolidays(2022).has('2021-12-31')).toBe(false); // New Year on a Saturday is not observed
    expect(nyseHolidays(2023).has('2023-01-02')).toBe(true); // ... on a Sunday: Monday
    expect(nyseHolidays(2021).has('2021-06-18')).toBe(false); // Juneteenth from 2022 on
    expect(nyseHolidays(2025).has('2025-01-09')).toBe(true);
    expect(tradingDays('us_stocks_sip', '2024-01-01', '2024-12-31')).toHaveLength(252);
    expect(tradingDays('global_crypto', '2024-01-01', '2024-12-31')).toHaveLength(366);
  });
});

describe('S3 emulator through S3Client', () => {
  let emu: S3Emulator;
  let s3: S3Client;
  beforeAll(async () => {
    emu = await startS3Emulator({ settings: { firstDate: '2019-01-01', lastDate: '2024-12-31' } });
    s3 = client(emu);
  });
  afterAll(async () => {
    s3.destroy();
    await emu.close();
  });

  it('lists five years of daily stock files over continuation pages: trading days only', async () => {
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'flatfiles', Prefix: 'us_stocks_sip/day_aggs_v1/', ContinuationToken: token }));
      pages += 1;
      for (const o of page.Contents ?? []) {
        keys.push(o.Key!);
        expect(o.ETag).toMatch(/^"[0-9a-f]{32}"$/);
        expect(o.Size).toBeGreaterThan(0);
      }
      token = page.NextContinuationToken;
    } while (token);
    const expected = tradingDays('us_stocks_sip', '2020-01-01', '2024-12-31').map((d) => flatFileKey('us_stocks_sip', 'day_aggs_v1', d));
    expect(keys.filter((k) => k >= 'us_stocks_sip/day_aggs_v1/2020/')).toEqual(expected);
    expect(keys).not.toContain('us_stocks_sip/day_aggs_v1/2024/03/2024-03-29.csv.gz');
    expect(pages).toBe(2);
    expect(expected).toHaveLength(1258);
  });

  it('lists folders with a delimiter', async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'flatfiles', Prefix: 'global_crypto/day_aggs_v1/2024/', Delimiter: '/' }));
    expect(page.CommonPrefixes?.map((p) => p.Prefix)).toHaveLength(12);
    expect(page.KeyCount).toBe(12);
  });

  it('serves a file whose MD5 is its ETag and whose rows are the generator truth', async () => {
    const key = flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-07');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'flatfiles', Key: key }));
    const body = await bodyOf(s3, key);
    expect(head.ContentLength).toBe(body.length);
    expect(head.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    const csv = gunzipSync(body).toString('utf8');
    expect(csv).toBe(flatFileCsv(flatFileRows('us_stocks_sip', 'day_aggs_v1', '2024-03-07', 40)));
    expect(csv.split('\n')[0]).toBe('ticker,volume,open,close,high,low,window_start,transactions');
    expect(csv).toContain('TSLA,');
    // 2024-03-07 00:00 in New York (EST) in nanoseconds
    expect(csv).toContain(',1709787600000000000,');
  });

  it('answers Range requests with 206 and the right bytes', async () => {
    const key = flatFileKey('global_crypto', 'day_aggs_v1', '2024-03-09');
    const full = emu.object(key)!.body;
    const out = await s3.send(new GetObjectCommand({ Bucket: 'flatfiles', Key: key, Range: 'bytes=10-99' }));
    expect(out.ContentRange).toBe(`bytes 10-99/${full.length}`);
    expect(Buffer.from(await out.Body!.transformToByteArray())).toEqual(full.subarray(10, 100));
  });

  it('reports a missing key as NoSuchKey', async () => {
    await expect(s3.send(new GetObjectCommand({ Bucket: 'flatfiles', Key: 'us_stocks_sip/day_aggs_v1/2024/03/2024-03-29.csv.gz' })))
      .rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  });

  it('rejects an unknown access key and a wrong secret as S3 does', async () => {
    const wrongKey = client(emu, 'NOPE', 'x');
    await expect(wrongKey.send(new ListObjectsV2Command({ Bucket: 'flatfiles' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
    const wrongSecret = client(emu, DEFAULT_S3_CREDENTIALS.accessKeyId, 'not-the-secret');
    await expect(wrongSecret.send(new ListObjectsV2Command({ Bucket: 'flatfiles' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    wrongKey.destroy();
    wrongSecret.destroy();
  });

  it('503 SlowDown surfaces as the SDK error SlowDown', async () => {
    emu.control.addFault({ name: 'slow-down', remaining: 1 });
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'flatfiles', Key: flatFileKey('global_crypto', 'day_aggs_v1', '2024-01-01') })))
      .rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    emu.control.addFault({ name: 'slow-down', remaining: 1 });
    await expect(bodyOf(s3, flatFileKey('global_crypto', 'day_aggs_v1', '2024-01-01'))).rejects.toMatchObject({ name: 'SlowDown' });
  });

  it('a truncated body is an error for the reader, never a short success', async () => {
    emu.control.addFault({ name: 'truncated-body', remaining: 1 });
    await expect(bodyOf(s3, flatFileKey('global_crypto', 'day_aggs_v1', '2024-01-02'))).rejects.toThrow();
  });

  it('a wrong length is visible: Content-Length disagrees with the listed size', async () => {
    const key = flatFileKey('global_crypto', 'day_aggs_v1', '2024-01-03');
    emu.control.addFault({ name: 'wrong-length', remaining: 1 });
    const out = await s3.send(new GetObjectCommand({ Bucket: 'flatfiles', Key: key }));
    expect(out.ContentLength).toBe(emu.object(key)!.body.length - 17);
    await out.Body!.transformToByteArray();
  });

  it('a connection reset is a network error', async () => {
    emu.control.addFault({ name: 'connection-reset', remaining: 1 });
    await expect(bodyOf(s3, flatFileKey('global_crypto', 'day_aggs_v1', '2024-01-04'))).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('an object changed upstream has new bytes and a new ETag; corrupt gzip keeps a matching ETag', async () => {
    const key = flatFileKey('global_crypto', 'day_aggs_v1', '2024-01-05');
    const before = emu.object(key)!.etag;
    emu.control.configure({ changedKeys: { [key]: 1 } });
    expect(emu.object(key)!.etag).not.toBe(before);
    emu.control.configure({ corruptGzipKeys: [key] });
    const body = await bodyOf(s3, key);
    expect(`"${createHash('md5').update(body).digest('hex')}"`).toBe(emu.object(key)!.etag);
    expect(() => gunzipSync(body)).toThrow();
    emu.control.configure({ changedKeys: {}, corruptGzipKeys: [] });
  });

  it('counts GETs per key and is steered over HTTP', async () => {
    const key = flatFileKey('global_crypto', 'day_aggs_v1', '2024-01-06');
    await bodyOf(s3, key);
    const counters = (await (await fetch(`${emu.url}/__control/counters`)).json()) as { counters: Record<string, number> };
    expect(counters.counters[`get:${key}`]).toBe(1);
  });
});
