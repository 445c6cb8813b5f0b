import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, VARIABLES } from './index.js';

describe('loadConfig', () => {
  it('applies the documented defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.download.concurrency).toBe(20);
    expect(config.jobs.attempts).toBe(3);
    expect(config.exchange.id).toBe('binance');
    expect(config.exchange.baseUrl).toBeUndefined();
    expect(config.sync.target).toBe('local');
  });

  it('names every bad variable and what was expected, in one error', () => {
    let error: unknown;
    try {
      loadConfig({ REDIS_URL: 'http://nope', DOWNLOAD_CONCURRENCY: 'many', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('REDIS_URL="http://nope" is invalid: expected a redis:// or rediss:// URL');
    expect(message).toContain('DOWNLOAD_CONCURRENCY="many" is invalid: expected an integer from 1 to 500');
    expect(message).toContain('LOG_LEVEL="loud" is invalid');
    expect((error as ConfigError).problems).toHaveLength(3);
  });

  it('never prints the value of a secret variable', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x' })).toThrowError(
      /DATABASE_URL \(value hidden\) is invalid: expected a postgres:\/\/ URL/,
    );
    try {
      loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x' });
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('never prints a password or query value of a bad URL setting, only the URL with them replaced', () => {
    const urlVariables = Object.entries(VARIABLES).filter(([, spec]) => 'url' in spec && spec.url).map(([name]) => name);
    expect(urlVariables).toEqual(['REDIS_URL', 'DATABASE_URL', 'EXCHANGE_URL', 'ARCHIVE_URL', 'S3_ENDPOINT', 'DROPBOX_API_URL', 'DROPBOX_CONTENT_URL']);
    // A port of 99999 makes every one of them invalid, and unparseable as a URL: the case where the value is printed.
    const env = Object.fromEntries(urlVariables.map((name) => [name, `redis://:Pw-${name}@127.0.0.1:99999/?token=Tk-${name}`]));
    let message = '';
    try {
      loadConfig(env);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of urlVariables) {
      expect(message).toContain(name);
      expect(message).not.toContain(`Pw-${name}`);
      expect(message).not.toContain(`Tk-${name}`);
    }
    expect(message).toContain('REDIS_URL="redis://:***@127.0.0.1:99999/?token=***" is invalid: expected a redis:// or rediss:// URL');
  });

  it('marks every URL-valued setting as a URL, so none is printed with its credentials', () => {
    for (const [name, spec] of Object.entries(VARIABLES)) {
      if (/\bURL\b/.test(spec.expected)) expect({ name, url: 'url' in spec && spec.url }).toEqual({ name, url: true });
    }
  });

  it('never prints the value of a bad secret setting', () => {
    expect(() => loadConfig({ SESSION_SECRET: 'too-short-Secret99' })).toThrowError(/SESSION_SECRET \(value hidden\) is invalid/);
    expect(() => loadConfig({ SESSION_SECRET: 'too-short-Secret99' })).not.toThrowError(/Secret99/);
  });

  it('keeps secrets out of JSON and inspection', () => {
    const config = loadConfig({ S3_SECRET_ACCESS_KEY: 's3cr3t', DROPBOX_ACCESS_TOKEN: 'tok-123' });
    const text = JSON.stringify(config);
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('tok-123');
    expect(config.s3.secretAccessKey?.reveal()).toBe('s3cr3t');
    expect(config.sync.target).toBe('dropbox');
  });

  it('requires an app key with a Dropbox refresh token', () => {
    expect(() => loadConfig({ DROPBOX_REFRESH_TOKEN: 'r' })).toThrowError(/DROPBOX_APP_KEY is required/);
  });

  it('reads an optional .env file, with the environment taking precedence', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-env-'));
    const file = path.join(dir, '.env');
    fs.writeFileSync(file, 'DOWNLOAD_CONCURRENCY=7\nJOB_ATTEMPTS=9\n');
    const config = loadConfig({ JOB_ATTEMPTS: '4' }, { envFile: file });
    expect(config.download.concurrency).toBe(7);
    expect(config.jobs.attempts).toBe(4);
    expect(loadConfig({}, { envFile: path.join(dir, 'missing.env') }).download.concurrency).toBe(20);
    fs.rmSync(dir, { recursive: true });
  });
});
