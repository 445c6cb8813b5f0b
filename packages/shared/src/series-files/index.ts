export * from './file-name.js';
export * from './file-periods.js';
export * from './parse-file-name.js';
export * from './renders.js';
export * from './render-series-file.js';
export * from './render-missing-file.js';
