import { defineConfig } from 'vitest/config';

// `npm run test:soak`: the 30-day soak alone (it starts its own Redis, PostgreSQL, emulators and worker processes).
export default defineConfig({
  resolve: { conditions: ['ferry-source'] },
  ssr: { resolve: { conditions: ['ferry-source'] } },
  test: {
    include: ['test/soak/**/*.test.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
