import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, redactText } from '@ferry/shared/core';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';
import { REPO_ROOT, TS_NODE_ARGS } from '../support/processes.js';

/**
 * Redaction runs on every logged string and, at debug level, on every request URL before authentication: whatever an
 * attacker puts in a URL must cost time linear in its length, and any spelling of a credential must be hidden.
 */

/** Runs redactText over `text` in a child process; resolves with its exit code, or 'killed' past the deadline. */
function redactInChild(expression: string, deadlineMs: number): Promise<number | string> {
  const logger = path.join(REPO_ROOT, 'packages/shared/src/core/logger.ts');
  const script = `import { redactText } from ${JSON.stringify(logger)}; const out = redactText(${expression}); process.exit(out.length > 0 ? 0 : 1);`;
  const child = spawn(process.execPath, [...TS_NODE_ARGS, '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  return new Promise((resolve) => child.once('exit', (code, signal) => {
    clearTimeout(timer);
    resolve(signal ? 'killed' : code ?? 'unknown');
  }));
}

describe('log redaction', () => {
  // 2 MB of the URL that took the dashboard 66 ms at 15.8 KB: a redaction quadratic in its length needs minutes for it,
  // a linear one well under a second, so the generous deadline (process start included) tells them apart on any load.
  it.each([
    ['"/x?q=" + "a.".repeat(1_000_000) + "a://b:"'],
    ['"://a:".repeat(400_000)'],
    ['"a".repeat(2_000_000) + "!"'],
    ['"Bearer ".repeat(300_000)'],
  ])('redacts %s in time linear in its length', async (expression) => {
    expect(await redactInChild(expression, 30_000)).toBe(0);
  }, 40_000);

  it.each([
    ['http://:ProxyPw88@host/x', 'ProxyPw88'],
    ['redis://:SuperRedisPw@127.0.0.1:6379', 'SuperRedisPw'],
    ['https://user:pw%40x@host/path', 'pw%40x'],
    ['/x?api%5Fkey=KEY1&symbol=BTC', 'KEY1'],
    ['/x?%61pi_key=KEY2', 'KEY2'],
    ['/x?API-KEY=KEY3', 'KEY3'],
    ['/x?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=abc', 'AKIA'],
    ['/x?client_secret=s3cr3t', 's3cr3t'],
  ])('hides the credential in %s', (text, secret) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  it('leaves other parameters and user names alone', () => {
    expect(redactText('/x?symbol=BTC&limit=500')).toBe('/x?symbol=BTC&limit=500');
    expect(redactText('http://me:pw@host/x?symbol=BTC')).toBe('http://me:[redacted]@host/x?symbol=BTC');
  });
});

describe('dashboard request log', () => {
  let dash: DashboardHarness<'viewer'>;
  const lines: string[] = [];

  beforeAll(async () => {
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    dash = await startDashboard({ label: 'logred', keys: ['viewer'], logger: createLogger({ name: 'test', level: 'debug', format: 'json', destination }) });
  });
  afterAll(() => dash.close());

  // The percent-encoded name is the same parameter to the server (URLSearchParams decodes it), so it is accepted as
  // a key, and it is redacted like the plain one.
  it('accepts ?api%5Fkey= as ?api_key= and never logs its value', async () => {
    const res = await fetch(`${dash.base}/admin/queues/api/queues?api%5Fkey=${encodeURIComponent(dash.keys.viewer)}`);
    expect(res.status).toBe(200);
    const logged = lines.join('');
    expect(logged).toContain('api%5Fkey=[redacted]');
    expect(logged).not.toContain(dash.keys.viewer);
  });
});
