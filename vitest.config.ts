import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['ferry-source'] },
  ssr: { resolve: { conditions: ['ferry-source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/chaos/**', 'test/soak/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start servers and workers; two cores do not gain from more forks.
    pool: 'forks',
    maxWorkers: 2,
    fileParallelism: true,
  },
});
