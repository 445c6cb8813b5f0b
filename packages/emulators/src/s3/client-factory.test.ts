import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '@ferry/shared/core';
import { createS3Client } from '@ferry/shared/s3';
import { DEFAULT_S3_CREDENTIALS, S3Fault, defaultS3Settings, flatFileKey, startS3Emulator, type S3Emulator } from './index.js';
import { emulatorClient, rejection } from './test-client.js';

const Bucket = 'flatfiles';
const Key = flatFileKey('global_crypto', 'day_aggs_v1', '2024-01-02');

describe('createS3Client', () => {
  let emu: S3Emulator;
  beforeAll(async () => {
    emu = await startS3Emulator({ settings: { ...defaultS3Settings(), firstDate: '2024-01-01', lastDate: '2024-01-31' } });
  });
  afterEach(() => emu.control.reset());
  afterAll(() => emu.close());

  it('takes credentials as Secrets from the config', async () => {
    const s3 = createS3Client({
      endpoint: emu.url,
      region: 'us-east-1',
      accessKeyId: new Secret(DEFAULT_S3_CREDENTIALS.accessKeyId),
      secretAccessKey: new Secret(DEFAULT_S3_CREDENTIALS.secretAccessKey),
    });
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    s3.destroy();
  });

  it('makes one attempt by default: BullMQ does the retrying', async () => {
    const s3 = emulatorClient(emu);
    emu.control.addFault({ name: S3Fault.SlowDown, remaining: 1 });
    expect(await rejection(s3.send(new HeadObjectCommand({ Bucket, Key })))).toMatchObject({ $metadata: { httpStatusCode: 503, attempts: 1 } });
    expect(emu.control.counter('requests')).toBe(1);
    s3.destroy();
  });

  it('retries in the SDK when asked to', async () => {
    const s3 = emulatorClient(emu, { maxAttempts: 2 });
    emu.control.addFault({ name: S3Fault.SlowDown, remaining: 1 });
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key }))).resolves.toMatchObject({ $metadata: { attempts: 2 } });
    expect(emu.control.counter('requests')).toBe(2);
    s3.destroy();
  });

  it('fails a request whose answer takes longer than requestTimeoutMs', async () => {
    const s3 = emulatorClient(emu, { requestTimeoutMs: 100 });
    emu.control.configure({ latencyMs: 400 });
    expect(await rejection(s3.send(new HeadObjectCommand({ Bucket, Key })))).toMatchObject({ name: 'TimeoutError', message: expect.stringMatching(/exceeded the configured 100 ms requestTimeout/) });
    s3.destroy();
  });

  it('opens at most maxSockets connections: 32 by default, room for 20 parallel downloads', async () => {
    const s3 = emulatorClient(emu);
    await s3.send(new HeadObjectCommand({ Bucket, Key }));
    const handler = s3.config.requestHandler as NodeHttpHandler;
    const agent = handler.httpHandlerConfigs().httpAgent as { maxSockets: number; keepAlive: boolean };
    expect(agent).toMatchObject({ maxSockets: 32, keepAlive: true });
    s3.destroy();

    // Two sockets, four requests of 150 ms each: at least two rounds.
    const narrow = emulatorClient(emu, { maxSockets: 2 });
    emu.control.configure({ latencyMs: 150 });
    const started = performance.now();
    await Promise.all([0, 1, 2, 3].map(() => narrow.send(new HeadObjectCommand({ Bucket, Key }))));
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
    narrow.destroy();
  });

  it('refuses bad options without echoing secrets', () => {
    const base = { endpoint: emu.url, region: 'us-east-1', ...DEFAULT_S3_CREDENTIALS };
    expect(() => createS3Client({ ...base, endpoint: 'files.massive.com' })).toThrow('S3 client option endpoint must be an http(s) URL, got "files.massive.com"');
    expect(() => createS3Client({ ...base, endpoint: 'ftp://files.massive.com' })).toThrow('got protocol ftp:');
    expect(() => createS3Client({ ...base, maxAttempts: 0 })).toThrow('S3 client option maxAttempts must be a positive integer, got 0');
    expect(() => createS3Client({ ...base, secretAccessKey: '' })).toThrow('S3 client needs a non-empty accessKeyId and secretAccessKey');
    let message = '';
    try {
      createS3Client({ ...base, endpoint: 'https://AKIA:hunter2@files.massive.com' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/must not carry credentials/);
    expect(message).not.toContain('hunter2');
  });
});
