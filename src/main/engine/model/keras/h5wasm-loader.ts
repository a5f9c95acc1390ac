/**
 * h5wasm, loaded on first use: importing it instantiates a WebAssembly module that reserves
 * ~400 MB of address space and raises the process's peak RSS accordingly, which every job
 * that never touches a Keras file would otherwise pay.
 */
import type h5wasmModule from 'h5wasm/node';

type H5wasm = typeof h5wasmModule;

let loading: Promise<H5wasm> | undefined;
let loaded: H5wasm | undefined;

export function loadH5wasm(): Promise<H5wasm> {
  loading ??= import('h5wasm/node').then(async (module) => {
    const h5Module = await module.default.ready;
    // HDF5 prints its error stack (HDF5-DIAG lines) to stderr by default; thrown instead, it
    // becomes part of the one-line error that names the file (hdf5.ts).
    h5Module.activate_throwing_error_handler();
    loaded = module.default;
    return module.default;
  });
  return loading;
}

/** The module, once `loadH5wasm()` has resolved (for synchronous `instanceof` checks). */
export function h5wasmLoaded(): H5wasm {
  if (!loaded) throw new Error('h5wasm used before loadH5wasm() resolved');
  return loaded;
}
