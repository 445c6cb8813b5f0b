import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * Private Redis and PostgreSQL instances in a temp dir on free ports: for the offline demo when none answers, and
 * for tests that kill or restart them. PostgreSQL refuses to run as root, so as root it runs as `postgres`.
 */
const run = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function portAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portAnswers(port))) {
    if (Date.now() > deadline) throw new Error(`${what} did not start listening on ${port}`);
    await sleep(100);
  }
}

export function findBinary(name: string, dirs: readonly string[] = []): string | undefined {
  const candidates = [...dirs, ...(process.env.PATH ?? '').split(':')];
  for (const dir of candidates) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

export function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)).map((v) => path.join(root, v, 'bin'));
}

export interface PrivateRedis {
  url: string;
  port: number;
  dir: string;
  /** Kills the server (SIGKILL when `hard`), keeping its data dir. */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and data dir (with AOF, what was written survives). */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivateRedis(options: { appendOnly?: boolean } = {}): Promise<PrivateRedis> {
  const binary = findBinary('redis-server');
  if (!binary) throw new Error('redis-server is not installed (Debian: apt-get install redis-server)');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(binary, [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', options.appendOnly === false ? 'no' : 'yes', '--appendfsync', 'everysec',
      '--maxmemory-policy', 'noeviction',
    ], { stdio: 'ignore' });
    await waitForPort(port, 'redis-server');
  };
  const stop = async (hard = false) => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    start,
    async destroy() {
      await stop(true);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivatePostgres {
  /** URL of the `postgres` database on the private server. */
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dirs = postgresBinDirs();
  const initdb = findBinary('initdb', dirs);
  const pgCtl = findBinary('pg_ctl', dirs);
  if (!initdb || !pgCtl) throw new Error('PostgreSQL server binaries are not installed (Debian: apt-get install postgresql)');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  // As root, run the server as `postgres`, which must own the directory.
  const as = async (file: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
  if (asRoot) await run('chown', ['-R', 'postgres', dir]);
  await as(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const start = async () => {
    await as(pgCtl, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  };
  const stop = async () => {
    await as(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    stop,
    start,
    async destroy() {
      await as(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
