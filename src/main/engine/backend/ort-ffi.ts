/**
 * ONNX Runtime's C API, called directly through koffi, for the native kernels' sessions.
 *
 * Why not onnxruntime-node's binding (ort-binding.ts) for every run: its synchronous `run`
 * returns every output as a new JavaScript Tensor, copied into a fresh ArrayBuffer, even when
 * the output was given preallocated (which it also fills). A native convolution's output is
 * megabytes at batch 64, so each call allocated, faulted in and copied megabytes, and the
 * garbage drove V8 into a garbage collection every few calls ("external memory pressure").
 * Measured here, a ResNet-20 training step on one thread: 4 helper threads at 20–23 ms of CPU
 * each per step on top of the 300 ms main thread, and 167–238 page faults; a ReLU over
 * 64×16×32×32 floats took 3.7 ms through the binding and 0.13 ms through this module.
 * Through the C API the output OrtValue wraps the kernel's output view in the wasm heap and
 * Run writes it in place: nothing is allocated on the JavaScript side.
 *
 * The library is the one onnxruntime-node ships and its binding has already loaded
 * (bin/napi-v6/<platform>/<arch>/); the Env is the process's one (CreateEnv returns the
 * existing instance). Functions are taken from the OrtApi table by index (onnxruntime_c_api.h;
 * the table only grows, so these indices hold for every 1.x), after GetVersionString has said
 * the library is the checked EXPECTED_ORT_VERSION. Anything unexpected leaves this path
 * unavailable, with the reason, and callers use the binding.
 *
 * Sessions made here set `session.intra_op.allow_spinning` to 0, as the binding's do: an
 * intra-op pool that spins between kernels would burn the cores the other replicas need.
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import type * as Koffi from 'koffi';
import { EXPECTED_ORT_VERSION } from './ort-binding';

const require = createRequire(import.meta.url);

/** OrtApi members used here, by their index in the struct. */
export const API = {
  GetErrorMessage: 2,
  CreateEnv: 3,
  CreateSessionFromArray: 8,
  Run: 9,
  CreateSessionOptions: 10,
  SetSessionExecutionMode: 13,
  SetSessionGraphOptimizationLevel: 23,
  SetIntraOpNumThreads: 24,
  SetInterOpNumThreads: 25,
  CreateTensorWithDataAsOrtValue: 49,
  CreateCpuMemoryInfo: 69,
  ReleaseStatus: 93,
  ReleaseSession: 95,
  ReleaseValue: 96,
  ReleaseSessionOptions: 100,
  AddSessionConfigEntry: 130,
} as const;
const API_SLOTS = Math.max(...Object.values(API)) + 1;
/** The API version asked for (ORT 1.22's); every member above is older. */
export const API_VERSION = 22;
/** OrtApi::Run, as koffi declares it (here and in the helper threads of ort-helpers.ts). */
export const RUN_SIGNATURE =
  'void *Run(void *session, void *runOptions, const char **inputNames, void **inputs, size_t inputCount, ' +
  'const char **outputNames, size_t outputCount, void **outputs)';
const ORT_LOGGING_LEVEL_WARNING = 2;
const ORT_SEQUENTIAL = 0;
const ORT_ENABLE_ALL = 99;
const ORT_DEVICE_ALLOCATOR = 0;
const ORT_MEM_TYPE_DEFAULT = 0;
const ONNX_FLOAT = 1;

/** The shared library's file name per platform, as onnxruntime-node ships it. */
const LIBRARY: Readonly<Partial<Record<NodeJS.Platform, string>>> = {
  linux: 'libonnxruntime.so.1',
  darwin: 'libonnxruntime.1.dylib',
  win32: 'onnxruntime.dll',
};

type Pointer = unknown;
type Fn = (...args: unknown[]) => unknown;

export interface OrtFfi {
  version: string;
  createSession(model: Uint8Array, intraOpNumThreads: number): Pointer;
  tensor(data: Float32Array, shape: BigInt64Array): Pointer;
  run(
    session: Pointer,
    inputNames: string[],
    inputs: Pointer[],
    outputNames: string[],
    outputs: Pointer[],
  ): void;
  releaseValue(value: Pointer): void;
  releaseSession(session: Pointer): void;
  /** A pointer's address, for another thread's binding (ort-helpers.ts). */
  address(pointer: Pointer): bigint;
}

export type OrtFfiLoad = { ok: true; ffi: OrtFfi } | { ok: false; reason: string };

/** The ONNX Runtime library onnxruntime-node ships (and its binding has loaded). */
export function ortLibraryPath(): string {
  const name = LIBRARY[process.platform];
  if (name === undefined) throw new Error(`no ONNX Runtime library name for ${process.platform}`);
  const dist = path.dirname(require.resolve('onnxruntime-node/dist/binding'));
  // In a packaged app the native files lie beside the archive, in app.asar.unpacked.
  const file = path
    .join(dist, '..', 'bin', 'napi-v6', process.platform, process.arch, name)
    .replace(`${path.sep}app.asar${path.sep}`, `${path.sep}app.asar.unpacked${path.sep}`);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing`);
  return file;
}

function bind(): OrtFfi {
  const koffi = require('koffi') as typeof Koffi;
  const lib = koffi.load(ortLibraryPath());
  const base = (lib.func('void *OrtGetApiBase()') as () => Pointer)();
  const [getApiPointer, versionPointer] = koffi.decode(base, 'void *', 2) as [Pointer, Pointer];
  const version = koffi.call(versionPointer, koffi.proto('const char *GetVersionString()')) as string;
  if (!version.startsWith(`${EXPECTED_ORT_VERSION}.`)) {
    throw new Error(`the ONNX Runtime library is ${version}, not the checked ${EXPECTED_ORT_VERSION}.x`);
  }
  const api = koffi.call(getApiPointer, koffi.proto('void *GetApi(uint32_t)'), API_VERSION) as Pointer;
  if (api === null) throw new Error(`ONNX Runtime ${version} has no C API version ${API_VERSION}`);
  const table = koffi.decode(api, 'void *', API_SLOTS) as Pointer[];
  const fn = (slot: keyof typeof API, signature: string): Fn =>
    koffi.decode(table[API[slot]], koffi.proto(signature)) as Fn;

  const getErrorMessage = fn('GetErrorMessage', 'const char *GetErrorMessage(void *status)');
  const releaseStatus = fn('ReleaseStatus', 'void ReleaseStatus(void *status)');
  /** OrtStatus* → nothing when OK, else an Error with ORT's message (the status is freed). */
  const check = (status: unknown, what: string): void => {
    if (status === null) return;
    const message = getErrorMessage(status) as string;
    releaseStatus(status);
    throw new Error(`ONNX Runtime ${what}: ${message}`);
  };
  const createEnv = fn('CreateEnv', 'void *CreateEnv(int level, const char *logid, _Out_ void **out)');
  const createSessionFromArray = fn(
    'CreateSessionFromArray',
    'void *CreateSessionFromArray(void *env, const void *data, size_t length, void *options, _Out_ void **out)',
  );
  const runSession = fn('Run', RUN_SIGNATURE);
  const createSessionOptions = fn('CreateSessionOptions', 'void *CreateSessionOptions(_Out_ void **out)');
  const setExecutionMode = fn(
    'SetSessionExecutionMode',
    'void *SetSessionExecutionMode(void *options, int mode)',
  );
  const setOptimization = fn(
    'SetSessionGraphOptimizationLevel',
    'void *SetSessionGraphOptimizationLevel(void *options, int level)',
  );
  const setIntraOp = fn('SetIntraOpNumThreads', 'void *SetIntraOpNumThreads(void *options, int threads)');
  const setInterOp = fn('SetInterOpNumThreads', 'void *SetInterOpNumThreads(void *options, int threads)');
  const createTensor = fn(
    'CreateTensorWithDataAsOrtValue',
    'void *CreateTensorWithDataAsOrtValue(void *info, void *data, size_t bytes, const int64_t *shape, ' +
      'size_t rank, int type, _Out_ void **out)',
  );
  const createCpuMemoryInfo = fn(
    'CreateCpuMemoryInfo',
    'void *CreateCpuMemoryInfo(int allocator, int memType, _Out_ void **out)',
  );
  const releaseSession = fn('ReleaseSession', 'void ReleaseSession(void *session)');
  const releaseValue = fn('ReleaseValue', 'void ReleaseValue(void *value)');
  const releaseSessionOptions = fn('ReleaseSessionOptions', 'void ReleaseSessionOptions(void *options)');
  const addConfigEntry = fn(
    'AddSessionConfigEntry',
    'void *AddSessionConfigEntry(void *options, const char *key, const char *value)',
  );

  const out: Pointer[] = [null];
  check(createEnv(ORT_LOGGING_LEVEL_WARNING, 'pollard', out), 'CreateEnv');
  const env = out[0];
  check(createCpuMemoryInfo(ORT_DEVICE_ALLOCATOR, ORT_MEM_TYPE_DEFAULT, out), 'CreateCpuMemoryInfo');
  const cpu = out[0];

  return {
    version,
    createSession(model, intraOpNumThreads) {
      check(createSessionOptions(out), 'CreateSessionOptions');
      const options = out[0];
      try {
        check(setIntraOp(options, intraOpNumThreads), 'SetIntraOpNumThreads');
        check(setInterOp(options, 1), 'SetInterOpNumThreads');
        check(setExecutionMode(options, ORT_SEQUENTIAL), 'SetSessionExecutionMode');
        check(setOptimization(options, ORT_ENABLE_ALL), 'SetSessionGraphOptimizationLevel');
        check(addConfigEntry(options, 'session.intra_op.allow_spinning', '0'), 'AddSessionConfigEntry');
        check(createSessionFromArray(env, model, model.byteLength, options, out), 'CreateSessionFromArray');
        return out[0];
      } finally {
        releaseSessionOptions(options);
      }
    },
    tensor(data, shape) {
      check(createTensor(cpu, data, data.byteLength, shape, shape.length, ONNX_FLOAT, out), 'CreateTensor');
      return out[0];
    },
    run(session, inputNames, inputs, outputNames, outputs) {
      check(
        runSession(session, null, inputNames, inputs, inputs.length, outputNames, outputs.length, outputs),
        'Run',
      );
    },
    releaseValue: (value) => void releaseValue(value),
    releaseSession: (session) => void releaseSession(session),
    address: (pointer) => koffi.address(pointer),
  };
}

let loaded: OrtFfiLoad | undefined;

/** Binds the C API once per thread; the outcome (and reason) is remembered. POLLARD_ORT_FFI=0 turns it off. */
export function loadOrtFfi(env: NodeJS.ProcessEnv = process.env): OrtFfiLoad {
  if (env.POLLARD_ORT_FFI === '0') return { ok: false, reason: 'POLLARD_ORT_FFI=0' };
  if (loaded === undefined) {
    try {
      loaded = { ok: true, ffi: bind() };
    } catch (error) {
      loaded = {
        ok: false,
        reason: (error instanceof Error ? error.message : String(error)).split('\n')[0]!,
      };
    }
  }
  return loaded;
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** One run's session and OrtValues (FfiSession.bind). */
export interface BoundRun {
  session: Pointer;
  inputNames: string[];
  inputs: Pointer[];
  outputName: string;
  output: Pointer | undefined;
}

/**
 * One model with fixed float32 input/output shapes, run through the C API: inputs and the
 * output are views (of the wasm heap) that ORT reads and writes in place.
 */
export class FfiSession {
  private readonly session: Pointer;
  private readonly shapes: Map<string, { dims: BigInt64Array; size: number }>;
  private readonly outputDims: BigInt64Array;
  private readonly outputSize: number;
  private disposed = false;

  constructor(
    private readonly ffi: OrtFfi,
    model: Uint8Array,
    inputShapes: Readonly<Record<string, readonly number[]>>,
    private readonly outputName: string,
    outputShape: readonly number[],
    intraOpNumThreads: number,
  ) {
    this.shapes = new Map(
      Object.entries(inputShapes).map(([name, shape]) => [
        name,
        { dims: BigInt64Array.from(shape, BigInt), size: elements(shape) },
      ]),
    );
    this.outputDims = BigInt64Array.from(outputShape, BigInt);
    this.outputSize = elements(outputShape);
    this.session = ffi.createSession(model, intraOpNumThreads);
  }

  /** Runs synchronously, writing the single output into `output` (a view of its size). */
  run(inputs: Readonly<Record<string, Float32Array>>, output: Float32Array): void {
    const bound = this.bind(inputs, output);
    try {
      this.ffi.run(this.session, bound.inputNames, bound.inputs, [this.outputName], [bound.output]);
    } finally {
      this.release(bound);
    }
  }

  /**
   * The OrtValues of one run over these views, checked against the session's shapes, for a run
   * on this thread or another (ort-helpers.ts); `release` frees them once it is done.
   */
  bind(inputs: Readonly<Record<string, Float32Array>>, output: Float32Array): BoundRun {
    if (this.disposed) throw new Error('native kernel: the session was disposed');
    const bound: BoundRun = {
      session: this.session,
      inputNames: [],
      inputs: [],
      outputName: this.outputName,
      output: undefined,
    };
    try {
      for (const [name, data] of Object.entries(inputs)) {
        const shape = this.shapes.get(name);
        if (shape === undefined) throw new Error(`native kernel: unexpected input ${name}`);
        if (data.length !== shape.size) {
          throw new Error(
            `native kernel: input ${name} has ${data.length} values, its shape needs ${shape.size}`,
          );
        }
        bound.inputNames.push(name);
        bound.inputs.push(this.ffi.tensor(data, shape.dims));
      }
      if (output.length !== this.outputSize) {
        throw new Error(
          `native kernel: output has ${output.length} values, its shape needs ${this.outputSize}`,
        );
      }
      bound.output = this.ffi.tensor(output, this.outputDims);
      return bound;
    } catch (error) {
      this.release(bound);
      throw error;
    }
  }

  release(bound: BoundRun): void {
    for (const value of bound.inputs) this.ffi.releaseValue(value);
    if (bound.output !== undefined) this.ffi.releaseValue(bound.output);
    bound.inputs = [];
    bound.output = undefined;
  }

  /** The binding this session was made with (addresses for helper threads). */
  get binding(): OrtFfi {
    return this.ffi;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ffi.releaseSession(this.session);
  }
}
