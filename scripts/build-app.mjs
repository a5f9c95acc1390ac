// Bundles the Electron main process, the preload, the job process and a ready-to-run
// `pollard serve` (for npm start without Electron) into out/app/ with
// esbuild (already here through tsx and Vite; no plugin needed for Node-target bundles).
// The renderer is built separately by Vite (npm run build:renderer).
//
// - main, worker: ESM; npm packages stay external and load from node_modules, which
//   electron-builder ships (native and wasm packages — sharp, koffi, h5wasm, tfjs-backend-wasm,
//   the optional tfjs-node-gpu — keep their own files next to their code that way).
// - preload: CommonJS with everything bundled but `electron`: a sandboxed preload cannot
//   require from node_modules.
// Bundles sit three folders below the package root (out/app/<part>/), as
// src/main/util/paths.ts does, so PACKAGE_ROOT resolves the same from both.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'out', 'app');

const common = {
  absWorkingDir: root,
  bundle: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
};

const started = Date.now();
await Promise.all([
  build({
    ...common,
    entryPoints: ['src/main/electron/main.ts'],
    outfile: path.join(out, 'main', 'index.js'),
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    external: ['electron'],
  }),
  build({
    ...common,
    entryPoints: ['src/main/engine/job/worker.ts'],
    outfile: path.join(out, 'worker', 'index.js'),
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
  }),
  build({
    ...common,
    // Data-parallel training replicas (worker threads of the job process): see
    // src/main/engine/train/parallel/replica-pool.ts, which looks for ../replica/index.js.
    entryPoints: ['src/main/engine/train/parallel/replica-worker.ts'],
    outfile: path.join(out, 'replica', 'index.js'),
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
  }),
  build({
    ...common,
    entryPoints: ['src/main/serve/serve-bundle-entry.ts'],
    outfile: path.join(out, 'serve', 'index.js'),
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
  }),
  build({
    ...common,
    entryPoints: ['src/preload/index.ts'],
    outfile: path.join(out, 'preload', 'index.cjs'),
    platform: 'browser',
    target: 'chrome120',
    format: 'cjs',
    external: ['electron'],
  }),
]);
console.log(
  `pollard: built main, preload, worker and serve into ${path.relative(root, out)}/ in ${Date.now() - started} ms`,
);
