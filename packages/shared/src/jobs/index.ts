export * from './failures.js';
export * from './names.js';
export * from './payloads.js';
export * from './producer.js';
export * from './runtime.js';
export * from './service-context.js';
export * from './worker-options.js';
export * from './workers.js';
