import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';

/** API keys: `ferry_` + 32 random bytes (base64url). Only their SHA-256 is stored. */
type Queryable = Pick<pg.Pool, 'query'>;

export type Role = 'admin' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'viewer'];

export interface ApiKeyInfo {
  name: string;
  role: Role;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export class ApiKeyError extends Error {}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): string {
  return `ferry_${randomBytes(32).toString('base64url')}`;
}

export function isKeyName(name: string): boolean {
  return /^[a-zA-Z0-9_.-]{1,64}$/.test(name);
}

/** Creates a key and returns it; it cannot be shown again. */
export async function createApiKey(db: Queryable, name: string, role: Role): Promise<string> {
  if (!isKeyName(name)) throw new ApiKeyError(`--name ${JSON.stringify(name)}: expected 1-64 letters, digits, _ . or -`);
  if (!ROLES.includes(role)) throw new ApiKeyError(`--role ${JSON.stringify(role)}: expected admin or viewer`);
  const key = generateApiKey();
  const inserted = await db.query(
    `INSERT INTO api_keys (name, role, key_hash) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
    [name, role, hashApiKey(key)],
  );
  if (inserted.rowCount === 0) throw new ApiKeyError(`a key named ${JSON.stringify(name)} exists already (revoke it first)`);
  return key;
}

export async function listApiKeys(db: Queryable): Promise<ApiKeyInfo[]> {
  const { rows } = await db.query<{ name: string; role: Role; created_at: Date; revoked_at: Date | null; last_used_at: Date | null }>(
    'SELECT name, role, created_at, revoked_at, last_used_at FROM api_keys ORDER BY name',
  );
  return rows.map((r) => ({
    name: r.name, role: r.role, created_at: r.created_at.toISOString(),
    revoked_at: r.revoked_at?.toISOString() ?? null, last_used_at: r.last_used_at?.toISOString() ?? null,
  }));
}

/** Deletes the key's hash; returns false when no such key exists. */
export async function revokeApiKey(db: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE api_keys SET revoked_at = now(), key_hash = 'revoked:' || name WHERE name = $1 AND revoked_at IS NULL`,
    [name],
  );
  return (rowCount ?? 0) > 0;
}

export async function countActiveApiKeys(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL');
  return rows[0]?.n ?? 0;
}

/**
 * The key's owner, or undefined. Every active key's hash is compared in constant time (no early exit), so timing
 * says nothing about how close a guess was.
 */
export async function verifyApiKey(db: Queryable, key: string): Promise<{ name: string; role: Role } | undefined> {
  const given = Buffer.from(hashApiKey(key), 'hex');
  const { rows } = await db.query<{ name: string; role: Role; key_hash: string }>(
    'SELECT name, role, key_hash FROM api_keys WHERE revoked_at IS NULL',
  );
  let match: { name: string; role: Role } | undefined;
  for (const row of rows) {
    const stored = Buffer.from(row.key_hash, 'hex');
    if (stored.length === given.length && timingSafeEqual(stored, given) && !match) match = { name: row.name, role: row.role };
  }
  if (match) await db.query('UPDATE api_keys SET last_used_at = now() WHERE name = $1', [match.name]);
  return match;
}
