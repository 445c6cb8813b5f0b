import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigObject, CSV_HEADER, S3Fault, defaultS3Settings, startS3Emulator, type S3Emulator } from './index.js';
import { emulatorClient, getBody, rejection } from './test-client.js';

const Bucket = 'flatfiles';
const key = 'bench/minute_aggs_big.csv.gz';
/** Big enough to cross hundreds of deflate blocks and many socket writes, small enough for a quick test. */
const sizeBytes = 24 * 1024 * 1024;

/** Streams a body through gunzip, keeping only counts and hashes. */
async function consume(body: Readable): Promise<{ bytes: number; md5: string; lines: number; firstLine: string }> {
  const md5 = createHash('md5');
  let bytes = 0;
  let lines = 0;
  let head = '';
  const gunzip = createGunzip();
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    md5.update(chunk);
  });
  body.on('error', (err) => gunzip.destroy(err));
  body.pipe(gunzip);
  for await (const chunk of gunzip as AsyncIterable<Buffer>) {
    if (head.length < 200) head += chunk.subarray(0, 200).toString();
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines += 1;
  }
  return { bytes, md5: md5.digest('hex'), lines, firstLine: head.split('\n')[0]! };
}

describe('big objects through the real S3Client', () => {
  let emu: S3Emulator;
  let s3: S3Client;
  const expected = new BigObject(key, sizeBytes);
  beforeAll(async () => {
    emu = await startS3Emulator({ settings: { ...defaultS3Settings(), firstDate: '2024-01-01', lastDate: '2024-01-31', bigObjects: [{ key, sizeBytes }] } });
    s3 = emulatorClient(emu);
  });
  afterAll(async () => {
    s3.destroy();
    await emu.close();
  });

  it('is listed with its size and a multipart-style ETag', async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'bench/' }));
    expect(page.Contents).toEqual([{ Key: key, Size: expected.size, ETag: expected.etag, LastModified: new Date('2024-01-02T16:00:00Z'), StorageClass: 'STANDARD' }]);
    expect(expected.etag).toMatch(/^"[0-9a-f]{32}-3"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
    expect(head).toMatchObject({ ContentLength: expected.size, ETag: expected.etag });
  });

  it('streams a valid gzipped CSV of the announced length', async () => {
    const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
    expect(out.ContentLength).toBe(expected.size);
    const got = await consume(out.Body as Readable);
    expect(got.bytes).toBe(expected.size);
    expect(got.lines).toBe(expected.rows + 1);
    expect(got.firstLine).toBe(CSV_HEADER);
    expect(got.md5).toBe(createHash('md5').update(Buffer.concat([...expected.bytes()])).digest('hex'));
    expect(emu.control.counter('bytes-sent')).toBe(expected.size);
  });

  it('serves ranges anywhere, the gzip trailer included', async () => {
    const tail = await getBody(s3, key, 'bytes=-100');
    expect(tail).toEqual(Buffer.concat([...expected.bytes(expected.size - 100, expected.size)]));
    const middle = await getBody(s3, key, 'bytes=12000000-12065599');
    expect(middle).toEqual(Buffer.concat([...expected.bytes(12_000_000, 12_065_600)]));
  });

  it('can be cut off mid-stream like any object', async () => {
    emu.control.addFault({ name: S3Fault.TruncatedBody, remaining: 1, params: { fraction: 0.1 } });
    const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
    expect(await rejection(consume(out.Body as Readable))).toMatchObject({ code: 'ECONNRESET' });
  });
});
