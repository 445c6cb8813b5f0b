import http from 'node:http';
import https from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Secret } from '../config/secret.js';

export interface S3ClientOptions {
  /** Massive's flat files: https://files.massive.com (bucket `flatfiles`, region us-east-1). */
  endpoint: string;
  region: string;
  accessKeyId: Secret;
  secretAccessKey: Secret;
  /** SDK-level attempts; ferry retries through BullMQ, so 1 by default. */
  maxAttempts?: number;
  requestTimeoutMs?: number;
  /** Sockets per host: at least the download concurrency. */
  maxSockets?: number;
}

/** An S3 client for an S3-compatible endpoint, path style (the bucket in the path, as Massive serves it). */
export function createS3Client(options: S3ClientOptions): S3Client {
  const maxSockets = options.maxSockets ?? 50;
  return new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKeyId.reveal(), secretAccessKey: options.secretAccessKey.reveal() },
    maxAttempts: options.maxAttempts ?? 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      connectionTimeout: 10_000,
    }),
  });
}
