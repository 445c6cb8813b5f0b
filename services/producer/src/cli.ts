#!/usr/bin/env node
import { main } from './program.js';

/**
 * The AWS SDK announces, on every run on Node < 22, that its 2027 releases will need Node 22 (README: Node versions).
 * It emits a plain `Warning` whose message starts with the notice's name, so both are checked. A CLI's output is for
 * its user; every other warning is still printed.
 */
const isAwsNodeVersionNotice = (warning: Error) =>
  warning.name === 'NodeVersionSupportWarning' || warning.message.startsWith('NodeVersionSupportWarning');

process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (!isAwsNodeVersionNotice(warning)) process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

process.exitCode = await main(process.argv.slice(2));
