export * from './file-name.js';
export * from './parse-file-name.js';
export * from './render-missing-file.js';
