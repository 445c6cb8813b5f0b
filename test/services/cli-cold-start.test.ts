import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.js';

/**
 * `ferry --help` and bad arguments answer at once: they load commander and the checks, never the clients of the outside
 * systems or the job machinery (together about 2 s of CPU; ccxt alone about one). Runs the compiled CLI, as shipped,
 * under a module hook that records every package the process imports.
 */

const CLI = path.join(REPO_ROOT, 'services/producer/dist/cli.js');
const RECORDER = path.join(REPO_ROOT, 'test/support/record-loaded-modules.js');
const HEAVY = ['ccxt', '@aws-sdk/client-s3', 'bullmq', 'ioredis', 'pg', 'dropbox', 'duckdb', 'hyparquet', 'hyparquet-writer', 'prom-client'];

let dir: string;
let runs = 0;

/** Runs the compiled `ferry` with these arguments; returns its exit code and the packages it imported. */
async function ferryLoading(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string; packages: string[] }> {
  const file = path.join(dir, `run-${runs++}.txt`);
  const child = spawn(process.execPath, ['--import', RECORDER, CLI, ...args], {
    cwd: dir, // no .env here
    env: { ...process.env, ...env, LOADED_MODULES_FILE: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const urls = (await fs.readFile(file, 'utf8').catch(() => '')).split('\n');
  const packages = new Set(urls.flatMap((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1] ?? []));
  return { code, output, packages: [...packages].sort() };
}

describe('ferry starts without loading what it does not run', () => {
  beforeAll(async () => {
    await fs.access(CLI).catch(() => {
      throw new Error(`${CLI} is missing: run npm run build first`);
    });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-cold-start-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it.each([
    [['--help'], 0],
    [['collect', '--help'], 0],
    [['status', '--help'], 0],
    [['preload', '--help'], 0],
    [['keys', 'create', '--help'], 0],
    [['colect'], 2],
    [['collect', '--days', 'abc'], 2],
    [['collect', '--top', '0', '--mode', 'up'], 2],
    [['status', '123'], 2],
    [['preload', 'TSLA', '--interval', '5m'], 2],
  ])('ferry %j loads none of the clients or the job machinery', async (args, code) => {
    const run = await ferryLoading(args);
    expect(run.code, run.output).toBe(code);
    expect(run.packages).toContain('commander');
    expect(run.packages.filter((p) => HEAVY.includes(p))).toEqual([]);
  });

  it.each([
    [['collect', '--days', 'abc']],
    [['collect', '--source', 'nowhere', '--include-delisted']],
  ])('ferry %j checks --source and --include-delisted without loading the archive\'s reader and stores', async (args) => {
    // They need a few constants and one pure check (archive/sources); the archive's folder brings its zip reader
    // (yauzl), its PostgreSQL COPY (pg-copy-streams) and its download pool (p-limit).
    const run = await ferryLoading(args);
    expect(run.code, run.output).toBe(2);
    expect(run.packages.filter((p) => ['yauzl', 'pg-copy-streams', 'p-limit', ...HEAVY].includes(p))).toEqual([]);
  });

  it('a command loads the clients it opens (the recorder sees them)', async () => {
    const run = await ferryLoading(['keys', 'list'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:9/ferry' });
    expect(run.output).toContain('cannot reach PostgreSQL (DATABASE_URL)');
    expect(run.code).toBe(1);
    expect(run.packages).toContain('pg');
    expect(run.packages.filter((p) => ['ccxt', '@aws-sdk/client-s3', 'bullmq', 'ioredis', 'dropbox'].includes(p))).toEqual([]);
  });
});
