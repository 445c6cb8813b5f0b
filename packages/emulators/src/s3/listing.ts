/**
 * ListObjectsV2 paging over a sorted key list, pure: prefix, delimiter (common prefixes count toward max-keys, as
 * S3 counts them), start-after and opaque continuation tokens.
 */
export interface ListRequest {
  prefix: string;
  delimiter: string;
  /** 1..1000 keys and common prefixes per page (0: an empty page). */
  maxKeys: number;
  startAfter: string;
  continuationToken?: string;
}

export interface ListPage {
  keys: string[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
}

export const MAX_KEYS_PER_PAGE = 1000;

/** Sorts after every key that starts with `prefix` (the keys are ASCII). */
const AFTER_ALL = '\uffff';

/** A token's bytes before masking: a marker, then the exclusive lower bound of the next page (UTF-8). */
const TOKEN_MARK = Buffer.from('fs3\x01', 'latin1');

/** A fixed keystream: tokens look like S3's (opaque bytes, base64 with `+`, `/` and `=`), so a client that mangles
 * them in the query string or its signature fails here as it would against S3. */
function mask(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]! ^ (Math.imul(i + 1, 0x9e3779b1) >>> 24);
  return out;
}

export function encodeContinuationToken(after: string): string {
  return mask(Buffer.concat([TOKEN_MARK, Buffer.from(after, 'utf8')])).toString('base64');
}

export function decodeContinuationToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const bytes = mask(Buffer.from(token, 'base64'));
  return bytes.subarray(0, TOKEN_MARK.length).equals(TOKEN_MARK) ? bytes.subarray(TOKEN_MARK.length).toString('utf8') : undefined;
}

/** Index of the first key > bound (or >= bound when `inclusive`). */
function search(keys: readonly string[], bound: string, inclusive: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k < bound || (!inclusive && k === bound)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One page, or undefined when the continuation token is not one of ours. */
export function listPage(sortedKeys: readonly string[], req: ListRequest): ListPage | undefined {
  let after = req.startAfter;
  if (req.continuationToken !== undefined) {
    const decoded = decodeContinuationToken(req.continuationToken);
    if (decoded === undefined) return undefined;
    after = decoded;
  }
  const page: ListPage = { keys: [], commonPrefixes: [], isTruncated: false };
  if (req.maxKeys <= 0) return page;
  let i = after >= req.prefix ? search(sortedKeys, after, false) : search(sortedKeys, req.prefix, true);
  let last = after;
  while (i < sortedKeys.length) {
    const key = sortedKeys[i]!;
    if (!key.startsWith(req.prefix)) break;
    const cut = req.delimiter ? key.indexOf(req.delimiter, req.prefix.length) : -1;
    if (page.keys.length + page.commonPrefixes.length >= req.maxKeys) {
      page.isTruncated = true;
      page.nextContinuationToken = encodeContinuationToken(last);
      break;
    }
    if (cut >= 0) {
      const commonPrefix = key.slice(0, cut + req.delimiter.length);
      page.commonPrefixes.push(commonPrefix);
      last = commonPrefix + AFTER_ALL;
      i = search(sortedKeys, last, false);
    } else {
      page.keys.push(key);
      last = key;
      i += 1;
    }
  }
  return page;
}
