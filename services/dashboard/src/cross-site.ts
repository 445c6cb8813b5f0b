import type { IncomingHttpHeaders } from 'node:http';
import { isReadOnlyMethod } from './credentials.js';

/**
 * Whether a request is a browser's write sent by another site. Browsers send `Origin` on every cross-origin write
 * (and `Sec-Fetch-Site`), whatever credentials they attach: cached Basic credentials, a key in the URL, a cookie. Such
 * a write is refused however it is authenticated. Scripts (curl, the CLI) send neither header and are not affected.
 * `ownOrigin` is `protocol://host[:port]` as this request reached the dashboard (behind a trusted proxy, as it says).
 */
export function isCrossSiteWrite(method: string, headers: IncomingHttpHeaders, ownOrigin: string): boolean {
  if (isReadOnlyMethod(method)) return false;
  const site = headers['sec-fetch-site'];
  // 'none' is the user's own action (a typed address, a bookmark); 'same-site' is a sibling subdomain: another site.
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return true;
  const origin = headers.origin;
  return origin !== undefined && origin.toLowerCase() !== ownOrigin.toLowerCase();
}
