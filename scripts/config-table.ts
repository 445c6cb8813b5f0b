import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { VARIABLES, type VariableSpec } from '@ferry/shared/core';

/**
 * Prints the README's configuration table from the one table of variables, so the README cannot drift from the code
 * (test/deploy/env-example.test.ts compares them). Paste the output between the README's config-table markers:
 *   npx tsx --conditions=ferry-source scripts/config-table.ts
 */

/** A pipe would end a markdown table cell early. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function defaultCell(spec: VariableSpec): string {
  return spec.default === undefined ? '(unset)' : `\`${cell(spec.default)}\``;
}

export function configTable(variables: Record<string, VariableSpec> = VARIABLES): string {
  const rows = Object.entries(variables).map(([name, spec]) => {
    const doc = spec.secret ? `${spec.doc} **Secret.**` : spec.doc;
    return `| \`${name}\` | ${defaultCell(spec)} | ${cell(doc)} |`;
  });
  return ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Replaces the table between the README's markers (`npm run docs:config`). */
export function withConfigTable(readme: string, table: string = configTable()): string {
  const start = '<!-- config-table:start -->';
  const end = '<!-- config-table:end -->';
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) throw new Error('README.md has no config-table markers');
  return `${readme.slice(0, from + start.length)}\n${table}\n${readme.slice(to)}`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--write')) {
    const file = new URL('../README.md', import.meta.url);
    fs.writeFileSync(file, withConfigTable(fs.readFileSync(file, 'utf8')));
  } else {
    console.log(configTable());
  }
}
