import { defineConfig } from 'vitest/config';

// `npm run test:chaos`: the chaos suite alone, one scenario at a time (it starts its own Redis, PostgreSQL and workers).
export default defineConfig({
  resolve: { conditions: ['ferry-source'] },
  ssr: { resolve: { conditions: ['ferry-source'] } },
  test: {
    include: ['test/chaos/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
