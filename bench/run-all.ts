/**
 * `npm run bench`: every benchmark, one after another, each in a process of its own, in its quick size (a few
 * minutes in all); then one table of every figure, as bench/README.md shows it.
 *
 *   npm run bench                          all, quick
 *   npm run bench -- queue-overhead scale  only these
 *   npm run bench -- --full                each bench's full size (the crypto seeds alone take 8-12 minutes)
 *
 * Needs Redis and PostgreSQL as the tests do (TEST_REDIS_URL, TEST_DATABASE_URL). The machine is usually shared, so
 * each bench compares ferry with a baseline measured in the same run; read the ratios rather than the absolute
 * figures. Exit code 1 when a bench failed to run (a missed target is reported, not an error).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, TS_NODE_ARGS } from '../test/support/processes.js';
import { markdownTable, RESULT_FILE_VARIABLE, type BenchRow } from './common/report.js';

interface Bench {
  name: string;
  quick: string[];
  full: string[];
}

const BENCHES: readonly Bench[] = [
  { name: 'queue-overhead', quick: ['--quick'], full: [] },
  { name: 'pg-ingest', quick: ['--quick'], full: [] },
  { name: 'crypto-backfill', quick: ['rate-bound', '--quick'], full: ['all'] },
  { name: 'archive-backfill', quick: ['--quick'], full: ['--full'] },
  { name: 's3-preload', quick: ['--quick'], full: [] },
  { name: 'dropbox-sync', quick: ['--quick'], full: [] },
  { name: 'scale', quick: ['--quick'], full: [] },
  { name: 'dashboard-flood', quick: ['--quick'], full: [] },
  { name: 'worker-memory', quick: ['--quick'], full: [] },
];

const { values, positionals } = parseArgs({ options: { full: { type: 'boolean', default: false } }, allowPositionals: true });
const unknown = positionals.filter((p) => !BENCHES.some((b) => b.name === p));
if (unknown.length > 0) {
  console.error(`unknown bench ${unknown.join(', ')}; expected some of ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = BENCHES.filter((b) => positionals.length === 0 || positionals.includes(b.name));

function runBench(bench: Bench, resultFile: string): Promise<number | string> {
  const args = values.full ? bench.full : bench.quick;
  console.log(`\n=== ${bench.name} ${args.join(' ')}`);
  const child = spawn(process.execPath, [...TS_NODE_ARGS, path.join(REPO_ROOT, 'bench', bench.name, 'run.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, [RESULT_FILE_VARIABLE]: resultFile },
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
}

const started = new Date();
const loadBefore = os.loadavg();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-'));
const rows: BenchRow[] = [];
const failed: string[] = [];
try {
  for (const bench of selected) {
    const resultFile = path.join(dir, `${bench.name}.json`);
    const benchStarted = performance.now();
    const code = await runBench(bench, resultFile);
    console.log(`=== ${bench.name}: exit ${code} after ${((performance.now() - benchStarted) / 1000).toFixed(0)} s`);
    if (code === 0 && fs.existsSync(resultFile)) {
      rows.push(...(JSON.parse(fs.readFileSync(resultFile, 'utf8')) as BenchRow[]));
    } else {
      failed.push(bench.name);
      rows.push({ bench: bench.name, measure: '(did not finish)', result: `exit ${code}` });
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const minutes = ((Date.now() - started.getTime()) / 60_000).toFixed(1);
const cpu = os.cpus();
console.log(`\n${values.full ? 'full' : 'quick'} run of ${started.toISOString().slice(0, 10)}, ${minutes} min; ` +
  `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node.js ${process.version}; ` +
  `load average ${loadBefore[0]!.toFixed(1)} before, ${os.loadavg()[0]!.toFixed(1)} after\n`);
console.log(markdownTable(rows));
const missed = rows.filter((r) => r.met === false);
if (missed.length > 0) console.log(`\ntarget missed: ${missed.map((r) => `${r.bench} (${r.measure})`).join('; ')}`);
if (failed.length > 0) {
  console.error(`\ndid not finish: ${failed.join(', ')}`);
  process.exitCode = 1;
}
