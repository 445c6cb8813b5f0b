import { jsonReply, textReply, type Reply } from './reply.js';

/**
 * Every error answer of the emulator is built here, in Dropbox's shapes
 * (https://www.dropbox.com/developers/documentation/http/documentation#error-handling):
 *  - 400: plain text, `Error in call to API function "files/upload": <what was wrong>`;
 *  - 401: JSON `AuthError`;  409: JSON endpoint-specific error;  429: JSON `RateLimitError` plus `Retry-After`;
 *  - 5xx: plain text;  `/oauth2/token`: OAuth 2 JSON `{error, error_description}`.
 * JSON errors look like `{"error_summary": "path/conflict/file/..", "error": {".tag": "path", ...}}`.
 */

/** A Stone union value as Dropbox serialises it: `{".tag": "conflict", "conflict": {".tag": "file"}}`. */
export interface Tagged {
  '.tag': string;
  [field: string]: unknown;
}

export const tagged = (tag: string, fields: Record<string, unknown> = {}): Tagged => ({ '.tag': tag, ...fields });

/** `path/conflict/file/..`: the chain of tags; then a random run of dots, because Dropbox says not to parse it. */
export function errorSummary(error: unknown): string {
  const tags: string[] = [];
  let node: unknown = error;
  while (isObject(node)) {
    const tag = node['.tag'];
    if (typeof tag === 'string') tags.push(tag);
    const next: unknown = typeof tag === 'string' && isObject(node[tag]) ? node[tag] : firstTaggedField(node);
    node = next;
  }
  return `${tags.join('/')}/${'.'.repeat(Math.floor(Math.random() * 4))}`;
}

function firstTaggedField(node: Record<string, unknown>): unknown {
  return Object.entries(node).find(([key, value]) => key !== '.tag' && isObject(value))?.[1];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** 409: the endpoint's own error union. */
export function routeError(error: Tagged): Reply {
  return jsonReply({ error_summary: errorSummary(error), error }, 409);
}

export type AuthErrorTag = 'invalid_access_token' | 'expired_access_token';

export function authError(tag: AuthErrorTag): Reply {
  const error = tagged(tag);
  return jsonReply({ error_summary: errorSummary(error), error }, 401);
}

export type RateLimitReason = 'too_many_requests' | 'too_many_write_operations';

/** A 429 whose body is plain text, as Dropbox's front ends answer it at times. */
export function rateLimitedText(retryAfterSeconds: number): Reply {
  return textReply('Too Many Requests', 429, { 'retry-after': String(retryAfterSeconds) });
}

export function rateLimited(reason: RateLimitReason, retryAfterSeconds: number): Reply {
  const error = { reason: tagged(reason), retry_after: retryAfterSeconds };
  return jsonReply({ error_summary: errorSummary(error), error }, 429, { 'retry-after': String(retryAfterSeconds) });
}

export function badRequest(route: string, detail: string): Reply {
  return textReply(`Error in call to API function "${route}": ${detail}`, 400);
}

export function unknownRoute(route: string): Reply {
  return textReply(`Unknown API function: "${route}"`, 404);
}

export function serverError(status = 500, retryAfterSeconds?: number): Reply {
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
  return textReply('An error occurred on the Dropbox servers. Check status.dropbox.com for announcements.', status, headers);
}

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type';

export function oauthError(error: OAuthErrorCode, description: string): Reply {
  return jsonReply({ error, error_description: description }, 400);
}

// Members of the endpoint unions the routes use.

export const lookupNotFound = (): Tagged => tagged('not_found');

export const writeConflict = (kind: 'file' | 'folder' | 'file_ancestor'): Tagged =>
  tagged('conflict', { conflict: tagged(kind) });

export const malformedPath = (): Tagged => tagged('malformed_path');

export const incorrectOffset = (correctOffset: number): Tagged => tagged('incorrect_offset', { correct_offset: correctOffset });
