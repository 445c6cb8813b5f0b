import http from 'node:http';
import https from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Secret } from '../core/config/secret.js';
import { redactUrlCredentials } from '../core/config/redact-url.js';

/**
 * The one place that builds an `S3Client` for the flat files. Massive (formerly Polygon.io) serves them from the
 * S3-compatible endpoint https://files.massive.com, bucket `flatfiles`, region us-east-1, path style (the bucket in
 * the path, not the host name); tests point `endpoint` at the emulator.
 */
export interface S3ClientOptions {
  /** e.g. `https://files.massive.com`, or an emulator's `http://127.0.0.1:port`. */
  endpoint: string;
  /** Region the requests are signed for; Massive's is `us-east-1`. */
  region: string;
  /** `Secret`s from the config, or plain strings (tests). */
  accessKeyId: Secret | string;
  secretAccessKey: Secret | string;
  /** Attempts the SDK makes per call. Default 1: ferry retries through BullMQ, with its own backoff and taxonomy. */
  maxAttempts?: number;
  /**
   * Time from sending a request to its response headers; breaching it fails the call with the SDK's TimeoutError.
   * Default 30,000 ms.
   */
  requestTimeoutMs?: number;
  /**
   * Longest silence on the socket, body download included: a stalled transfer fails instead of hanging. Default
   * 60,000 ms.
   */
  socketIdleTimeoutMs?: number;
  /** Sockets per host. Default 32: room for 20 parallel downloads plus listings and HEADs. */
  maxSockets?: number;
}

function reveal(value: Secret | string): string {
  return value instanceof Secret ? value.reveal() : value;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`S3 client option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function endpointUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`S3 client option endpoint must be an http(s) URL, got ${JSON.stringify(redactUrlCredentials(endpoint))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`S3 client option endpoint must be an http(s) URL, got protocol ${url.protocol}`);
  }
  if (url.username || url.password) {
    // Never echo the URL here: its user-info part would be a credential.
    throw new Error('S3 client option endpoint must not carry credentials (user:password@); use accessKeyId/secretAccessKey');
  }
  return endpoint;
}

export function createS3Client(options: S3ClientOptions): S3Client {
  const maxSockets = positiveInteger('maxSockets', options.maxSockets, 32);
  const accessKeyId = reveal(options.accessKeyId);
  const secretAccessKey = reveal(options.secretAccessKey);
  if (!accessKeyId || !secretAccessKey) throw new Error('S3 client needs a non-empty accessKeyId and secretAccessKey');
  return new S3Client({
    endpoint: endpointUrl(options.endpoint),
    region: options.region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: positiveInteger('maxAttempts', options.maxAttempts, 1),
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
      connectionTimeout: 10_000,
      requestTimeout: positiveInteger('requestTimeoutMs', options.requestTimeoutMs, 30_000),
      // Without it the SDK only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
      socketTimeout: positiveInteger('socketIdleTimeoutMs', options.socketIdleTimeoutMs, 60_000),
    }),
  });
}
