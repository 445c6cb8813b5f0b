export * from './classify-s3-error.js';
export * from './s3-client.js';
