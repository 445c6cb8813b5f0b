import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';

/** What a route answers, free of node:http; `sendReply` is the one place that writes it. */
export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'text'; status: number; body: string; headers?: Record<string, string> }
  /** A stored file streamed from disk, so a large download never sits in memory. */
  | { kind: 'file'; status: 200; path: string; size: number; headers: Record<string, string> }
  /** No answer at all: the TCP connection is reset. */
  | { kind: 'reset' };

export function jsonReply(body: unknown, status = 200, headers: Record<string, string> = {}): Reply {
  return { kind: 'json', status, body, headers };
}

export function textReply(body: string, status: number, headers: Record<string, string> = {}): Reply {
  return { kind: 'text', status, body, headers };
}

export const resetReply: Reply = { kind: 'reset' };

/**
 * JSON as Dropbox puts it in a header (`Dropbox-API-Result`): characters from U+007F up escaped as `\uXXXX`, because
 * HTTP header values must be ASCII.
 */
export function httpHeaderSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export async function sendReply(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply): Promise<void> {
  if (reply.kind === 'reset') {
    req.socket.resetAndDestroy();
    return;
  }
  // Every Dropbox answer carries a request id; support asks for it.
  const common = { 'x-dropbox-request-id': randomBytes(16).toString('hex') };
  if (reply.kind === 'file') {
    res.writeHead(reply.status, {
      ...common,
      'content-type': 'application/octet-stream',
      'content-length': String(reply.size),
      ...reply.headers,
    });
    await pipeline(createReadStream(reply.path), res);
    return;
  }
  const isJson = reply.kind === 'json';
  const payload = Buffer.from(isJson ? JSON.stringify(reply.body) : reply.body, 'utf8');
  res.writeHead(reply.status, {
    ...common,
    'content-type': isJson ? 'application/json' : 'text/plain; charset=utf-8',
    'content-length': String(payload.length),
    ...reply.headers,
  });
  res.end(payload);
}

export function replyStatus(reply: Reply): number | undefined {
  return reply.kind === 'reset' ? undefined : reply.status;
}
