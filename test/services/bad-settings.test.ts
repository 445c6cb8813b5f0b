import { describe, expect, it } from 'vitest';
import { spawnService } from '../support/processes.js';

/** Every service validates its whole configuration at start and stops at once, naming the variable. */
describe.each(['download-worker', 'sync-worker', 'dashboard'] as const)('%s with a bad setting', (service) => {
  it('exits with status 2 and names the variable and what was expected', async () => {
    const p = spawnService(service, {
      REDIS_URL: 'http://not-redis', DOWNLOAD_CONCURRENCY: 'lots', EXCHANGE_URL: 'http://:ProxyPw88@proxy:99999',
    });
    const code = await p.exited;
    expect(code).toBe(2);
    expect(p.output()).toContain('REDIS_URL="http://not-redis" is invalid: expected a redis:// or rediss:// URL');
    expect(p.output()).toContain('DOWNLOAD_CONCURRENCY="lots" is invalid: expected an integer from 1 to 500');
    expect(p.output()).toContain('EXCHANGE_URL="http://:***@proxy:99999" is invalid: expected an http(s) URL');
    expect(p.output()).not.toContain('ProxyPw88');
  });
});
