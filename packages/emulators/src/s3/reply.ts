import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { EmulatorControl } from '../common/control.js';
import type { S3Error } from './errors.js';
import { S3Counter, type S3Settings } from './settings.js';
import { errorXml } from './xml.js';

/** Writing answers the way S3 does: its headers, its error document, bodies streamed with backpressure. */
export interface RequestIds {
  requestId: string;
  hostId: string;
}

export function newRequestIds(): RequestIds {
  return { requestId: randomBytes(8).toString('hex').toUpperCase(), hostId: randomBytes(48).toString('base64') };
}

export function s3Headers(ids: RequestIds): Record<string, string> {
  return { 'x-amz-request-id': ids.requestId, 'x-amz-id-2': ids.hostId, server: 'AmazonS3' };
}

/** An error answer; HEAD answers carry no body (S3's HEAD errors are a bare status). */
export function sendError(control: EmulatorControl<S3Settings>, res: http.ServerResponse, error: S3Error, head: boolean, ids = newRequestIds()): void {
  control.count(S3Counter.error(error.code));
  if (head) {
    res.writeHead(error.status, { ...s3Headers(ids), 'content-type': 'application/xml' });
    res.end();
    return;
  }
  const body = errorXml(error, ids.requestId, ids.hostId);
  res.writeHead(error.status, { ...s3Headers(ids), 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendXml(res: http.ServerResponse, xml: string, ids: RequestIds): Buffer {
  const body = Buffer.from(xml);
  res.writeHead(200, { ...s3Headers(ids), 'content-type': 'application/xml', 'content-length': body.length });
  return body;
}

function drainOrClose(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Writes the chunks (headers already sent). With `cutAfter`, stops after that many bytes and drops the connection
 * once they are flushed: the client was promised more (Content-Length) and never gets it. Returns the bytes written.
 */
export async function writeBody(res: http.ServerResponse, chunks: Iterable<Buffer>, cutAfter?: number): Promise<number> {
  let sent = 0;
  for (const chunk of chunks) {
    if (res.destroyed) return sent;
    const part = cutAfter === undefined ? chunk : chunk.subarray(0, Math.max(0, cutAfter - sent));
    if (part.length > 0) {
      sent += part.length;
      if (cutAfter !== undefined && sent >= cutAfter) {
        await new Promise<void>((resolve) => res.write(part, () => resolve()));
        res.socket?.destroy();
        return sent;
      }
      if (!res.write(part)) await drainOrClose(res);
    }
  }
  if (cutAfter !== undefined) {
    res.socket?.destroy();
    return sent;
  }
  res.end();
  return sent;
}
