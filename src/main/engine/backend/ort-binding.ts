/**
 * Synchronous access to ONNX Runtime's CPU execution provider, for kernels of the wasm
 * backend (tfjs kernels must return synchronously).
 *
 * onnxruntime-node's public `InferenceSession.run` is async, but only because it wraps a
 * synchronous native call in setImmediate (dist/backend.js). This module uses that native
 * binding directly, as dist/backend.js does:
 *   const { binding, initOrt } = require('onnxruntime-node/dist/binding'); initOrt();
 *   const s = new binding.InferenceSession();
 *   s.loadModel(buffer, byteOffset, byteLength, options);
 *   s.run(feeds, fetches, runOptions)   // feeds/fetches: { name: Tensor }, synchronous
 * That is internal API, checked for onnxruntime-node 1.30: at load the version and the
 * binding's shape are checked, and when they are not as expected the native path is
 * unavailable (with the reason) and callers keep their wasm kernels.
 *
 * Tensors are passed by reference: a Float32Array view of the wasm heap as an input, and a
 * pre-allocated view of the kernel's output as the fetch, so ORT reads and writes the heap
 * in place. The binding still returns each output as a new Tensor over a copy (a fresh
 * ArrayBuffer of the output's size, every run), which is why one-thread sessions go through
 * the C API instead (ort-ffi.ts). Works inside worker_threads Workers too (each loads its own
 * binding instance; initOrt passes isMainThread to the addon).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The onnxruntime-node major.minor this module was written and checked against. */
export const EXPECTED_ORT_VERSION = '1.30';

export interface OrtSessionOptions {
  intraOpNumThreads: number;
}

interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, unknown>, options: object): unknown;
  dispose(): void;
}

interface Binding {
  InferenceSession: new () => NativeSession;
}

type TensorConstructor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;

interface Ort {
  binding: Binding;
  Tensor: TensorConstructor;
}

export type OrtLoad = { ok: true; ort: Ort } | { ok: false; reason: string };

let loaded: OrtLoad | undefined;

function tryLoad(): OrtLoad {
  let version: unknown;
  let mod: { binding?: unknown; initOrt?: unknown };
  let Tensor: unknown;
  try {
    version = (require('onnxruntime-node/dist/version') as { version?: unknown }).version;
    mod = require('onnxruntime-node/dist/binding') as typeof mod;
    Tensor = (require('onnxruntime-node') as { Tensor?: unknown }).Tensor;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return { ok: false, reason: `onnxruntime-node failed to load: ${message}` };
  }
  if (typeof version !== 'string' || !version.startsWith(`${EXPECTED_ORT_VERSION}.`)) {
    return {
      ok: false,
      reason: `onnxruntime-node ${String(version)} is not the checked ${EXPECTED_ORT_VERSION}.x`,
    };
  }
  const binding = mod.binding as Partial<Binding> | undefined;
  const proto = (binding?.InferenceSession as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  if (
    typeof mod.initOrt !== 'function' ||
    typeof Tensor !== 'function' ||
    proto === undefined ||
    !['loadModel', 'run', 'dispose'].every((name) => typeof proto[name] === 'function')
  ) {
    return { ok: false, reason: 'onnxruntime-node binding does not have the expected shape' };
  }
  try {
    (mod.initOrt as () => void)();
  } catch (error) {
    return { ok: false, reason: `onnxruntime-node failed to initialise: ${String(error)}` };
  }
  return { ok: true, ort: { binding: binding as Binding, Tensor: Tensor as TensorConstructor } };
}

/** Loads the binding once per thread; the outcome (and reason) is remembered. */
export function loadOrt(): OrtLoad {
  loaded ??= tryLoad();
  return loaded;
}

/** One ONNX model loaded for the CPU execution provider, with fixed input/output shapes. */
export class OrtSession {
  private readonly session: NativeSession;
  private readonly Tensor: TensorConstructor;

  constructor(
    ort: Ort,
    model: Uint8Array,
    private readonly inputShapes: Readonly<Record<string, readonly number[]>>,
    private readonly outputName: string,
    private readonly outputShape: readonly number[],
    options: OrtSessionOptions,
  ) {
    this.Tensor = ort.Tensor;
    this.session = new ort.binding.InferenceSession();
    this.session.loadModel(model.buffer, model.byteOffset, model.byteLength, {
      intraOpNumThreads: options.intraOpNumThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Plain intra-op threads; spinning would burn the cores the other workers need.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  }

  /** Runs synchronously, writing the single output into `output` (a view of its size). */
  run(inputs: Readonly<Record<string, Float32Array>>, output: Float32Array): void {
    const feeds: Record<string, unknown> = {};
    for (const [name, data] of Object.entries(inputs)) {
      const shape = this.inputShapes[name];
      if (shape === undefined) throw new Error(`native kernel: unexpected input ${name}`);
      feeds[name] = new this.Tensor('float32', data, shape);
    }
    const fetches = { [this.outputName]: new this.Tensor('float32', output, this.outputShape) };
    this.session.run(feeds, fetches, {});
  }

  dispose(): void {
    this.session.dispose();
  }
}
