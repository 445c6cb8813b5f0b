import { gunzipSync } from 'node:zlib';
import {
  GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CSV_HEADER, DEFAULT_S3_CREDENTIALS, defaultS3Settings, flatFileKey, flatFileRows, objectBody, publishedAt, startS3Emulator,
  tradingDays, type S3Emulator,
} from './index.js';
import { emulatorClient, getBody, listAll, quotedMd5, rejection } from './test-client.js';

const settings = { ...defaultS3Settings(), firstDate: '2020-01-01', lastDate: '2024-12-31' };
const Bucket = 'flatfiles';

describe('S3 emulator through the real S3Client', () => {
  let emu: S3Emulator;
  let s3: S3Client;
  beforeAll(async () => {
    emu = await startS3Emulator({ settings });
    s3 = emulatorClient(emu);
  });
  afterAll(async () => {
    s3.destroy();
    await emu.close();
  });

  describe('ListObjectsV2', () => {
    it('lists five years of daily stock files over continuation pages: every trading day, no holiday', async () => {
      const { objects, pages } = await listAll(s3, 'us_stocks_sip/day_aggs_v1/');
      const days = tradingDays('us_stocks_sip', '2020-01-01', '2024-12-31');
      expect(days).toHaveLength(1258);
      expect(pages).toBe(2);
      expect(objects.map((o) => o.Key)).toEqual(days.map((d) => flatFileKey('us_stocks_sip', 'day_aggs_v1', d)));
      const keys = new Set(objects.map((o) => o.Key));
      for (const holiday of ['2024-03-29', '2024-06-19', '2023-07-04', '2022-06-20', '2020-11-26']) {
        expect(keys.has(flatFileKey('us_stocks_sip', 'day_aggs_v1', holiday)), holiday).toBe(false);
      }
      const first = objects[0]!;
      const body = objectBody(first.Key!, settings)!;
      expect(first).toEqual({
        Key: 'us_stocks_sip/day_aggs_v1/2020/01/2020-01-02.csv.gz',
        LastModified: publishedAt('2020-01-02'),
        ETag: quotedMd5(body),
        Size: body.length,
        StorageClass: 'STANDARD',
      });
    });

    it('rolls keys up to common prefixes with a delimiter', async () => {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'global_crypto/day_aggs_v1/', Delimiter: '/' }));
      expect(page.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['2020', '2021', '2022', '2023', '2024'].map((y) => `global_crypto/day_aggs_v1/${y}/`));
      expect(page.Contents).toBeUndefined();
      expect(page).toMatchObject({ KeyCount: 5, IsTruncated: false, Delimiter: '/', Prefix: 'global_crypto/day_aggs_v1/', Name: 'flatfiles' });
    });

    it('honours MaxKeys and StartAfter', async () => {
      const page = await s3.send(new ListObjectsV2Command({
        Bucket, Prefix: 'us_stocks_sip/day_aggs_v1/2024/', MaxKeys: 3, StartAfter: flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-27'),
      }));
      expect(page.Contents?.map((o) => o.Key)).toEqual(['2024-03-28', '2024-04-01', '2024-04-02'].map((d) => flatFileKey('us_stocks_sip', 'day_aggs_v1', d)));
      expect(page).toMatchObject({ KeyCount: 3, MaxKeys: 3, IsTruncated: true });
      expect(page.NextContinuationToken).toEqual(expect.any(String));
    });

    it('answers an empty listing for a prefix with no keys', async () => {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'us_stocks_sip/day_aggs_v1/2019/' }));
      expect(page).toMatchObject({ KeyCount: 0, IsTruncated: false });
      expect(page.Contents).toBeUndefined();
    });

    it('refuses a continuation token it did not issue', async () => {
      const err = await rejection(s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken: 'bm90LW91cnM=' })));
      expect(err).toMatchObject({ name: 'InvalidArgument', message: 'The continuation token provided is incorrect', $metadata: { httpStatusCode: 400 } });
    });
  });

  describe('HeadObject and GetObject', () => {
    const key = flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-07');

    it('describes an object: size, ETag = MD5 of the body, Last-Modified, content type', async () => {
      const body = objectBody(key, settings)!;
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
      expect(head).toMatchObject({
        ContentLength: body.length,
        ETag: quotedMd5(body),
        LastModified: new Date('2024-03-08T16:00:00Z'),
        ContentType: 'application/gzip',
        AcceptRanges: 'bytes',
      });
    });

    it('serves the body whose MD5 is its ETag and whose rows are the generator truth', async () => {
      const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
      const body = Buffer.from(await out.Body!.transformToByteArray());
      expect(out.ContentLength).toBe(body.length);
      expect(out.ETag).toBe(quotedMd5(body));
      const [header, ...lines] = gunzipSync(body).toString('utf8').trimEnd().split('\n');
      expect(header).toBe(CSV_HEADER);
      const rows = lines.map((line) => {
        const [ticker, volume, open, close, high, low, windowStart, transactions] = line.split(',');
        return {
          ticker: ticker!, volume: Number(volume), open: Number(open), close: Number(close), high: Number(high), low: Number(low),
          window_start: BigInt(windowStart!), transactions: Number(transactions),
        };
      });
      expect(rows).toEqual(flatFileRows('us_stocks_sip', 'day_aggs_v1', '2024-03-07'));
      expect(rows.map((r) => r.ticker)).toEqual(expect.arrayContaining(['TSLA', 'AAPL', 'MSFT', 'NVDA']));
      expect(emu.control.counter(`get:${key}`)).toBeGreaterThanOrEqual(1);
    });

    it('answers a Range with 206 and exactly those bytes', async () => {
      const full = objectBody(key, settings)!;
      const out = await s3.send(new GetObjectCommand({ Bucket, Key: key, Range: 'bytes=10-99' }));
      expect(out.ContentRange).toBe(`bytes 10-99/${full.length}`);
      expect(out.ContentLength).toBe(90);
      expect(Buffer.from(await out.Body!.transformToByteArray())).toEqual(full.subarray(10, 100));
      expect(await getBody(s3, key, `bytes=${full.length - 8}-`)).toEqual(full.subarray(full.length - 8));
      expect(await getBody(s3, key, 'bytes=-16')).toEqual(full.subarray(full.length - 16));
    });

    it('refuses a range beyond the object with 416 InvalidRange', async () => {
      const size = objectBody(key, settings)!.length;
      const err = await rejection(getBody(s3, key, `bytes=${size}-`));
      expect(err).toMatchObject({ name: 'InvalidRange', ActualObjectSize: String(size), $metadata: { httpStatusCode: 416 } });
    });

    it('answers conditional requests: If-Match fails with 412, If-None-Match on the same ETag is 304', async () => {
      const etag = quotedMd5(objectBody(key, settings)!);
      expect(await rejection(s3.send(new GetObjectCommand({ Bucket, Key: key, IfMatch: '"0123456789abcdef0123456789abcdef"' }))))
        .toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      // A 304 has no body, so the SDK cannot name it.
      expect(await rejection(s3.send(new GetObjectCommand({ Bucket, Key: key, IfNoneMatch: etag })))).toMatchObject({ $metadata: { httpStatusCode: 304 } });
      const out = await s3.send(new GetObjectCommand({ Bucket, Key: key, IfMatch: etag }));
      expect(out.ETag).toBe(etag);
      await out.Body!.transformToByteArray();
    });

    it('reports a missing key as NoSuchKey (GET) and NotFound (HEAD, bodiless as S3 sends it)', async () => {
      const holiday = flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-29');
      expect(await rejection(getBody(s3, holiday))).toMatchObject({ name: 'NoSuchKey', Key: holiday, $metadata: { httpStatusCode: 404 } });
      expect(await rejection(s3.send(new HeadObjectCommand({ Bucket, Key: holiday })))).toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    });

    it('reports a missing bucket as NoSuchBucket', async () => {
      const err = await rejection(s3.send(new GetObjectCommand({ Bucket: 'other-bucket', Key: key })));
      expect(err).toMatchObject({ name: 'NoSuchBucket', BucketName: 'other-bucket', $metadata: { httpStatusCode: 404 } });
      await expect(s3.send(new HeadBucketCommand({ Bucket }))).resolves.toMatchObject({ BucketRegion: 'us-east-1' });
    });
  });

  describe('SigV4', () => {
    const key = flatFileKey('global_crypto', 'day_aggs_v1', '2024-01-02');

    it('rejects an unknown access key with InvalidAccessKeyId', async () => {
      const stranger = emulatorClient(emu, { accessKeyId: 'AKIASTRANGER', secretAccessKey: 'whatever' });
      const err = await rejection(stranger.send(new ListObjectsV2Command({ Bucket })));
      stranger.destroy();
      expect(err).toMatchObject({ name: 'InvalidAccessKeyId', AWSAccessKeyId: 'AKIASTRANGER', $metadata: { httpStatusCode: 403 } });
    });

    it('rejects a wrong secret with SignatureDoesNotMatch, never echoing a secret', async () => {
      const forger = emulatorClient(emu, { secretAccessKey: 'not-the-secret' });
      const err = await rejection(forger.send(new GetObjectCommand({ Bucket, Key: key })));
      forger.destroy();
      expect(err).toMatchObject({ name: 'SignatureDoesNotMatch', AWSAccessKeyId: DEFAULT_S3_CREDENTIALS.accessKeyId, $metadata: { httpStatusCode: 403 } });
      expect(String(err.StringToSign)).toMatch(/^AWS4-HMAC-SHA256\n\d{8}T\d{6}Z\n\d{8}\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
      const dump = JSON.stringify(err) + String(err.message);
      expect(dump).not.toContain('not-the-secret');
      expect(dump).not.toContain(DEFAULT_S3_CREDENTIALS.secretAccessKey);
    });

    it('rejects a request signed for another region', async () => {
      const elsewhere = emulatorClient(emu, { region: 'eu-west-1' });
      const err = await rejection(elsewhere.send(new HeadBucketCommand({ Bucket })));
      elsewhere.destroy();
      expect(err).toMatchObject({ $metadata: { httpStatusCode: 400 } });
      const get = emulatorClient(emu, { region: 'eu-west-1' });
      const named = await rejection(get.send(new GetObjectCommand({ Bucket, Key: key })));
      get.destroy();
      expect(named).toMatchObject({ name: 'AuthorizationHeaderMalformed', Region: 'us-east-1' });
    });

    it('rejects a request signed more than 15 minutes off the server clock', async () => {
      const late = emulatorClient(emu);
      late.config.systemClockOffset = -20 * 60 * 1000;
      const err = await rejection(late.send(new GetObjectCommand({ Bucket, Key: key })));
      late.destroy();
      expect(err).toMatchObject({ name: 'RequestTimeTooSkewed', MaxAllowedSkewMilliseconds: '900000', $metadata: { httpStatusCode: 403 } });
    });

    it('rejects an unsigned request with AccessDenied', async () => {
      const res = await fetch(`${emu.url}/flatfiles/${key}`);
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>AccessDenied<\/Code><Message>Access Denied<\/Message><RequestId>[0-9A-F]{16}<\/RequestId><HostId>[^<]+<\/HostId><\/Error>$/);
    });

    it('verifies signatures over query values and keys that need percent-encoding', async () => {
      // Continuation tokens are opaque base64 with '+', '/' and '=', as S3's are: encoded in the query, signed.
      const first = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'us_stocks_sip/day_aggs_v1/2024/03/', MaxKeys: 2 }));
      expect(first.NextContinuationToken).toMatch(/[+/=]/);
      const next = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'us_stocks_sip/day_aggs_v1/2024/03/', MaxKeys: 2, ContinuationToken: first.NextContinuationToken }));
      expect(next.Contents?.map((o) => o.Key)).toEqual(['2024-03-05', '2024-03-06'].map((d) => flatFileKey('us_stocks_sip', 'day_aggs_v1', d)));
      const odd = 'us_stocks_sip/day aggs (copy)/ä+=&*~.csv.gz';
      expect(await rejection(getBody(s3, odd))).toMatchObject({ name: 'NoSuchKey', Key: odd });
    });
  });
});
