import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  S3Fault, defaultS3Settings, flatFileCsv, flatFileKey, flatFileRows, objectBody, publishedAt, startS3Emulator, type S3Emulator,
} from './index.js';
import { emulatorClient, getBody, quotedMd5, rejection } from './test-client.js';

const settings = { ...defaultS3Settings(), firstDate: '2024-01-01', lastDate: '2024-03-31' };
const Bucket = 'flatfiles';
const key = flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-07');
const truth = () => objectBody(key, settings)!;

describe('S3 emulator faults, as the real S3Client meets them', () => {
  let emu: S3Emulator;
  let s3: S3Client;
  beforeAll(async () => {
    emu = await startS3Emulator({ settings });
    s3 = emulatorClient(emu);
  });
  afterEach(() => emu.control.reset());
  afterAll(async () => {
    s3.destroy();
    await emu.close();
  });

  const listed = async (k: string) => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: k }));
    return page.Contents![0]!;
  };

  describe('per request', () => {
    it('slow-down: 503 SlowDown, a server fault', async () => {
      emu.control.addFault({ name: S3Fault.SlowDown, remaining: 1 });
      expect(await rejection(getBody(s3, key))).toMatchObject({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 } });
      expect(await getBody(s3, key)).toEqual(truth());
      expect(emu.control.counter('fault:slow-down')).toBe(1);
      expect(emu.control.counter('error:SlowDown')).toBe(1);
    });

    it('errorRate: 500 InternalError', async () => {
      emu.control.configure({ errorRate: 1 });
      expect(await rejection(s3.send(new ListObjectsV2Command({ Bucket }))))
        .toMatchObject({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
    });

    it('truncated-body: the headers promise the whole object, the stream fails partway ("aborted", ECONNRESET)', async () => {
      emu.control.addFault({ name: S3Fault.TruncatedBody, remaining: 1, params: { fraction: 0.25 } });
      const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
      expect(out.ContentLength).toBe(truth().length);
      // The SDK hands over the stream; reading it is what fails, never a short success.
      expect(await rejection(out.Body!.transformToByteArray())).toMatchObject({ message: 'aborted', code: 'ECONNRESET' });
      expect(emu.control.counter('bytes-sent')).toBe(Math.floor(truth().length * 0.25));
    });

    it('every whole GET carries the object\'s CRC-32, which the SDK validates; a range carries none', async () => {
      const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
      expect(out.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
      expect(out.ChecksumType).toBe('FULL_OBJECT');
      expect(Buffer.from(await out.Body!.transformToByteArray())).toEqual(truth());
      const part = await s3.send(new GetObjectCommand({ Bucket, Key: key, Range: 'bytes=0-99' }));
      expect(part.ChecksumCRC32).toBeUndefined();
    });

    it('wrong-checksum: the body is intact, the SDK fails the stream at its end with "Checksum mismatch"', async () => {
      emu.control.addFault({ name: S3Fault.WrongChecksum, remaining: 1 });
      const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
      expect(await rejection(out.Body!.transformToByteArray()))
        .toMatchObject({ message: expect.stringMatching(/^Checksum mismatch: .* in response header "x-amz-checksum-crc32"/) });
      expect(await getBody(s3, key)).toEqual(truth());
    });

    it('serverSideEncryption aws:kms: the ETag is 32 hex digits that are not the MD5 of the body', async () => {
      emu.control.configure({ serverSideEncryption: 'aws:kms' });
      const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
      expect(out.ServerSideEncryption).toBe('aws:kms');
      expect(out.ETag).toMatch(/^"[0-9a-f]{32}"$/);
      expect(out.ETag).not.toBe(quotedMd5(truth()));
      expect((await listed(key)).ETag).toBe(out.ETag);
      expect(Buffer.from(await out.Body!.transformToByteArray())).toEqual(truth());
    });

    it('truncated-body on a listing fails the ListObjectsV2 call', async () => {
      emu.control.addFault({ name: S3Fault.TruncatedBody, remaining: 1 });
      expect(await rejection(s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'us_stocks_sip/day_aggs_v1/2024/' }))))
        .toMatchObject({ message: 'aborted', code: 'ECONNRESET' });
    });

    it('wrong-length: a consistent answer shorter than the listed Size; only size checks or gunzip notice', async () => {
      const size = (await listed(key)).Size!;
      emu.control.addFault({ name: S3Fault.WrongLength, remaining: 2, params: { bytes: 100 } });
      expect((await s3.send(new HeadObjectCommand({ Bucket, Key: key }))).ContentLength).toBe(size - 100);
      const body = await getBody(s3, key);
      expect(body.length).toBe(size - 100);
      expect(body).toEqual(truth().subarray(0, size - 100));
      expect(() => gunzipSync(body)).toThrow(/unexpected end of file/);
    });

    it('connection-reset: a network error (the SDK names ECONNRESET a TimeoutError)', async () => {
      emu.control.addFault({ name: S3Fault.ConnectionReset, remaining: 1 });
      expect(await rejection(getBody(s3, key))).toMatchObject({ name: 'TimeoutError', code: 'ECONNRESET' });
      expect(emu.control.counter('get')).toBe(0);
    });

    it('pathIncludes aims a fault at one key', async () => {
      const other = flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-08');
      emu.control.addFault({ name: S3Fault.SlowDown, pathIncludes: '2024-03-08' });
      expect(await getBody(s3, key)).toEqual(truth());
      expect(await rejection(getBody(s3, other))).toMatchObject({ name: 'SlowDown' });
      expect(await rejection(getBody(s3, other))).toMatchObject({ name: 'SlowDown' });
    });

    it('latencyMs delays every answer', async () => {
      emu.control.configure({ latencyMs: 150 });
      const started = performance.now();
      await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
      expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    });
  });

  describe('content faults (consistent in listings, HEAD and GET)', () => {
    it('corrupt-gzip: Size and ETag match the damaged bytes; only decompressing fails', async () => {
      emu.control.addFault({ name: S3Fault.CorruptGzip, pathIncludes: '2024-03-07' });
      const entry = await listed(key);
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
      const body = await getBody(s3, key);
      expect(entry.ETag).toBe(quotedMd5(body));
      expect(head.ETag).toBe(entry.ETag);
      expect(entry.Size).toBe(body.length);
      expect(body).not.toEqual(truth());
      expect(() => gunzipSync(body)).toThrow();
      expect(emu.control.counter('fault:corrupt-gzip')).toBe(1);
    });

    it('malformed-csv: valid gzip with a broken line at the given line number', async () => {
      emu.control.addFault({ name: S3Fault.MalformedCsv, pathIncludes: '2024-03-07', params: { line: 7 } });
      const body = await getBody(s3, key);
      expect((await listed(key)).ETag).toBe(quotedMd5(body));
      const lines = gunzipSync(body).toString().split('\n');
      const expected = flatFileCsv('us_stocks_sip', 'day_aggs_v1', '2024-03-07').toString().split('\n');
      expect(lines.flatMap((l, i) => (l === expected[i] ? [] : [i + 1]))).toEqual([7]);
      expect(lines[6]!.split(',')).toHaveLength(3);
    });

    it('etag-change: the file is re-published with new values, ETag and LastModified; clearing restores it', async () => {
      const before = await listed(key);
      emu.control.addFault({ name: S3Fault.EtagChange, pathIncludes: '2024-03-07', params: { version: 2 } });
      const after = await listed(key);
      const body = await getBody(s3, key);
      expect(after.ETag).not.toBe(before.ETag);
      expect(after.ETag).toBe(quotedMd5(body));
      expect(after.LastModified!.getTime()).toBeGreaterThan(publishedAt('2024-03-07').getTime());
      const csv = gunzipSync(body).toString();
      expect(csv).toBe(flatFileCsv('us_stocks_sip', 'day_aggs_v1', '2024-03-07', settings, 2).toString());
      expect(flatFileRows('us_stocks_sip', 'day_aggs_v1', '2024-03-07', settings, 2)).not.toEqual(flatFileRows('us_stocks_sip', 'day_aggs_v1', '2024-03-07', settings));
      emu.control.clearFaults(S3Fault.EtagChange);
      expect((await listed(key)).ETag).toBe(before.ETag);
    });
  });

  describe('control API over HTTP', () => {
    const post = (path: string, body: unknown) =>
      fetch(`${emu.url}/__control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    it('counts requests by operation, GETs per key and bytes sent', async () => {
      await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'us_stocks_sip/day_aggs_v1/2024/03/' }));
      await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
      await getBody(s3, key);
      await getBody(s3, key, 'bytes=0-9');
      const { counters } = (await (await fetch(`${emu.url}/__control/counters`)).json()) as { counters: Record<string, number> };
      expect(counters).toEqual({ requests: 4, list: 1, head: 1, get: 2, [`get:${key}`]: 2, 'bytes-sent': truth().length + 10 });
    });

    it('takes faults and settings, and resets', async () => {
      expect((await post('faults', { name: 'slow-down', remaining: 1 })).status).toBe(200);
      expect(await rejection(s3.send(new HeadObjectCommand({ Bucket, Key: key })))).toMatchObject({ $metadata: { httpStatusCode: 503 } });
      expect((await post('settings', { stockTickers: 3 })).status).toBe(200);
      const csv = gunzipSync(await getBody(s3, key)).toString();
      expect(csv.trimEnd().split('\n').slice(1).map((l) => l.split(',')[0])).toEqual(['AAPL', 'MSFT', 'TSLA']);
      expect((await post('reset', {})).status).toBe(200);
      expect(await getBody(s3, key)).toEqual(truth());
    });
  });
});
