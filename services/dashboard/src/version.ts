import { readFileSync } from 'node:fs';

/** ferry's version from the root package.json (src/ and dist/ are both three levels below it). */
export function readFerryVersion(): string {
  const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(text);
  return parsed && typeof parsed === 'object' && 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : 'unknown';
}
