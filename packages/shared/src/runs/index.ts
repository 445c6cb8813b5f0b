export * from './run-id.js';
export * from './run-store.js';
export * from './run-ranking.js';
export * from './item-outcome-recorder.js';
