export * from './archive-client.js';
export * from './archive-file-store.js';
export * from './handler.js';
export * from './ingest-archive-file.js';
export * from './layout.js';
export * from './plan.js';
export * from './queue-archive-files.js';
export * from './read-archive-zip.js';
