import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { REPO_ROOT, TS_NODE_ARGS } from '../test/support/processes.js';

/**
 * Several ferry worker processes on one host, sharing one Redis and one PostgreSQL: what `npm run scale` starts and
 * what the scale benchmark measures. Each process is the service's own entry point, exactly as one container of
 * `docker compose up --scale download-worker=N` runs it; nothing here coordinates them (the queues, the shared weight
 * budget and the migration lock do). Nothing is restarted: a process that dies stays dead and is reported.
 */

export const SCALABLE_SERVICES = ['download-worker', 'sync-worker', 'dashboard'] as const;
export type ScalableService = (typeof SCALABLE_SERVICES)[number];

export interface FleetPlan {
  /** Processes per service; 0 starts none. */
  counts: Record<ScalableService, number>;
  /**
   * `source` runs `services/<name>/src/main.ts` through tsx (what the tests do, always current); `built` runs the
   * compiled `services/<name>/dist/main.js` that the image runs (`npm run build` first).
   */
  entry: 'source' | 'built';
}

export interface WorkerProcess {
  /** `download-worker-1`, `sync-worker-2`, `dashboard`: the prefix of its log lines. */
  name: string;
  service: ScalableService;
  pid: number;
  child: ChildProcess;
  /** Resolves with the exit code, or the signal's name when it was killed by one. */
  exited: Promise<number | string>;
}

export interface FleetOptions {
  /** Added to this process's environment for every child (REDIS_URL, DATABASE_URL, QUEUE_PREFIX, ...). */
  env?: NodeJS.ProcessEnv;
  /**
   * METRICS_PORT of the first process; the others get the following ports, so N workers on one host can each serve
   * /metrics. 0 or unset leaves METRICS_PORT as the environment has it.
   */
  metricsBasePort?: number;
  /** Node.js options for every child, before the entry point (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: readonly string[];
  /** Every line a child prints. Default: written to this process's stdout/stderr behind the child's name. */
  onLine?: (process: WorkerProcess, line: string, stream: 'stdout' | 'stderr') => void;
}

export interface WorkerFleet {
  processes: WorkerProcess[];
  /** Sends a signal to every child still running. */
  signal(signal: NodeJS.Signals): void;
  /** The children still running. */
  running(): WorkerProcess[];
  /** Resolves when every child has exited, with each one's exit. */
  exited: Promise<Array<{ name: string; code: number | string }>>;
}

export function entryPoint(service: ScalableService, entry: FleetPlan['entry']): string {
  return entry === 'built'
    ? path.join(REPO_ROOT, 'services', service, 'dist', 'main.js')
    : path.join(REPO_ROOT, 'services', service, 'src', 'main.ts');
}

/** The children's names in start order: download workers, then sync workers, then the dashboard. */
export function processNames(counts: FleetPlan['counts']): Array<{ name: string; service: ScalableService }> {
  return SCALABLE_SERVICES.flatMap((service) =>
    Array.from({ length: counts[service] }, (_, i) => ({
      service,
      // One dashboard needs no number; several of anything do.
      name: counts[service] === 1 && service === 'dashboard' ? service : `${service}-${i + 1}`,
    })));
}

export function startWorkerProcesses(plan: FleetPlan, options: FleetOptions = {}): WorkerFleet {
  const missing = SCALABLE_SERVICES.filter((s) => plan.counts[s] > 0 && !fs.existsSync(entryPoint(s, plan.entry)));
  if (missing.length > 0) {
    throw new Error(`${missing.map((s) => entryPoint(s, plan.entry)).join(', ')} not found` +
      (plan.entry === 'built' ? ': run `npm run build` first, or run from source' : ''));
  }
  const names = processNames(plan.counts);
  const width = Math.max(...names.map((n) => n.name.length));
  const onLine = options.onLine ?? prefixedLineWriter(width);
  const processes = names.map(({ name, service }, index) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
    if (options.metricsBasePort) env.METRICS_PORT = String(options.metricsBasePort + index);
    const entry = entryPoint(service, plan.entry);
    const args = [...(options.nodeArgs ?? []), ...(plan.entry === 'built' ? [] : TS_NODE_ARGS), entry];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own: Ctrl+C in a terminal reaches only the parent, which forwards one signal. In the
      // parent's group each child would get the terminal's SIGINT and then the forwarded one, and a ferry service
      // takes a second signal as "exit now, skip the drain".
      detached: true,
    });
    // 'close', not 'exit': by then its output is read to the end, so its last lines are printed before its exit.
    const exited = new Promise<number | string>((resolve) =>
      child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    const worker: WorkerProcess = { name, service, pid: child.pid ?? -1, child, exited };
    for (const stream of ['stdout', 'stderr'] as const) {
      readline.createInterface({ input: child[stream]!, crlfDelay: Infinity }).on('line', (line) => onLine(worker, line, stream));
    }
    return worker;
  });
  const running = () => processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  return {
    processes,
    running,
    signal: (signal) => {
      for (const p of running()) p.child.kill(signal);
    },
    exited: Promise.all(processes.map(async (p) => ({ name: p.name, code: await p.exited }))),
  };
}

const COLOURS = [36, 33, 35, 32, 34, 91, 96, 93];

/** `download-worker-2 | {"level":30,...}`: each child's lines behind its name, coloured per child in a terminal. */
export function prefixedLineWriter(width: number): NonNullable<FleetOptions['onLine']> {
  const colourOf = new Map<string, number>();
  return (worker, line, stream) => {
    const out = stream === 'stdout' ? process.stdout : process.stderr;
    let label = worker.name.padEnd(width);
    if (out.isTTY) {
      if (!colourOf.has(worker.name)) colourOf.set(worker.name, COLOURS[colourOf.size % COLOURS.length]!);
      label = `\x1b[${colourOf.get(worker.name)}m${label}\x1b[0m`;
    }
    out.write(`${label} | ${line}\n`);
  };
}
