import fs from 'node:fs';
import { parseEnv } from 'node:util';
import { redactUrlCredentials } from './redact-url.js';
import { VARIABLES, type ParsedVariables, type VariableName, type VariableSpec } from './variables.js';

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** An optional dotenv file; variables already in the environment win over it. */
  envFile?: string;
}

/** Reads the `.env` file if there is one; a missing file is fine, a malformed one is not. */
function readEnvFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  return parseEnv(text) as Record<string, string>;
}

function describe(name: string, raw: string, spec: VariableSpec): string {
  if (spec.secret) return `${name} (value hidden)`;
  return `${name}=${JSON.stringify(spec.url ? redactUrlCredentials(raw) : raw)}`;
}

/** The environment over the optional `.env` file: what the variables are parsed from. */
export function mergeEnvironment(env: NodeJS.ProcessEnv, options: LoadOptions = {}): Record<string, string | undefined> {
  return { ...(options.envFile ? readEnvFile(options.envFile) : {}), ...env };
}

/** Whether a variable was set, rather than left to its default (unset or empty means the default). */
export function isSet(merged: Record<string, string | undefined>, name: VariableName): boolean {
  const given = merged[name];
  return given !== undefined && given !== '';
}

/**
 * Parses every variable once, collecting every problem, so a misconfigured service stops at start with one message
 * naming each bad variable and what was expected.
 */
export function parseVariables(env: NodeJS.ProcessEnv, options: LoadOptions = {}): ParsedVariables {
  const merged = mergeEnvironment(env, options);
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(VARIABLES)) {
    const given = merged[name];
    const raw = given === undefined || given === '' ? spec.default : given;
    const result = spec.schema.safeParse(raw);
    if (result.success) {
      out[name] = result.data;
    } else if (raw === undefined) {
      problems.push(`${name} is required: expected ${spec.expected}`);
    } else {
      problems.push(`${describe(name, raw, spec)} is invalid: expected ${spec.expected}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ParsedVariables;
}

export const SECRET_VARIABLES: readonly VariableName[] = (Object.keys(VARIABLES) as VariableName[]).filter(
  (name) => 'secret' in VARIABLES[name] && (VARIABLES[name] as { secret?: boolean }).secret === true,
);
