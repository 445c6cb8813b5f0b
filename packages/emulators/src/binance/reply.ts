import type http from 'node:http';

/** What a route answers, free of node:http; `sendReply` is the one place that writes it. */
export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'html'; status: number; body: string; headers?: Record<string, string> }
  /** No answer at all: the TCP connection is reset. */
  | { kind: 'reset' };

export function jsonReply(body: unknown, status = 200, headers: Record<string, string> = {}): Reply {
  return { kind: 'json', status, body, headers };
}

export function htmlReply(body: string, status: number): Reply {
  return { kind: 'html', status, body };
}

export const resetReply: Reply = { kind: 'reset' };

export function withHeaders(reply: Reply, headers: Record<string, string>): Reply {
  return reply.kind === 'reset' ? reply : { ...reply, headers: { ...reply.headers, ...headers } };
}

export function sendReply(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply): void {
  if (reply.kind === 'reset') {
    req.socket.resetAndDestroy();
    return;
  }
  const payload = Buffer.from(reply.kind === 'json' ? JSON.stringify(reply.body) : reply.body, 'utf8');
  res.writeHead(reply.status, {
    // Binance's own spelling of the content type.
    'Content-Type': reply.kind === 'json' ? 'application/json;charset=UTF-8' : 'text/html',
    'Content-Length': String(payload.length),
    ...reply.headers,
  });
  res.end(payload);
}
