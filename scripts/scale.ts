/**
 * `npm run scale -- --download 4 --sync 2 [--dashboard] [--built]`: N download workers and M sync workers (and a
 * dashboard) as separate processes against the one Redis and PostgreSQL that REDIS_URL / DATABASE_URL (or .env)
 * name. Each child's log lines are printed behind its name. Nothing is restarted. SIGINT/SIGTERM is passed on to every
 * child, which drains its active jobs (SHUTDOWN_GRACE_MS); a second one, a moment later, makes them exit at once.
 * Exit code: 0 when every child exited cleanly, 1 when one failed or died, 2 for bad arguments.
 */
import { parseArgs } from 'node:util';
import type { Secret } from '@ferry/shared/core';
import { startWorkerProcesses, type FleetPlan } from './worker-processes.js';

/** More than this on one host is a typo, not a plan: each process is a Node.js runtime of its own. */
const MAX_PER_SERVICE = 64;
/** Signals this close to the first are the same Ctrl+C delivered twice (terminal and npm), not a request to hurry. */
const DUPLICATE_SIGNAL_MS = 1_000;

const USAGE = `usage: npm run scale -- --download N --sync M [--dashboard] [--built]
  --download N   download-worker processes (default 0)
  --sync M       sync-worker processes (default 0)
  --dashboard    also start one dashboard
  --built        run services/*/dist/main.js (npm run build first) instead of the TypeScript sources
At least one worker. Redis and PostgreSQL come from REDIS_URL and DATABASE_URL (or .env), as for every ferry process.`;

class ScaleArgsError extends Error {}

/** `--download -1` would read as a missing value and an unknown option `-1`: join a negative number to its flag. */
function joinNegativeCounts(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (const arg of argv) {
    const previous = args.at(-1);
    if (/^-\d/.test(arg) && (previous === '--download' || previous === '--sync')) args[args.length - 1] = `${previous}=${arg}`;
    else args.push(arg);
  }
  return args;
}

function parseScaleArgs(argv: readonly string[]): FleetPlan {
  let values: { download?: string; sync?: string; dashboard?: boolean; built?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: joinNegativeCounts(argv),
      options: {
        download: { type: 'string' },
        sync: { type: 'string' },
        dashboard: { type: 'boolean' },
        built: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ScaleArgsError((err as Error).message);
  }
  if (values.help) throw new ScaleArgsError('');
  const count = (flag: string, text: string | undefined): number => {
    if (text === undefined) return 0;
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(n <= MAX_PER_SERVICE)) {
      throw new ScaleArgsError(`--${flag}: expected a whole number from 0 to ${MAX_PER_SERVICE}, got ${JSON.stringify(text)}`);
    }
    return n;
  };
  const download = count('download', values.download);
  const sync = count('sync', values.sync);
  if (download + sync === 0) throw new ScaleArgsError('nothing to start: --download and --sync are both 0 (at least one worker)');
  return {
    counts: { 'download-worker': download, 'sync-worker': sync, dashboard: values.dashboard ? 1 : 0 },
    entry: values.built ? 'built' : 'source',
  };
}

function say(text: string): void {
  process.stderr.write(`scale: ${text}\n`);
}

async function assertServicesReachable(redisUrl: string, databaseUrl: Secret): Promise<void> {
  const { assertDatabaseReachable, createPool } = await import('@ferry/shared/postgres');
  const { assertRedisReachable, createRedis } = await import('@ferry/shared/redis');
  const redis = createRedis(redisUrl, 'cli');
  redis.on('error', () => undefined);
  try {
    await assertRedisReachable(redis, redisUrl);
  } finally {
    redis.disconnect();
  }
  const pool = createPool({ url: databaseUrl, poolSize: 1, applicationName: 'ferry-scale' });
  try {
    await assertDatabaseReachable(pool);
  } finally {
    await pool.end();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let plan: FleetPlan;
  try {
    plan = parseScaleArgs(argv);
  } catch (err) {
    if (!(err instanceof ScaleArgsError)) throw err;
    if (err.message) say(err.message);
    process.stderr.write(`${USAGE}\n`);
    return err.message ? 2 : 0;
  }
  // Loaded only now, so that a bad argument is answered at once.
  const { errorMessage } = await import('@ferry/shared/core');
  const { loadConfigOrExit } = await import('@ferry/shared/jobs');
  // The children read the same settings; checking them here reports a bad one once rather than once per child.
  const config = loadConfigOrExit('scale');
  try {
    await assertServicesReachable(config.redis.url, config.database.url);
  } catch (err) {
    say(errorMessage(err));
    return 1;
  }
  const env: NodeJS.ProcessEnv = {};
  // Piped output is not a terminal, so the children would log JSON; keep the format a terminal user would get.
  if (config.log.format === 'auto' && process.stdout.isTTY) env.LOG_FORMAT = 'pretty';
  const fleet = startWorkerProcesses(plan, { env, metricsBasePort: config.metricsPort });
  const summary = Object.entries(plan.counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(', ');
  say(`started ${summary} (${plan.entry}) against the Redis and PostgreSQL in REDIS_URL / DATABASE_URL` +
    (config.metricsPort ? `; /metrics on ports ${config.metricsPort}-${config.metricsPort + fleet.processes.length - 1}` : ''));

  let stopRequestedAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (stopRequestedAt === undefined) {
      stopRequestedAt = now;
      say(`${signal}: stopping ${fleet.running().length} process(es); they finish their active jobs (again to force)`);
      fleet.signal(signal);
    } else if (now - stopRequestedAt > DUPLICATE_SIGNAL_MS) {
      say(`${signal} again: forcing ${fleet.running().length} process(es) to exit`);
      fleet.signal(signal);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Children have process groups of their own, so they would outlive a crash of this process: stop them on any exit.
  process.on('exit', () => fleet.signal('SIGTERM'));

  for (const p of fleet.processes) {
    void p.exited.then((code) => {
      if (stopRequestedAt !== undefined) return;
      say(`${p.name} (pid ${p.pid}) exited with ${code}; not restarting it, ${fleet.running().length} still running`);
    });
  }
  const exits = await fleet.exited;
  const failed = exits.filter((e) => e.code !== 0);
  if (failed.length > 0) say(`exited uncleanly: ${failed.map((e) => `${e.name} (${e.code})`).join(', ')}`);
  else say('every process exited cleanly');
  // A child that exits on its own, unasked, is a failure even with code 0: workers are meant to run until stopped.
  return failed.length > 0 || stopRequestedAt === undefined ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
