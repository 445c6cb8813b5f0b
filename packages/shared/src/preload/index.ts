export * from './file-cache.js';
export * from './finish-preload.js';
export * from './handlers.js';
export * from './list-files.js';
export * from './plan.js';
export * from './progress.js';
export * from './queue-preload.js';
export * from './read-flat-file.js';
