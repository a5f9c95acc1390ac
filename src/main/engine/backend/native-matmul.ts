/**
 * Matrix products of the wasm backend in ONNX Runtime's Gemm (MLAS, AVX2/AVX-512) instead of
 * XNNPACK's 128-bit wasm SIMD, where that measured faster: a dense layer's forward pass and
 * its input gradient (dy · Wᵀ, Gemm's transB, no transpose copy). Measured here, ms per call,
 * tfjs wasm → ORT: 64×3136·3136×128 1.51 → 0.35; 64×128·(3136×128)ᵀ 2.80 → 0.41;
 * 64×400·400×120 0.29 → 0.23; 64×120·120×84 0.16 → 0.07. The weight gradient (xᵀ · dy,
 * transA) stays in XNNPACK, which was as fast or faster (400×64ᵀ·64×120: 0.25 against 0.30;
 * 3136×64ᵀ·64×128: 1.7 against 2.0).
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { nativeKernelsStatus } from './native-conv';
import { sessionFor } from './ort-session-cache';
import { heapF32 } from './wasm-heap';

/** Below this many multiply-adds a product stays in XNNPACK (the native call's fixed cost). */
export const MIN_NATIVE_GEMM_MACS = 256 * 1024;

/**
 * a · b (or a · bᵀ) for single matrices, [m, k] · [k, n], in ORT; undefined where it does not
 * apply (transposed a, non-float32, too small, ORT unavailable): the caller falls back.
 */
export function nativeMatMul(
  wasm: BackendWasm,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  outShape: number[],
): TensorInfo | undefined {
  if (transposeA || a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [b0, b1] = b.shape.slice(-2) as [number, number];
  const n = transposeB ? b0 : b1;
  if (m * k * n < MIN_NATIVE_GEMM_MACS || !nativeKernelsStatus().available) return undefined;
  const aShape = [m, k];
  const bShape = [b0, b1];
  const session = sessionFor(`gemm|${m},${k},${n}|${transposeB}`, () => ({
    inputs: [
      { name: 'a', shape: aShape },
      { name: 'b', shape: bShape },
    ],
    outputs: [{ name: 'y', shape: [m, n] }],
    nodes: [{ op: 'Gemm', inputs: ['a', 'b'], outputs: ['y'], attributes: { transB: transposeB ? 1 : 0 } }],
  }));
  const out = wasm.makeOutput(outShape, 'float32');
  session.run({ a: heapF32(wasm, a), b: heapF32(wasm, b) }, heapF32(wasm, out));
  return out;
}
