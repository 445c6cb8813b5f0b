import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Node arguments that run a TypeScript entry point from source, resolving @ferry/* to their src/. */
export const TS_NODE_ARGS = ['--conditions=ferry-source', '--import', 'tsx'];

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts one of ferry's services (or any .ts entry under the repo) as a real process. */
export function spawnTs(entry: string, args: readonly string[], env: NodeJS.ProcessEnv): ServiceProcess {
  return spawnNode([...TS_NODE_ARGS, path.join(REPO_ROOT, entry), ...args], env);
}

/** Runs this Node.js with these arguments from the repository's root, capturing its output. */
export function spawnNode(args: readonly string[], env: NodeJS.ProcessEnv): ServiceProcess {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { child, output: () => out, exited, kill: (signal = 'SIGTERM') => void child.kill(signal) };
}

export function spawnService(service: 'download-worker' | 'sync-worker' | 'dashboard', env: NodeJS.ProcessEnv): ServiceProcess {
  return spawnTs(`services/${service}/src/main.ts`, [], env);
}

/** Runs the `ferry` CLI from source to completion. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | string; output: string }> {
  const p = spawnTs('services/producer/src/cli.ts', args, env);
  const code = await p.exited;
  return { code, output: p.output() };
}
