import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';

/** `ferry keys create|list|revoke`: API keys of the dashboard. Only a hash is stored; a key is printed once. */
export const keysCommand: CliCommand = (program, io) => {
  const keys = program.command('keys').description('API keys of the dashboard and admin API');
  const withDb = { open: ['postgres'] } as const;
  const actions = () => import('../actions/keys.js');

  keys
    .command('create')
    .description('create a key and print it (once)')
    .requiredOption('--name <name>', 'a name for the key')
    .option('--role <role>', 'admin (everything) or viewer (read only)', 'admin')
    .actionWithExitCode((opts: { name: string; role: string }) => withCliContext(io, withDb, async ({ db }) =>
      (await actions()).createKey(io, db, opts)));

  keys
    .command('list')
    .description('list keys (names and roles; never the keys)')
    .option('--json', 'print JSON')
    .actionWithExitCode((opts: { json?: boolean }) => withCliContext(io, withDb, async ({ db }) =>
      (await actions()).listKeys(io, db, opts)));

  keys
    .command('revoke')
    .description('revoke a key by name')
    .argument('<name>')
    .actionWithExitCode((name: string) => withCliContext(io, withDb, async ({ db }) =>
      (await actions()).revokeKey(io, db, name)));
};
