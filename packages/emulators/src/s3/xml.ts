import type { ObjectMeta } from './bucket.js';
import type { S3Error } from './errors.js';
import type { ListPage, ListRequest } from './listing.js';

/** S3's XML documents: the error document and ListBucketResult (ListObjectsV2). */
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function element(name: string, value: string | number | boolean): string {
  return `<${name}>${xmlEscape(String(value))}</${name}>`;
}

export function errorXml(error: S3Error, requestId: string, hostId: string): string {
  const fields = error.fields.map(([k, v]) => element(k, v)).join('');
  return `${DECLARATION}<Error>${element('Code', error.code)}${element('Message', error.message)}${fields}${element('RequestId', requestId)}${element('HostId', hostId)}</Error>`;
}

export interface ListResultInput {
  bucket: string;
  request: ListRequest;
  /** The max-keys the request asked for (echoed as S3 does, even above 1000). */
  maxKeys: number;
  page: ListPage;
  objects: ObjectMeta[];
  /** `encoding-type=url`: keys and prefixes come URL-encoded. */
  urlEncode: boolean;
}

/** S3's URL encoding of keys in listings: like a query value, but `/` stays. */
function urlEncodeKey(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, '/');
}

export function listBucketResultXml(input: ListResultInput): string {
  const { request, page } = input;
  const key = (s: string) => (input.urlEncode ? urlEncodeKey(s) : s);
  const parts = [
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    element('Name', input.bucket),
    element('Prefix', key(request.prefix)),
    request.continuationToken !== undefined ? element('ContinuationToken', request.continuationToken) : '',
    page.nextContinuationToken !== undefined ? element('NextContinuationToken', page.nextContinuationToken) : '',
    element('KeyCount', page.keys.length + page.commonPrefixes.length),
    element('MaxKeys', input.maxKeys),
    request.delimiter ? element('Delimiter', key(request.delimiter)) : '',
    input.urlEncode ? element('EncodingType', 'url') : '',
    element('IsTruncated', page.isTruncated),
    request.startAfter ? element('StartAfter', key(request.startAfter)) : '',
    ...input.objects.map((o) =>
      `<Contents>${element('Key', key(o.key))}${element('LastModified', o.lastModified.toISOString())}${element('ETag', o.etag)}${element('Size', o.size)}${element('StorageClass', 'STANDARD')}</Contents>`),
    ...page.commonPrefixes.map((p) => `<CommonPrefixes>${element('Prefix', key(p))}</CommonPrefixes>`),
    '</ListBucketResult>',
  ];
  return DECLARATION + parts.join('');
}
