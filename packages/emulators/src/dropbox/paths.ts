/**
 * Dropbox paths: absolute, `/`-separated, case-insensitive (`path_lower` is the key, `path_display` keeps the case
 * given when the item was created). Arguments are first checked against the API's patterns (a mismatch is a 400),
 * then for shape (a trailing slash or an empty component is a 409 `malformed_path`).
 */

/** The patterns of the API spec's path aliases, quoted verbatim in Dropbox's 400 messages. */
export const PathPattern = {
  writePathOrId: '(/(.|[\\r\\n])*)|(ns:[0-9]+(/.*)?)|(id:.*)',
  readPath: '(/(.|[\\r\\n])*|id:.*)|(rev:[0-9a-f]{9,})|(ns:[0-9]+(/.*)?)',
  pathROrId: '(/(.|[\\r\\n])*)?|id:.*|(ns:[0-9]+(/.*)?)',
} as const;
export type PathPattern = (typeof PathPattern)[keyof typeof PathPattern];

export function matchesPattern(value: string, pattern: PathPattern): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value);
}

export type ParsedPath =
  | { kind: 'root' }
  | { kind: 'path'; lower: string; display: string; names: string[] }
  | { kind: 'id'; id: string }
  /** `ns:` and `rev:` references: valid syntax the emulator does not resolve. */
  | { kind: 'unsupported' }
  | { kind: 'malformed' };

export function parsePath(value: string): ParsedPath {
  if (value === '') return { kind: 'root' };
  if (value.startsWith('id:')) return { kind: 'id', id: value };
  if (!value.startsWith('/')) return { kind: 'unsupported' };
  if (value === '/') return { kind: 'root' };
  const names = value.slice(1).split('/');
  if (names.some((name) => name === '' || name === '.' || name === '..')) return { kind: 'malformed' };
  return { kind: 'path', lower: lowerPath(value), display: value, names };
}

export function lowerPath(path: string): string {
  return path.toLowerCase();
}

export function parentOf(lower: string): string {
  return lower.slice(0, lower.lastIndexOf('/'));
}

/** `/a/b/c` -> [`/a`, `/a/b`]. */
export function ancestorsOf(lower: string): string[] {
  const out: string[] = [];
  for (let i = lower.indexOf('/', 1); i !== -1; i = lower.indexOf('/', i + 1)) out.push(lower.slice(0, i));
  return out;
}

/** Whether `lower` lies inside the folder `folderLower` (`''` is the root). */
export function isInside(lower: string, folderLower: string): boolean {
  return lower.startsWith(`${folderLower}/`);
}
