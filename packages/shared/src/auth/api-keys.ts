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

/** Who a request is: the key that signed it. `id` changes when a revoked name is given a new key. */
export interface ApiKeyOwner {
  id: number;
  name: string;
  role: Role;
}

export class ApiKeyError extends Error {}

/** last_used_at is a hint for `ferry keys list`, not an audit log: one write a minute per key is enough. */
export const LAST_USED_RESOLUTION_MS = 60_000;

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
    // Names are unique among active keys only (migration 005), so a revoked name can be reused.
    `INSERT INTO api_keys (name, role, key_hash) VALUES ($1, $2, $3) ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING`,
    [name, role, hashApiKey(key)],
  );
  if (inserted.rowCount === 0) throw new ApiKeyError(`a key named ${JSON.stringify(name)} exists already (revoke it first)`);
  return key;
}

export async function listApiKeys(db: Queryable): Promise<ApiKeyInfo[]> {
  const { rows } = await db.query<{ name: string; role: Role; created_at: Date; revoked_at: Date | null; last_used_at: Date | null }>(
    'SELECT name, role, created_at, revoked_at, last_used_at FROM api_keys ORDER BY name, created_at',
  );
  return rows.map((r) => ({
    name: r.name, role: r.role, created_at: r.created_at.toISOString(),
    revoked_at: r.revoked_at?.toISOString() ?? null, last_used_at: r.last_used_at?.toISOString() ?? null,
  }));
}

/** Deletes the key's hash; returns false when no such key exists. */
export async function revokeApiKey(db: Queryable, name: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE api_keys SET revoked_at = now(), key_hash = 'revoked' WHERE name = $1 AND revoked_at IS NULL`,
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
export async function verifyApiKey(db: Queryable, key: string): Promise<ApiKeyOwner | undefined> {
  const given = Buffer.from(hashApiKey(key), 'hex');
  const { rows } = await db.query<ApiKeyOwner & { key_hash: string; last_used_at: Date | null }>(
    'SELECT id, name, role, key_hash, last_used_at FROM api_keys WHERE revoked_at IS NULL',
  );
  let match: (typeof rows)[number] | undefined;
  for (const row of rows) {
    const stored = Buffer.from(row.key_hash, 'hex');
    if (stored.length === given.length && timingSafeEqual(stored, given) && !match) match = row;
  }
  if (!match) return undefined;
  if (match.last_used_at === null || Date.now() - match.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS) {
    // The guard repeats the check in SQL, so concurrent requests of one key still write once.
    await db.query(
      `UPDATE api_keys SET last_used_at = now() WHERE id = $1
       AND (last_used_at IS NULL OR last_used_at <= now() - make_interval(secs => $2))`,
      [match.id, LAST_USED_RESOLUTION_MS / 1000],
    );
  }
  return { id: match.id, name: match.name, role: match.role };
}

/** The key with this id while it is active: what a session signed in with that key checks on each request. */
export async function findActiveApiKey(db: Queryable, id: number): Promise<ApiKeyOwner | undefined> {
  const { rows } = await db.query<ApiKeyOwner>('SELECT id, name, role FROM api_keys WHERE id = $1 AND revoked_at IS NULL', [id]);
  return rows[0];
}

/** The hashes of every active key: what the dashboard keeps in memory so a wrong guess costs no query of its own. */
export async function listActiveKeyHashes(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE revoked_at IS NULL');
  return rows.map((r) => r.key_hash);
}
