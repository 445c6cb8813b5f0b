import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, VARIABLES, type VariableSpec } from '@ferry/shared/core';

/**
 * docker-compose.yml and the Dockerfile, read as data: the stack they describe must be one ferry can run (known
 * variables with valid values, entry points the image contains, Redis that keeps jobs) without a Docker daemon.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const SPECS: Record<string, VariableSpec> = VARIABLES;
const FERRY_SERVICES = ['dashboard', 'download-worker', 'sync-worker', 'producer'] as const;
const WORKERS = ['download-worker', 'sync-worker'] as const;

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown, where: string): Json {
  if (!isRecord(value)) throw new Error(`${where}: expected a mapping, got ${JSON.stringify(value)}`);
  return value;
}

/** Compose accepts `command: a b c` and `command: [a, b, c]`; this compares the exec (list) form. */
function argv(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new Error(`${where}: expected a string or a list of strings, got ${JSON.stringify(value)}`);
}

// --- docker-compose.yml ---------------------------------------------------------------------------------------------

const compose = record(parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }), 'compose file');
const services = record(compose.services, 'services');

function service(name: string): Json {
  return record(services[name], `service ${name}`);
}

/** Compose's own interpolation of `${NAME}`, `${NAME:-default}`, `${NAME-default}` and `$$`. */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}/g, (whole, name?: string, colon?: string, fallback?: string) => {
    if (whole === '$$') return '$';
    const value = env[name!];
    if (fallback === undefined) return value ?? '';
    const useFallback = colon === ':' ? value === undefined || value === '' : value === undefined;
    return useFallback ? fallback : value!;
  });
}

/** A service's `environment:` (mapping or `KEY=value` list), interpolated as `docker compose up` would with `env`. */
function environmentOf(name: string, env: Record<string, string> = {}): Record<string, string> {
  const raw = service(name).environment;
  const pairs: Array<[string, string]> = Array.isArray(raw)
    ? raw.map((entry) => {
        const text = String(entry);
        const eq = text.indexOf('=');
        return eq === -1 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
      })
    : Object.entries(record(raw ?? {}, `${name}.environment`)).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(pairs.map(([k, v]) => [k, interpolate(v, env)]));
}

/** `40s`, `1m30s`, `1h` in milliseconds. */
function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`not a duration: ${text}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

// --- Dockerfile -----------------------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** Instructions per stage, with line continuations joined, comments dropped and `ARG` defaults substituted in FROM. */
function dockerfileStages(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest };
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name, value] = rest.split('=');
      if (name && value !== undefined) args[name] = value;
    } else if (instruction.keyword === 'FROM') {
      const [, image = '', name = ''] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest) ?? [];
      stages.push({ name, image: image.replace(/\$\{(\w+)\}/g, (_, a: string) => args[a] ?? ''), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

const stages = dockerfileStages(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;

function lastArgs(stage: Stage, keyword: string): string | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
}

function runs(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}

const imageEntrypoint: string[] = JSON.parse(lastArgs(runtime, 'ENTRYPOINT') ?? '[]') as string[];

/** The script a ferry service runs: the first `.js` argument after its entrypoint (the image's unless overridden). */
function scriptOf(name: string): string {
  const s = service(name);
  const command = [...(s.entrypoint === undefined ? imageEntrypoint : argv(s.entrypoint, `${name}.entrypoint`)), ...argv(s.command, `${name}.command`)];
  const script = command.find((arg) => arg.endsWith('.js'));
  if (!script) throw new Error(`${name} runs no .js file: ${JSON.stringify(command)}`);
  return script;
}

// --- the specification ----------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('defines Redis, PostgreSQL and the four ferry services', () => {
    expect(Object.keys(services).sort()).toEqual(['dashboard', 'download-worker', 'postgres', 'producer', 'redis', 'sync-worker']);
  });

  it('runs Redis so that jobs survive: append-only file on, noeviction, data on a volume, health by PING', () => {
    const redis = service('redis');
    const command = argv(redis.command, 'redis.command').join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(argv(record(redis.healthcheck, 'redis.healthcheck').test, 'redis.healthcheck.test').join(' ')).toContain('redis-cli ping');
    expect(redis.volumes).toEqual(['redis-data:/data']);
  });

  it('runs PostgreSQL with a pg_isready healthcheck and its data on a volume', () => {
    const postgres = service('postgres');
    expect(argv(record(postgres.healthcheck, 'postgres.healthcheck').test, 'postgres.healthcheck.test')).toContain('pg_isready');
    expect(postgres.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(Object.keys(record(compose.volumes, 'volumes'))).toEqual(expect.arrayContaining(['redis-data', 'postgres-data']));
  });

  it('starts every ferry service only once Redis and PostgreSQL are healthy', () => {
    for (const name of FERRY_SERVICES) {
      const dependsOn = record(service(name).depends_on, `${name}.depends_on`);
      expect({ name, redis: dependsOn.redis, postgres: dependsOn.postgres }).toEqual({
        name,
        redis: { condition: 'service_healthy' },
        postgres: { condition: 'service_healthy' },
      });
    }
  });

  it('builds every ferry service from this repository into the one image', () => {
    const images = FERRY_SERVICES.map((name) => ({ name, build: service(name).build, image: service(name).image }));
    expect(images).toEqual(FERRY_SERVICES.map((name) => ({ name, build: '.', image: 'ferry:local' })));
  });

  it("runs each ferry service's own entry point, whose TypeScript source exists", () => {
    const scripts = Object.fromEntries(FERRY_SERVICES.map((name) => [name, scriptOf(name)]));
    expect(scripts).toEqual({
      dashboard: 'services/dashboard/dist/main.js',
      'download-worker': 'services/download-worker/dist/main.js',
      'sync-worker': 'services/sync-worker/dist/main.js',
      producer: 'services/producer/dist/cli.js',
    });
    const missingSources = Object.values(scripts)
      .map((script) => script.replace('/dist/', '/src/').replace(/\.js$/, '.ts'))
      .filter((source) => !fs.existsSync(path.join(ROOT, source)));
    expect(missingSources).toEqual([]);
  });

  it('runs entry points that `tsc -b` has built', () => {
    const missing = FERRY_SERVICES.map(scriptOf).filter((script) => !fs.existsSync(path.join(ROOT, script)));
    expect(missing).toEqual([]);
  });

  it('lets download-worker scale: no container_name, no host port', () => {
    const worker = service('download-worker');
    expect({ container_name: worker.container_name, ports: worker.ports }).toEqual({ container_name: undefined, ports: undefined });
  });

  it('sets only variables ferry knows, each to a value its schema accepts', () => {
    for (const name of FERRY_SERVICES) {
      const env = environmentOf(name);
      expect({ name, unknown: Object.keys(env).filter((key) => !(key in SPECS)) }).toEqual({ name, unknown: [] });
      const rejected = Object.entries(env).filter(([key, value]) => {
        // As the loader does: an empty value means unset, i.e. the default.
        const raw = value === '' ? SPECS[key]!.default : value;
        return !SPECS[key]!.schema.safeParse(raw).success;
      });
      expect({ name, rejected }).toEqual({ name, rejected: [] });
      expect(() => loadConfig(env)).not.toThrow();
    }
  });

  it('points every ferry service at the Redis, PostgreSQL and data folder of the stack', () => {
    for (const name of FERRY_SERVICES) {
      const env = environmentOf(name, { POSTGRES_PASSWORD: 'pw' });
      expect({ name, redis: env.REDIS_URL, database: env.DATABASE_URL, dataDir: env.DATA_DIR }).toEqual({
        name,
        redis: 'redis://redis:6379',
        database: 'postgres://postgres:pw@postgres:5432/ferry',
        dataDir: '/data',
      });
    }
    expect(environmentOf('postgres', { POSTGRES_PASSWORD: 'pw' })).toEqual({ POSTGRES_PASSWORD: 'pw', POSTGRES_DB: 'ferry' });
  });

  it('serves the dashboard on all interfaces inside its container, port 3000', () => {
    const env = environmentOf('dashboard');
    expect({ host: env.DASHBOARD_HOST, port: env.DASHBOARD_PORT }).toEqual({ host: '0.0.0.0', port: '3000' });
    expect(service('dashboard').ports).toEqual(['127.0.0.1:3000:3000']);
  });

  it('gives workers more time to stop than their shutdown grace, so active jobs drain before SIGKILL', () => {
    for (const name of WORKERS) {
      const graceMs = Number(environmentOf(name).SHUTDOWN_GRACE_MS ?? SPECS.SHUTDOWN_GRACE_MS!.default);
      const stopMs = durationMs(String(service(name).stop_grace_period ?? '10s'));
      expect({ name, stopsInTime: stopMs > graceMs }).toEqual({ name, stopsInTime: true });
    }
  });

  it('keeps the producer a one-shot tool: under a profile, never restarted', () => {
    const producer = service('producer');
    expect({ profiles: producer.profiles, restart: producer.restart }).toEqual({ profiles: ['tools'], restart: 'no' });
    expect(argv(producer.command, 'producer.command')[0]).toBe('collect');
  });
});

describe('Dockerfile', () => {
  it('builds in a build stage and runs from a slim Node 22 LTS runtime stage', () => {
    expect(stages.map((s) => ({ name: s.name, image: s.image }))).toEqual([
      { name: 'build', image: 'node:22-bookworm-slim' },
      { name: 'runtime', image: 'node:22-bookworm-slim' },
    ]);
    const build = stages[0]!;
    expect(runs(build).some((r) => r.startsWith('npm ci'))).toBe(true);
    expect(runs(build)).toContain('npx tsc -b');
  });

  it("runs the Node line CI also tests on and package.json admits", () => {
    const major = /^node:(\d+)-/.exec(stages[1]!.image)?.[1];
    const ci = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    expect(/^NODE22_VERSION=(\d+)\./m.exec(ci)?.[1]).toBe(major);
    const engines = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toContain(`>=${major}.`);
  });

  it('installs production dependencies only, without running the root prepare (tsc -b)', () => {
    const install = runs(runtime).find((r) => r.startsWith('npm ci'));
    expect(install).toMatch(/^npm ci --omit=dev --ignore-scripts\b/);
    expect(runtime.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ')).toContain('NODE_ENV=production');
  });

  it('runs as an unprivileged user, under an init that forwards signals to node', () => {
    expect(lastArgs(runtime, 'USER')).toBe('node');
    expect(imageEntrypoint).toEqual(['/usr/bin/tini', '--', 'node']);
  });

  it('contains every entry point docker-compose.yml runs, and the migrations', () => {
    const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    const workdir = lastArgs(runtime, 'WORKDIR');
    expect(workdir).toBe('/app');
    for (const name of FERRY_SERVICES) {
      const distDir = path.posix.dirname(scriptOf(name));
      expect(copies).toContain(`--from=build ${workdir}/${distDir} ${distDir}`);
    }
    expect(copies).toContain('--from=build /app/packages/shared/dist packages/shared/dist');
    expect(copies).toContain('packages/shared/migrations packages/shared/migrations');
  });
});

describe('.dockerignore', () => {
  it('keeps host installs, builds and .env out of the image, but not what the build copies', () => {
    const ignored = fs
      .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.env']));
    const copiedFromContext = stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const excluded = copiedFromContext.filter((source) =>
      ignored.some((pattern) => pattern === source || pattern === `${source.split('/')[0]}/`),
    );
    expect(excluded).toEqual([]);
  });
});
