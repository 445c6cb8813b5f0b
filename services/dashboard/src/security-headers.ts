import type { NextFunction, Request, Response } from 'express';

/**
 * No page may be framed (clickjacking); scripts only from the dashboard itself. Bull Board's UI needs inline styles
 * and loads its fonts from Google Fonts; its only inline script is a JSON block, which the browser does not run.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com",
  "font-src 'self' data: https://fonts.gstatic.com",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers every answer carries, set before any route so errors and Bull Board's pages get them too. */
export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // A URL may carry ?api_key=: no other site learns it from a Referer. Not no-referrer: under it a browser's own
  // sign-in form posts `Origin: null`, which the cross-site check must refuse.
  res.setHeader('Referrer-Policy', 'same-origin');
  next();
}
