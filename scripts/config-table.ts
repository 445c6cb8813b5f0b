import { pathToFileURL } from 'node:url';
import { VARIABLES, type VariableSpec } from '@ferry/shared';

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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(configTable());
}
