/**
 * Pollard's WebAssembly SIMD kernels (kernels-wat.ts), compiled from their text by wabt once
 * per thread and instantiated against each wasm backend's own memory, so that they read and
 * write tensors where they lie. What they replace: JavaScript loops over the heap (batch-norm
 * statistics and backward pass, the 2×2 max-pool gradient, Adam) and chains of small wasm
 * kernels (ReLU's gradient as Step, Cast and Multiply; a bias added by broadcasting; a Sum over
 * the leading axes, which wasm runs by transposing the whole tensor first). Each is measured
 * against what it replaces by `npx tsx bench/simd-kernels.bench.ts` (2–10× on a training
 * step's shapes).
 *
 * When wabt cannot load or the engine has no SIMD, `simdKernelsFor` answers undefined and the
 * callers keep their JavaScript and tfjs paths (also what POLLARD_SIMD_KERNELS=0 does).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { KERNELS_WAT } from './kernels-wat';

interface Exports {
  relu_grad(dy: number, x: number, out: number, n: number): void;
  non_finite_probe(x: number, n: number): number;
  add_into(out: number, a: number, n: number): void;
  channel_sums(
    a: number,
    b: number,
    m: number,
    chunks: number,
    vecs: number,
    s32: number,
    p32: number,
    s64: number,
    p64: number,
  ): void;
  channel_sum(a: number, chunks: number, vecs: number, s32: number, s64: number): void;
  channel_affine(out: number, a: number, ka: number, shift: number, chunks: number, vecs: number): void;
  channel_affine2(
    out: number,
    a: number,
    ka: number,
    b: number,
    kb: number,
    shift: number,
    chunks: number,
    vecs: number,
  ): void;
  adam(
    x: number,
    m: number,
    v: number,
    g: number,
    xo: number,
    mo: number,
    vo: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    epsilon: number,
    step: number,
    invCorrection2: number,
  ): void;
  max_pool_grad_2x2(
    xs: number,
    dys: number,
    dx: number,
    batch: number,
    inH: number,
    outH: number,
    outW: number,
    cb: number,
    rowBytes: number,
  ): void;
}

/** The parts of the emscripten module behind a wasm backend that these kernels use. */
interface EmscriptenModule {
  asm: { memory: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

let compiled: WebAssembly.Module | undefined;
/** Why there is no compiled module (a failed compile, or POLLARD_SIMD_KERNELS=0). */
let unavailable: string | undefined;
let compiling: Promise<void> | undefined;
/** Off for this thread by setSimdKernelsEnabled(false) (tests and benchmarks compare both paths). */
let disabled = false;

/** Compiles the kernels for this thread (idempotent); a failure is remembered as the reason. */
export function compileSimdKernels(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env.POLLARD_SIMD_KERNELS === '0') {
    unavailable = 'disabled by POLLARD_SIMD_KERNELS=0';
    return Promise.resolve();
  }
  if (compiled !== undefined) return Promise.resolve();
  compiling ??= (async () => {
    try {
      const wabt = await (await import('wabt')).default();
      const parsed = wabt.parseWat('pollard-kernels.wat', KERNELS_WAT, { simd: true });
      try {
        parsed.validate();
        compiled = new WebAssembly.Module(new Uint8Array(parsed.toBinary({}).buffer));
      } finally {
        parsed.destroy();
      }
    } catch (error) {
      unavailable = `the SIMD kernels did not compile: ${error instanceof Error ? error.message : String(error)}`;
    }
  })();
  return compiling;
}

/** The compiled kernels of this thread, to hand to a worker thread (undefined where there are none). */
export function compiledSimdModule(): WebAssembly.Module | undefined {
  return compiled;
}

/** Uses kernels compiled in another thread (replica workers), instead of compiling them with wabt. */
export function adoptSimdModule(module: WebAssembly.Module): void {
  compiled = module;
}

/** Why the SIMD kernels are not used in this thread, or undefined when they are. */
export function simdKernelsUnavailable(): string | undefined {
  if (disabled) return 'turned off by setSimdKernelsEnabled(false)';
  if (unavailable !== undefined) return unavailable;
  return compiled === undefined ? 'not compiled yet' : undefined;
}

export function setSimdKernelsEnabled(enabled: boolean): void {
  disabled = !enabled;
}

/** A 2×2, stride-2 max pool over channels-last [batch, inHeight, inWidth, channels]. */
export interface Pool2x2Geometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
}

const BYTES = 4;
/** Floats of a pattern: a per-channel value tiled over the 4 rows of a chunk. */
const patternFloats = (channels: number): number => 4 * channels;

function pointer(memory: WebAssembly.Memory, view: Float32Array): number {
  if (view.buffer !== memory.buffer)
    throw new Error('SIMD kernel: a view is not on the wasm heap (or is stale)');
  return view.byteOffset;
}

/**
 * The kernels bound to one wasm backend's memory, with a scratch area on its heap for the
 * patterns. Taking the scratch may grow the heap, which detaches earlier views: call
 * `reserve(channels)` first, then take views, then run.
 */
export class SimdKernels {
  private scratch = 0;
  private scratchChannels = 0;

  constructor(
    private readonly module: EmscriptenModule,
    private readonly fns: Exports,
  ) {}

  private get memory(): WebAssembly.Memory {
    return this.module.asm.memory;
  }

  /** Makes room for the patterns of `channels` channels (may grow the heap: take views after). */
  reserve(channels: number): void {
    if (channels <= this.scratchChannels) return;
    if (this.scratch !== 0) this.module._free(this.scratch);
    // Six float32 patterns (s32, p32, m, ka, kb, shift) and two float64 ones (s64, p64).
    const bytes = 6 * patternFloats(channels) * BYTES + 2 * patternFloats(channels) * 8;
    const at = this.module._malloc(bytes);
    if (at === 0) throw new Error(`SIMD kernel: no room on the wasm heap for ${bytes} bytes of scratch`);
    this.scratch = at;
    this.scratchChannels = channels;
  }

  private layout(channels: number): {
    s32: number;
    p32: number;
    m: number;
    ka: number;
    kb: number;
    shift: number;
    s64: number;
    p64: number;
  } {
    if (channels > this.scratchChannels) throw new Error(`SIMD kernel: reserve(${channels}) was not called`);
    const f32 = patternFloats(this.scratchChannels) * BYTES;
    const base = this.scratch;
    return {
      s32: base,
      p32: base + f32,
      m: base + 2 * f32,
      ka: base + 3 * f32,
      kb: base + 4 * f32,
      shift: base + 5 * f32,
      s64: base + 6 * f32,
      p64: base + 6 * f32 + 2 * f32,
    };
  }

  /** A float32 view of `floats` floats at byte offset `at` (taken now, so it is current). */
  private f32(at: number, floats: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, floats);
  }

  private f64(at: number, floats: number): Float64Array {
    return new Float64Array(this.memory.buffer, at, floats);
  }

  /** Writes `values` (one per channel) tiled into the pattern at `at`. */
  private setPattern(at: number, values: ArrayLike<number> | undefined, channels: number): void {
    const pattern = this.f32(at, patternFloats(channels));
    if (values === undefined) {
      pattern.fill(0);
      return;
    }
    for (let j = 0; j < pattern.length; j++) pattern[j] = values[j % channels] as number;
  }

  /** Adds the lanes of the float64 pattern at `at` into `into[c]`, and zeroes the pattern. */
  private foldPattern(at: number, channels: number, into: Float64Array): void {
    const pattern = this.f64(at, patternFloats(channels));
    for (let j = 0; j < pattern.length; j++)
      into[j % channels] = (into[j % channels] as number) + (pattern[j] as number);
    pattern.fill(0);
  }

  /** dy · step(x) into out (all the same length, on the heap). */
  reluGrad(dy: Float32Array, x: Float32Array, out: Float32Array): void {
    const memory = this.memory;
    this.fns.relu_grad(pointer(memory, dy), pointer(memory, x), pointer(memory, out), out.length);
  }

  /** 0 when every value of `x` (on the heap) is finite, NaN when one is NaN or ±Inf. */
  nonFiniteProbe(x: Float32Array): number {
    return this.fns.non_finite_probe(pointer(this.memory, x), x.length);
  }

  /** out += a, elementwise (the same length, both on the heap). */
  addInto(out: Float32Array, a: Float32Array): void {
    if (a.length !== out.length)
      throw new Error(`SIMD kernel: addInto of ${a.length} values into ${out.length}`);
    const memory = this.memory;
    this.fns.add_into(pointer(memory, out), pointer(memory, a), out.length);
  }

  /**
   * Per channel of channels-last `a` and `b` (same length): sumA[c] += Σ a and
   * sumAB[c] += Σ a·(b − centre[c]) (centre: zeros when absent), with float32 partial sums of
   * at most 128 rows added in float64.
   */
  channelSums(
    a: Float32Array,
    b: Float32Array,
    channels: number,
    sumA: Float64Array,
    sumAB: Float64Array,
    centre?: ArrayLike<number>,
  ): void {
    const l = this.layout(channels);
    const memory = this.memory;
    const chunks = Math.floor(a.length / patternFloats(channels));
    this.setPattern(l.m, centre, channels);
    for (const at of [l.s32, l.p32]) this.f32(at, patternFloats(channels)).fill(0);
    for (const at of [l.s64, l.p64]) this.f64(at, patternFloats(channels)).fill(0);
    this.fns.channel_sums(
      pointer(memory, a),
      pointer(memory, b),
      l.m,
      chunks,
      channels,
      l.s32,
      l.p32,
      l.s64,
      l.p64,
    );
    this.foldPattern(l.s64, channels, sumA);
    this.foldPattern(l.p64, channels, sumAB);
    for (let i = chunks * patternFloats(channels); i < a.length; i++) {
      const c = i % channels;
      const v = a[i] as number;
      sumA[c] = (sumA[c] as number) + v;
      sumAB[c] =
        (sumAB[c] as number) + v * ((b[i] as number) - (centre === undefined ? 0 : (centre[c] as number)));
    }
  }

  /** sum[c] += Σ a over the rows of channels-last `a`. */
  channelSum(a: Float32Array, channels: number, sum: Float64Array): void {
    const l = this.layout(channels);
    const chunks = Math.floor(a.length / patternFloats(channels));
    this.f32(l.s32, patternFloats(channels)).fill(0);
    this.f64(l.s64, patternFloats(channels)).fill(0);
    this.fns.channel_sum(pointer(this.memory, a), chunks, channels, l.s32, l.s64);
    this.foldPattern(l.s64, channels, sum);
    for (let i = chunks * patternFloats(channels); i < a.length; i++) {
      sum[i % channels] = (sum[i % channels] as number) + (a[i] as number);
    }
  }

  /** out = a·ka[c] + shift[c], or with `b`, a·ka[c] + b·kb[c] + shift[c] (float32 arithmetic). */
  channelAffine(
    out: Float32Array,
    channels: number,
    a: Float32Array,
    ka: ArrayLike<number>,
    shift: ArrayLike<number>,
    b?: { values: Float32Array; k: ArrayLike<number> },
  ): void {
    const l = this.layout(channels);
    const memory = this.memory;
    const chunks = Math.floor(out.length / patternFloats(channels));
    this.setPattern(l.ka, ka, channels);
    this.setPattern(l.shift, shift, channels);
    if (b === undefined) {
      this.fns.channel_affine(pointer(memory, out), pointer(memory, a), l.ka, l.shift, chunks, channels);
    } else {
      this.setPattern(l.kb, b.k, channels);
      this.fns.channel_affine2(
        pointer(memory, out),
        pointer(memory, a),
        l.ka,
        pointer(memory, b.values),
        l.kb,
        l.shift,
        chunks,
        channels,
      );
    }
    for (let i = chunks * patternFloats(channels); i < out.length; i++) {
      const c = i % channels;
      const bv = b === undefined ? 0 : (b.values[i] as number) * (b.k[c] as number);
      out[i] = (a[i] as number) * (ka[c] as number) + bv + (shift[c] as number);
    }
  }

  /**
   * One Adam step in float32 over the heap views (same lengths): outputs the new value, m and
   * v; `step` = lr / (1 − β1ᵗ), `invCorrection2` = 1 / (1 − β2ᵗ).
   */
  adam(
    inputs: { value: Float32Array; m: Float32Array; v: Float32Array; gradient: Float32Array },
    outputs: { value: Float32Array; m: Float32Array; v: Float32Array },
    h: { beta1: number; beta2: number; epsilon: number; step: number; invCorrection2: number },
  ): void {
    const memory = this.memory;
    this.fns.adam(
      pointer(memory, inputs.value),
      pointer(memory, inputs.m),
      pointer(memory, inputs.v),
      pointer(memory, inputs.gradient),
      pointer(memory, outputs.value),
      pointer(memory, outputs.m),
      pointer(memory, outputs.v),
      outputs.value.length,
      h.beta1,
      1 - h.beta1,
      h.beta2,
      1 - h.beta2,
      h.epsilon,
      h.step,
      h.invCorrection2,
    );
  }

  /**
   * The 2×2, stride-2 max-pool gradient whose windows all lie inside the input; `dx` must be
   * zero where no window reaches.
   */
  maxPoolGrad2x2(xs: Float32Array, dys: Float32Array, dx: Float32Array, g: Pool2x2Geometry): void {
    const memory = this.memory;
    this.fns.max_pool_grad_2x2(
      pointer(memory, xs),
      pointer(memory, dys),
      pointer(memory, dx),
      g.batchSize,
      g.inHeight,
      g.outHeight,
      g.outWidth,
      g.channels * BYTES,
      g.inWidth * g.channels * BYTES,
    );
  }
}

const instances = new WeakMap<object, SimdKernels>();

/** The SIMD kernels on this wasm backend's heap, or undefined where they are not available. */
export function simdKernelsFor(backend: BackendWasm): SimdKernels | undefined {
  if (compiled === undefined || disabled || unavailable !== undefined) return undefined;
  const module = (backend as unknown as { wasm: EmscriptenModule }).wasm;
  let kernels = instances.get(module);
  if (kernels === undefined) {
    const instance = new WebAssembly.Instance(compiled, { env: { memory: module.asm.memory } });
    kernels = new SimdKernels(module, instance.exports as unknown as Exports);
    instances.set(module, kernels);
  }
  return kernels;
}
