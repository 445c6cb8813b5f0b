export * from './run-id.js';
export * from './run-store.js';
