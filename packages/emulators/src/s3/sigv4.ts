import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { s3Error, type S3Error } from './errors.js';

/**
 * AWS Signature Version 4 checked the way S3 checks it: rebuild the canonical request from what arrived (path as
 * sent, query re-encoded and sorted, the signed headers), derive the signing key from the known secret, compare.
 * Header auth (`Authorization: AWS4-HMAC-SHA256 ...`) only: ferry does not use presigned URLs, so a request
 * without an Authorization header is anonymous, and the bucket is not public.
 */
export interface SignedRequest {
  method: string;
  /** Request target as sent: path and raw query string. */
  url: string;
  /** Header values by lower-case name (`IncomingMessage.headersDistinct`). */
  headers: Record<string, string[] | undefined>;
  body: Buffer;
}

export interface SigV4Policy {
  /** access key id -> secret */
  credentials: Record<string, string>;
  region: string;
  now: number;
}

export type SigV4Verdict = { ok: true; accessKeyId: string } | { ok: false; error: S3Error };

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** The payload hash a client sends when it does not hash the body (S3 accepts it over TLS and plain HTTP). */
const UNSIGNED = 'UNSIGNED-PAYLOAD';
/** S3 refuses requests more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const HEADER_AUTH = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/;

/** RFC 3986 unreserved characters stay, everything else is %XX: SigV4's encoding. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseQuery(raw: string): [string, string][] {
  return raw.split('&').filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    return [decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq)), eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1))];
  });
}

function canonicalQuery(params: [string, string][]): string {
  return params
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** `20240307T101500Z` -> ms, or NaN. */
function amzDateMs(amzDate: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  return m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : Number.NaN;
}

interface AuthParts {
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string;
  payloadHash: string;
}

function header(req: SignedRequest, name: string): string | undefined {
  return req.headers[name]?.join(',');
}

function authParts(req: SignedRequest): AuthParts | S3Error {
  const authorization = header(req, 'authorization');
  if (authorization === undefined) return s3Error('AccessDenied');
  const m = HEADER_AUTH.exec(authorization);
  if (!m) return s3Error('AuthorizationHeaderMalformed', {}, 'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  const payloadHash = header(req, 'x-amz-content-sha256');
  if (payloadHash === undefined) return s3Error('InvalidRequest');
  return { credential: m[1]!, signedHeaders: m[2]!, signature: m[3]!, amzDate: header(req, 'x-amz-date') ?? '', payloadHash };
}

export function verifySigV4(req: SignedRequest, policy: SigV4Policy): SigV4Verdict {
  const fail = (error: S3Error): SigV4Verdict => ({ ok: false, error });
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  let query: [string, string][];
  try {
    query = parseQuery(q < 0 ? '' : req.url.slice(q + 1));
  } catch {
    return fail(s3Error('InvalidArgument', {}, 'The query string is not valid percent-encoding.'));
  }
  const parts = authParts(req);
  if ('code' in parts) return fail(parts);

  const [accessKeyId = '', date = '', region = '', service = '', terminator = ''] = parts.credential.split('/');
  if (!accessKeyId || !/^\d{8}$/.test(date) || service !== 's3' || terminator !== 'aws4_request') {
    return fail(s3Error('AuthorizationHeaderMalformed', {}, `The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`));
  }
  const secret = policy.credentials[accessKeyId];
  if (secret === undefined) return fail(s3Error('InvalidAccessKeyId', { AWSAccessKeyId: accessKeyId }));
  if (region !== policy.region) {
    return fail(s3Error('AuthorizationHeaderMalformed', { Region: policy.region }, `The authorization header is malformed; the region '${region}' is wrong; expecting '${policy.region}'`));
  }
  const requestTime = amzDateMs(parts.amzDate);
  if (Number.isNaN(requestTime)) return fail(s3Error('AccessDenied', {}, 'AWS authentication requires a valid Date or x-amz-date header'));
  if (Math.abs(requestTime - policy.now) > MAX_SKEW_MS) {
    return fail(s3Error('RequestTimeTooSkewed', {
      RequestTime: parts.amzDate,
      ServerTime: new Date(policy.now).toISOString(),
      MaxAllowedSkewMilliseconds: MAX_SKEW_MS,
    }));
  }

  const names = parts.signedHeaders.split(';');
  const headerLines = names.map((name) => `${name}:${(header(req, name) ?? '').trim().replace(/ +/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method, path, canonicalQuery(query), headerLines, parts.signedHeaders, parts.payloadHash].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = [ALGORITHM, parts.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  const expected = hmac(signingKey, stringToSign);
  const given = Buffer.from(parts.signature, 'hex');
  if (!names.includes('host') || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    // S3 sends back what it signed, so a client can compare; the secret never appears.
    return fail(s3Error('SignatureDoesNotMatch', {
      AWSAccessKeyId: accessKeyId,
      StringToSign: stringToSign,
      SignatureProvided: parts.signature,
      CanonicalRequest: canonicalRequest,
    }));
  }
  if (parts.payloadHash !== UNSIGNED && !parts.payloadHash.startsWith('STREAMING-')) {
    const computed = sha256Hex(req.body);
    if (parts.payloadHash !== computed) {
      return fail(s3Error('XAmzContentSHA256Mismatch', { ClientComputedContentSHA256: parts.payloadHash, S3ComputedContentSHA256: computed }));
    }
  }
  return { ok: true, accessKeyId };
}
