import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { classifyS3Error } from '../s3/classify-s3-error.js';
import { mapConcurrently } from '../core/map-concurrently.js';
import { normaliseEtag, type ListedFile } from './plan.js';

/**
 * Lists every object under each prefix (ListObjectsV2, following continuation tokens), keeping key, size and
 * ETag: the size and ETag a download is later verified against. Prefixes are listed a few at a time.
 */
export async function listFlatFiles(s3: S3Client, bucket: string, prefixes: readonly string[], parallel = 8): Promise<ListedFile[]> {
  return (await mapConcurrently(prefixes, parallel, (prefix) => listPrefix(s3, bucket, prefix))).flat();
}

async function listPrefix(s3: S3Client, bucket: string, prefix: string): Promise<ListedFile[]> {
  const files: ListedFile[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    } catch (err) {
      throw classifyS3Error(err, `listing s3://${bucket}/${prefix}`);
    }
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined || o.Size === undefined || o.ETag === undefined) continue;
      files.push({ key: o.Key, size: o.Size, etag: normaliseEtag(o.ETag) });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return files;
}
