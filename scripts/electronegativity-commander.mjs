// Preloaded (--import) into the Electronegativity process by scripts/electronegativity.mjs.
// Electronegativity 1.10 requires 'commander' without declaring it (it ran on the commander 5
// that @electron/asar brings); in this tree the top-level commander is Pollard's own 14, whose
// API it cannot use. Inside Electronegativity (CommonJS), 'commander' resolves to @electron/asar's copy.
import Module, { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const electronegativity = `${path.sep}@doyensec${path.sep}electronegativity${path.sep}`;
const asar = path.dirname(require.resolve('@electron/asar/package.json'));
const commander = require.resolve('commander', { paths: [asar] });
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === 'commander' && parent?.filename?.includes(electronegativity)) return commander;
  return resolve.call(this, request, parent, ...rest);
};
