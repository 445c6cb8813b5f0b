#!/usr/bin/env node
// The `ferry` command: runs the compiled CLI (built by `npm ci`/`npm run build`).
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('ferry: not built yet; run `npm run build` in the repository first');
    process.exit(2);
  }
  throw err;
});
