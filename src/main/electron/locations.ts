/**
 * Where the app's parts are. The bundles live in out/app/{main,preload,worker}/ — three
 * folders below the package root, like the sources in src/main/util/, so PACKAGE_ROOT (and with
 * it the bundled sample and resources) resolves the same way from a bundle and from the sources.
 */
import path from 'node:path';

export interface AppLocations {
  rendererDir: string;
  preload: string;
  workerEntry: string;
  /** The tfjs-backend-wasm binaries, outside app.asar in a packaged app (asarUnpack). */
  wasmDir: string | undefined;
}

export function appLocations(appRoot: string, packaged: boolean): AppLocations {
  const wasmDist = path.join('node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  return {
    rendererDir: path.join(appRoot, 'out', 'renderer'),
    preload: path.join(appRoot, 'out', 'app', 'preload', 'index.cjs'),
    workerEntry: path.join(appRoot, 'out', 'app', 'worker', 'index.js'),
    wasmDir: packaged ? path.join(`${appRoot}.unpacked`, wasmDist) : undefined,
  };
}
