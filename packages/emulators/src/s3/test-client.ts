import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, type _Object, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3ClientOptions } from '@ferry/shared/s3';
import type { RunningEmulator } from '../common/http-server.js';
import { DEFAULT_S3_CREDENTIALS, type S3Settings } from './settings.js';

/** The production client factory pointed at an emulator: what the tests talk through. */
export function emulatorClient(emu: RunningEmulator<S3Settings>, overrides: Partial<S3ClientOptions> = {}): S3Client {
  return createS3Client({ endpoint: emu.url, region: 'us-east-1', ...DEFAULT_S3_CREDENTIALS, ...overrides });
}

export async function getBody(s3: S3Client, key: string, range?: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: 'flatfiles', Key: key, Range: range }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** Every object under a prefix, following continuation tokens; also how many pages it took. */
export async function listAll(s3: S3Client, prefix: string): Promise<{ objects: _Object[]; pages: number }> {
  const objects: _Object[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'flatfiles', Prefix: prefix, ContinuationToken: token }));
    pages += 1;
    objects.push(...(page.Contents ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { objects, pages };
}

export function quotedMd5(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/** Whatever a rejected SDK call threw, for matching. */
export async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected the call to fail, it succeeded');
}
