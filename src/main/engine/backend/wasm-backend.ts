/**
 * Loads @tensorflow/tfjs-backend-wasm with Pollard's training kernels, from a folder that
 * also works inside a packaged Electron app (where the .wasm files are unpacked next to
 * app.asar) or from an explicit POLLARD_WASM_DIR.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { compileSimdKernels } from './simd/simd-kernels';
import { registerWasmTrainingKernels } from './wasm-kernels';
import { interceptTfjsWasmCompile } from './wasm-module-share';

const require = createRequire(import.meta.url);

/** The binaries tfjs-backend-wasm chooses between; Node uses the (SIMD) non-threaded ones. */
const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'] as const;

let registered: Promise<void> | undefined;

/**
 * The folder holding the .wasm binaries: POLLARD_WASM_DIR when set, else the package's
 * dist folder, moved from `app.asar` to `app.asar.unpacked` when the app is packaged
 * (Node's fs cannot hand a file inside an asar archive to WebAssembly).
 */
export function wasmDirectory(
  env: NodeJS.ProcessEnv = process.env,
  packageDir: () => string = () =>
    path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')),
): string {
  const override = env.POLLARD_WASM_DIR;
  if (override !== undefined && override !== '') {
    const dir = path.resolve(override);
    const missing = WASM_BINARIES.filter((name) => !existsSync(path.join(dir, name)));
    if (missing.length > 0) {
      throw new Error(`POLLARD_WASM_DIR=${dir}: ${missing.join(', ')} not found there`);
    }
    return dir;
  }
  const dir = packageDir();
  const asar = `${path.sep}app.asar${path.sep}`;
  if (dir.includes(asar)) {
    const unpacked = dir.replace(asar, `${path.sep}app.asar.unpacked${path.sep}`);
    if (existsSync(unpacked)) return unpacked;
  }
  return dir;
}

/**
 * Registers the wasm backend (not yet selected) with its binaries' folder and Pollard's
 * training kernels. Idempotent; `tf.setBackend('wasm')` then initialises it.
 */
export function registerWasmBackend(): Promise<void> {
  registered ??= (async () => {
    const dir = wasmDirectory();
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(dir + path.sep);
    interceptTfjsWasmCompile(dir, WASM_BINARIES);
    await compileSimdKernels();
    registerWasmTrainingKernels();
  })().catch((error: unknown) => {
    registered = undefined;
    throw error;
  });
  return registered;
}
