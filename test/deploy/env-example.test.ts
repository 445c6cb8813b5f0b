import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig, VARIABLES, type VariableSpec } from '@ferry/shared/core';
import { configTable } from '../../scripts/config-table.js';

/**
 * `.env.example` and the README's configuration table document packages/shared/src/config/variables.ts; these tests
 * make adding, renaming or re-defaulting a variable without documenting it fail.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const ENV_EXAMPLE = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const SPECS: Record<string, VariableSpec> = VARIABLES;
const NAMES = Object.keys(SPECS);

interface ExampleLine {
  name: string;
  /** The line as written: `# NAME=default` or `NAME=value`. */
  text: string;
  /** The comment line right above it, without `# `. */
  commentAbove: string | undefined;
}

/** Variable lines are `NAME=value`, or `# NAME=value` for a default shown commented out. */
function exampleLines(text: string): ExampleLine[] {
  const lines = text.split('\n');
  const found: ExampleLine[] = [];
  lines.forEach((line, i) => {
    const match = /^(?:# )?([A-Z][A-Z0-9_]*)=/.exec(line);
    if (!match) return;
    const above = lines[i - 1];
    found.push({ name: match[1]!, text: line, commentAbove: above?.startsWith('# ') ? above.slice(2) : undefined });
  });
  return found;
}

/** What the example must say for a variable: its default commented out, or an empty value when it has none. */
function expectedLine(name: string): string {
  const spec = SPECS[name]!;
  return spec.default === undefined ? `${name}=` : `# ${name}=${spec.default}`;
}

function between(text: string, start: string, end: string): string | undefined {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to === -1 || to < from) return undefined;
  return text.slice(from + start.length, to).trim();
}

describe('.env.example', () => {
  const lines = exampleLines(ENV_EXAMPLE);
  const listed = lines.map((l) => l.name);

  it('lists every variable ferry reads, each once, and nothing else', () => {
    const missing = NAMES.filter((n) => !listed.includes(n));
    const unknown = listed.filter((n) => !NAMES.includes(n));
    const repeated = listed.filter((n, i) => listed.indexOf(n) !== i);
    expect({ missing, unknown, repeated }).toEqual({ missing: [], unknown: [], repeated: [] });
  });

  it('shows each default commented out, exactly as VARIABLES defines it, and leaves the others empty', () => {
    const written = Object.fromEntries(lines.map((l) => [l.name, l.text]));
    const expected = Object.fromEntries(NAMES.map((n) => [n, expectedLine(n)]));
    expect(written).toEqual(expected);
  });

  it('never fills in a secret', () => {
    const filledIn = lines.filter((l) => SPECS[l.name]?.secret === true && /^[A-Z0-9_]+=./.test(l.text));
    expect(filledIn.map((l) => l.name)).toEqual([]);
  });

  it("puts each variable's doc line right above it", () => {
    const docs = Object.fromEntries(lines.map((l) => [l.name, l.commentAbove]));
    expect(docs).toEqual(Object.fromEntries(NAMES.map((n) => [n, SPECS[n]!.doc])));
  });

  it('is a valid configuration when copied to .env unchanged, and the same as no .env at all', () => {
    const env = parseEnv(ENV_EXAMPLE);
    expect(Object.keys(env).sort()).toEqual(NAMES.filter((n) => SPECS[n]!.default === undefined).sort());
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });
});

describe('README configuration table', () => {
  it('is the output of scripts/config-table.ts (regenerate it after changing a variable)', () => {
    const table = between(README, '<!-- config-table:start -->', '<!-- config-table:end -->');
    expect(table).toBe(configTable());
  });

  it('has one row per variable', () => {
    const rows = configTable().split('\n').slice(2);
    expect(rows.map((r) => /^\| `([A-Z0-9_]+)` \|/.exec(r)?.[1])).toEqual(NAMES);
  });
});
