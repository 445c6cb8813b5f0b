import fs from 'node:fs';

/**
 * One line of a benchmark's results, as bench/README.md's table shows it. A bench prints its rows when it ends; when
 * run by `npm run bench` (bench/run-all.ts) it also writes them, as JSON, to the file named by BENCH_RESULT_FILE.
 */
export interface BenchRow {
  bench: string;
  /** What was measured and on what workload: `no-op jobs/s, 5,000 jobs, concurrency 20`. */
  measure: string;
  /** ferry's figure, with its unit. */
  result: string;
  /** What it is compared with, with its unit, when there is a comparison. */
  baseline?: string;
  /** result / baseline, oriented so that higher is better. */
  ratio?: number;
  /** `>= 0.8`, `0`: the target, when it sets one. */
  target?: string;
  /** Whether the target was met. */
  met?: boolean;
}

export const RESULT_FILE_VARIABLE = 'BENCH_RESULT_FILE';

const COLUMNS = ['bench', 'measure', 'result', 'baseline', 'ratio', 'target', 'met'] as const;

export function markdownTable(rows: readonly BenchRow[]): string {
  const cell = (row: BenchRow, column: (typeof COLUMNS)[number]): string => {
    const value = row[column];
    if (value === undefined) return '';
    if (column === 'ratio') return (value as number).toFixed(2);
    if (column === 'met') return value ? 'yes' : '**no**';
    return String(value).replace(/\|/g, '\\|');
  };
  const lines = [
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${COLUMNS.map((c) => cell(row, c)).join(' | ')} |`),
  ];
  return lines.join('\n');
}

export function reportRows(rows: readonly BenchRow[]): void {
  console.log(`\n${markdownTable(rows)}\n`);
  const file = process.env[RESULT_FILE_VARIABLE];
  if (file) fs.writeFileSync(file, JSON.stringify(rows));
}

/** 12345.6 -> `12,346`. */
export const count = (n: number): string => Math.round(n).toLocaleString('en-US');

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
