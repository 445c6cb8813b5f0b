export * from './collect-candles.js';
export * from './collect-defaults.js';
export * from './handler.js';
export * from './plan.js';
export * from './queue-collection.js';
export * from './delisted-symbols.js';
export * from './ranking.js';
