import { createApiKey, listApiKeys, revokeApiKey, type Role } from '@ferry/shared/auth';
import type { Pool } from '@ferry/shared/postgres';
import { EXIT, type CliIo } from '../io.js';

/** Creates a key and prints it, the only time it is shown. */
export async function createKey(io: CliIo, db: Pool, opts: { name: string; role: string }): Promise<number> {
  const key = await createApiKey(db, opts.name, opts.role as Role);
  io.stderr(`created ${opts.role} key ${opts.name}; it is shown this once:\n`);
  io.stdout(`${key}\n`);
  return EXIT.ok;
}

/** Lists the keys' names, roles and use; never the keys. */
export async function listKeys(io: CliIo, db: Pool, opts: { json?: boolean }): Promise<number> {
  const all = await listApiKeys(db);
  if (opts.json) io.stdout(`${JSON.stringify(all, null, 2)}\n`);
  else {
    for (const k of all) {
      io.stdout(`${k.name}\t${k.role}\t${k.revoked_at ? `revoked ${k.revoked_at}` : 'active'}\tlast used ${k.last_used_at ?? 'never'}\n`);
    }
  }
  return EXIT.ok;
}

/** Revokes the active key of that name; 1 when there is none. */
export async function revokeKey(io: CliIo, db: Pool, name: string): Promise<number> {
  if (await revokeApiKey(db, name)) {
    io.stderr(`revoked ${name}\n`);
    return EXIT.ok;
  }
  io.stderr(`no active key named ${name}\n`);
  return EXIT.failed;
}
