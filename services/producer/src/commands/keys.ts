import type { Command } from 'commander';
import { ApiKeyError, createApiKey, listApiKeys, revokeApiKey, type Role } from '@ferry/shared/auth';
import { loadConfig } from '@ferry/shared/core';
import { assertDatabaseReachable, createPool, migrate, type Pool } from '@ferry/shared/postgres';
import { UsageError } from '../collect-request.js';
import type { CliIo } from '../program.js';

/** `ferry keys create|list|revoke`: API keys of the dashboard. Only a hash is stored; a key is printed once. */
export function registerKeysCommands(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const keys = program.command('keys').description('API keys of the dashboard and admin API');

  const withDb = async (fn: (db: Pool) => Promise<void>) => {
    const config = loadConfig(io.env, { envFile: '.env' });
    const db = createPool({ url: config.database.url, poolSize: 2, applicationName: 'ferry-cli' });
    try {
      await assertDatabaseReachable(db);
      await migrate(db);
      await fn(db);
    } catch (err) {
      if (err instanceof ApiKeyError) throw new UsageError(err.message);
      throw err;
    } finally {
      await db.end().catch(() => undefined);
    }
  };

  keys
    .command('create')
    .description('create a key and print it (once)')
    .requiredOption('--name <name>', 'a name for the key')
    .option('--role <role>', 'admin (everything) or viewer (read only)', 'admin')
    .action((opts: { name: string; role: string }) =>
      withDb(async (db) => {
        const key = await createApiKey(db, opts.name, opts.role as Role);
        io.stderr(`created ${opts.role} key ${opts.name}; it is shown this once:\n`);
        io.stdout(`${key}\n`);
      }));

  keys
    .command('list')
    .description('list keys (names and roles; never the keys)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) =>
      withDb(async (db) => {
        const all = await listApiKeys(db);
        if (opts.json) return void io.stdout(`${JSON.stringify(all, null, 2)}\n`);
        for (const k of all) {
          io.stdout(`${k.name}\t${k.role}\t${k.revoked_at ? `revoked ${k.revoked_at}` : 'active'}\tlast used ${k.last_used_at ?? 'never'}\n`);
        }
      }));

  keys
    .command('revoke')
    .description('revoke a key by name')
    .argument('<name>')
    .action((name: string) =>
      withDb(async (db) => {
        if (await revokeApiKey(db, name)) io.stderr(`revoked ${name}\n`);
        else {
          io.stderr(`no active key named ${name}\n`);
          setExitCode(1);
        }
      }));
}
