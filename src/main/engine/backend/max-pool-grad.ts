/**
 * A faster MaxPoolGrad for the wasm backend. tfjs-backend-wasm 4.22's kernel visits every
 * input pixel and every window that may cover it; this one visits each window once, finds
 * its maximum and routes dy there. Ties go to the first maximum in row-major window order,
 * as on the cpu backend (it matters after ReLU, where whole windows are 0).
 */
import type { KernelConfig, KernelFunc, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import { asWasm, heapF32 } from './wasm-heap';

const maxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;

  const out = wasm.makeOutput(input.shape, 'float32');
  const xs = heapF32(wasm, input);
  const dys = heapF32(wasm, dy);
  const dx = heapF32(wasm, out);
  dx.fill(0);
  const rowStride = inWidth * channels;
  let dyOffset = 0;
  for (let n = 0; n < batchSize; n++) {
    const batchOffset = n * inHeight * rowStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const yStart = Math.max(oy * strideHeight - padTop, 0);
      const yEnd = Math.min(oy * strideHeight - padTop + filterHeight, inHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const xStart = Math.max(ox * strideWidth - padLeft, 0);
        const xEnd = Math.min(ox * strideWidth - padLeft + filterWidth, inWidth);
        const corner = batchOffset + yStart * rowStride + xStart * channels;
        // One window per channel; the maximum stays in locals, the first one wins ties.
        for (let c = 0; c < channels; c++, dyOffset++) {
          let best = Number.NEGATIVE_INFINITY;
          let where = -1;
          for (let y = yStart, row = corner + c; y < yEnd; y++, row += rowStride) {
            for (let x = xStart, i = row; x < xEnd; x++, i += channels) {
              const value = xs[i] as number;
              if (value > best) {
                best = value;
                where = i;
              }
            }
          }
          if (where >= 0) dx[where]! += dys[dyOffset] as number;
        }
      }
    }
  }
  return out;
};

export const maxPoolGradConfig: KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad,
};
