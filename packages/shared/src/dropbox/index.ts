export * from './classify-dropbox-error.js';
export * from './dropbox-client.js';
export * from './dropbox-target.js';
