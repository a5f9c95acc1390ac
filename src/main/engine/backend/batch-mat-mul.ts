/**
 * BatchMatMul for the wasm backend that keeps transposed products in XNNPACK.
 * tfjs-backend-wasm 4.22 sends a product to XNNPACK only when neither operand is transposed
 * and there is one batch; otherwise it runs a scalar loop, about 10× slower. Every dense
 * layer's gradient is transposed (dW = xᵀ·dy, dx = dy·Wᵀ), so this transposes the operand
 * explicitly (a cheap copy) and then takes the fast path. Products large enough go to ONNX
 * Runtime's Gemm instead, transposed or not (native-matmul.ts).
 */
import type { BatchMatMulAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import { nativeMatMul } from './native-matmul';
import { asWasm, disposeIntermediate, runWasmKernel, withShape } from './wasm-heap';

function isSingleMatrix(shape: number[]): boolean {
  return shape.slice(0, -2).every((size) => size === 1);
}

export function makeBatchMatMulConfig(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
    const single = isSingleMatrix(a.shape) && isSingleMatrix(b.shape);
    const wasm = asWasm(args.backend);
    if (single) {
      const [m, n] = [
        a.shape[a.shape.length - (transposeA ? 1 : 2)]!,
        b.shape[b.shape.length - (transposeB ? 2 : 1)]!,
      ];
      const outerDims = a.shape.length >= b.shape.length ? a.shape : b.shape;
      const native = nativeMatMul(wasm, a, b, transposeA, transposeB, [...outerDims.slice(0, -2), m, n]);
      if (native !== undefined) return native;
    }
    if ((!transposeA && !transposeB) || !single) return original(args);
    const asMatrix = (info: TensorInfo, transpose: boolean): TensorInfo => {
      const [rows, cols] = info.shape.slice(-2) as [number, number];
      if (!transpose) return withShape(info, [rows, cols]);
      return runWasmKernel(wasm, tf.Transpose, { x: withShape(info, [rows, cols]) }, { perm: [1, 0] });
    };
    const left = asMatrix(a, transposeA);
    const right = asMatrix(b, transposeB);
    const product = original({
      ...args,
      inputs: { a: left, b: right },
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;
    if (transposeA) disposeIntermediate(wasm, left);
    if (transposeB) disposeIntermediate(wasm, right);
    const outerDims = a.shape.length >= b.shape.length ? a.shape : b.shape;
    return withShape(product, [...outerDims.slice(0, -2), ...product.shape.slice(-2)]);
  };
  return { kernelName: tf.BatchMatMul, backendName: 'wasm', kernelFunc };
}
