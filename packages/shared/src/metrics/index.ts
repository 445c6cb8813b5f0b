export * from './ferry-metrics.js';
export * from './metrics-server.js';
export * from './queue-metrics.js';
