// `node --import ./test/support/record-loaded-modules.js ...`: appends the URL of every module the process resolves
// through `import` (packages' entry points included) to the file named by LOADED_MODULES_FILE, one a line.
import { register } from 'node:module';

register('./loaded-modules-hooks.js', import.meta.url, { data: { file: process.env.LOADED_MODULES_FILE } });
