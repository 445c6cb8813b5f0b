export * from './bar-store.js';
export * from './candle-store.js';
export * from './file-sync-store.js';
export * from './migrate.js';
export * from './pool.js';
