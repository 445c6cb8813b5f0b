#!/usr/bin/env node
import { main } from './program.js';

// The AWS SDK announces, on every run, that its 2027 releases will need Node 22. A CLI's output is for its user;
// other warnings are still printed.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'NodeVersionSupportWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

process.exitCode = await main(process.argv.slice(2));
