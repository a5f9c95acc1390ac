/**
 * Matrix products of the wasm backend in ONNX Runtime's Gemm (MLAS, AVX2/AVX-512) instead of
 * XNNPACK's 128-bit wasm SIMD, where that measured faster: a dense layer's forward pass, its
 * input gradient (dy · Wᵀ, Gemm's transB) and its weight gradient (xᵀ · dy, Gemm's transA), with
 * no transpose copy. Measured here, ms per call, tfjs wasm → ORT: 64×3136·3136×128 1.51 → 0.35;
 * 64×128·(3136×128)ᵀ 2.80 → 0.41; 64×400·400×120 0.29 → 0.23; 64×120·120×84 0.16 → 0.07.
 * The weight gradient, since ORT runs through its C API in place (ort-ffi.ts), the whole tf.matMul
 * call (2026-12-05): (64×400)ᵀ·64×120 0.40 → 0.10 ms; (64×3136)ᵀ·64×128 1.68 → 0.40 ms (through
 * onnxruntime-node's binding, which copied every output, it had measured slower: 0.25 against 0.30).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernelsStatus } from './native-conv';
import { runNative } from './native-parts';

/** Below this many multiply-adds a product stays in XNNPACK (the native call's fixed cost). */
export const MIN_NATIVE_GEMM_MACS = 256 * 1024;

/**
 * op(a) · op(b) for single matrices ([m, k] · [k, n] once transposed as asked) in ORT; undefined
 * where it does not apply (non-float32, too small, ORT unavailable): the caller falls back.
 */
export function nativeMatMul(
  wasm: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  outShape: number[],
): TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const [a0, a1] = a.shape.slice(-2) as [number, number];
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [b0, b1] = b.shape.slice(-2) as [number, number];
  const n = transposeB ? b0 : b1;
  if (m * k * n < MIN_NATIVE_GEMM_MACS || !nativeKernelsStatus().available) return undefined;
  // Cut across kernel threads (native-parts.ts) along a's rows for a product or an input
  // gradient; along the rows both operands share (the batch) for a weight gradient xᵀ·dy, whose
  // parts are then added. aᵀ·bᵀ stays whole.
  const along = !transposeA ? 'm' : !transposeB ? 'k' : undefined;
  const dims = (rows: number) => ({ m: along === 'm' ? rows : m, k: along === 'k' ? rows : k });
  const out = wasm.makeOutput(outShape, 'float32');
  runNative(wasm, {
    key: (rows) => {
      const d = dims(rows);
      return `gemm|${d.m},${d.k},${n}|${transposeA}|${transposeB}`;
    },
    graph: (rows) => {
      const d = dims(rows);
      return {
        inputs: [
          { name: 'a', shape: transposeA ? [d.k, d.m] : [d.m, d.k] },
          { name: 'b', shape: transposeB ? [n, d.k] : [d.k, n] },
        ],
        outputs: [{ name: 'y', shape: [d.m, n] }],
        nodes: [
          {
            op: 'Gemm',
            inputs: ['a', 'b'],
            outputs: ['y'],
            attributes: { transA: transposeA ? 1 : 0, transB: transposeB ? 1 : 0 },
          },
        ],
      };
    },
    batch: along === 'm' ? m : along === 'k' ? k : 1,
    macs: m * k * n,
    inputs: { a, b },
    batched: along === 'm' ? ['a'] : along === 'k' ? ['a', 'b'] : [],
    output: out,
    combine: along === 'k' ? 'sum' : 'cut',
  });
  return out;
}
