import { createApiKey, listApiKeys, revokeApiKey, type Role } from '@ferry/shared/auth';
import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';
import { EXIT } from '../io.js';

/** `ferry keys create|list|revoke`: API keys of the dashboard. Only a hash is stored; a key is printed once. */
export const keysCommand: CliCommand = (program, io) => {
  const keys = program.command('keys').description('API keys of the dashboard and admin API');
  const withDb = { open: ['postgres'] } as const;

  keys
    .command('create')
    .description('create a key and print it (once)')
    .requiredOption('--name <name>', 'a name for the key')
    .option('--role <role>', 'admin (everything) or viewer (read only)', 'admin')
    .actionWithExitCode((opts: { name: string; role: string }) => withCliContext(io, withDb, async ({ db }) => {
      const key = await createApiKey(db, opts.name, opts.role as Role);
      io.stderr(`created ${opts.role} key ${opts.name}; it is shown this once:\n`);
      io.stdout(`${key}\n`);
      return EXIT.ok;
    }));

  keys
    .command('list')
    .description('list keys (names and roles; never the keys)')
    .option('--json', 'print JSON')
    .actionWithExitCode((opts: { json?: boolean }) => withCliContext(io, withDb, async ({ db }) => {
      const all = await listApiKeys(db);
      if (opts.json) io.stdout(`${JSON.stringify(all, null, 2)}\n`);
      else {
        for (const k of all) {
          io.stdout(`${k.name}\t${k.role}\t${k.revoked_at ? `revoked ${k.revoked_at}` : 'active'}\tlast used ${k.last_used_at ?? 'never'}\n`);
        }
      }
      return EXIT.ok;
    }));

  keys
    .command('revoke')
    .description('revoke a key by name')
    .argument('<name>')
    .actionWithExitCode((name: string) => withCliContext(io, withDb, async ({ db }) => {
      if (await revokeApiKey(db, name)) {
        io.stderr(`revoked ${name}\n`);
        return EXIT.ok;
      }
      io.stderr(`no active key named ${name}\n`);
      return EXIT.failed;
    }));
};
