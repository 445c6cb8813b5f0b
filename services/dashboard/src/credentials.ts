import type { IncomingHttpHeaders } from 'node:http';

/**
 * Where a request may carry an API key: `X-API-Key`, `Authorization: Bearer`, HTTP Basic with the key as password
 * (what a browser's sign-in prompt sends), or `?api_key=` (logged redacted). Pure.
 */
export function apiKeyFrom(headers: IncomingHttpHeaders, query: URLSearchParams): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
    if (bearer) return bearer[1];
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(auth);
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const password = colon >= 0 ? decoded.slice(colon + 1) : '';
      if (password) return password;
    }
  }
  return query.get('api_key') ?? undefined;
}

/** Reads go to everyone signed in; anything else needs the admin role. */
export function isReadOnlyMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}
