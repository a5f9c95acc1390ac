/**
 * DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput for the wasm
 * backend (tfjs-backend-wasm 4.22 has neither). A depthwise convolution does little
 * arithmetic per byte, so plain loops straight on the heap are as fast as composing wasm
 * kernels would be, and they handle every stride, dilation, padding and channel multiplier.
 *
 * With channel multiplier M, output channel q = c·M + m reads input channel c, so the
 * filter [kh, kw, C, M] and dy [.., C·M] share one contiguous channel index q per tap.
 */
import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
  backend_util,
} from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import { asWasm, heapF32 } from './wasm-heap';

type Shape4 = [number, number, number, number];

function depthwiseInfo(
  inputShape: Shape4,
  filterShape: Shape4,
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs | DepthwiseConv2dNativeBackpropInputAttrs,
): backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

/**
 * Visits every (output position, tap) pair whose input position lies inside the image,
 * with the offsets of the dy pixel, the input pixel and the filter tap.
 */
function forEachTap(
  info: backend_util.Conv2DInfo,
  visit: (dyOffset: number, xOffset: number, filterOffset: number) => void,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  for (let n = 0; n < batchSize; n++) {
    for (let y = 0; y < outHeight; y++) {
      for (let x = 0; x < outWidth; x++) {
        const dyOffset = ((n * outHeight + y) * outWidth + x) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const iy = y * strideHeight + kh * dilationHeight - padTop;
          if (iy < 0 || iy >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const ix = x * strideWidth + kw * dilationWidth - padLeft;
            if (ix < 0 || ix >= inWidth) continue;
            visit(
              dyOffset,
              ((n * inHeight + iy) * inWidth + ix) * inChannels,
              (kh * filterWidth + kw) * outChannels,
            );
          }
        }
      }
    }
  }
}

const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const $attrs = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = depthwiseInfo(x.shape as Shape4, $attrs.filterShape, $attrs);
  const out = wasm.makeOutput($attrs.filterShape, 'float32');
  const xs = heapF32(wasm, x);
  const dys = heapF32(wasm, dy);
  const dw = heapF32(wasm, out);
  dw.fill(0);
  const channels = info.outChannels;
  const multiplier = channels / info.inChannels;
  forEachTap(info, (dyOffset, xOffset, filterOffset) => {
    if (multiplier === 1) {
      for (let q = 0; q < channels; q++) {
        dw[filterOffset + q]! += (xs[xOffset + q] as number) * (dys[dyOffset + q] as number);
      }
    } else {
      for (let q = 0; q < channels; q++) {
        dw[filterOffset + q]! +=
          (xs[xOffset + Math.floor(q / multiplier)] as number) * (dys[dyOffset + q] as number);
      }
    }
  });
  return out;
};

const depthwiseBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasm(backend);
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const $attrs = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = depthwiseInfo($attrs.inputShape, filter.shape as Shape4, $attrs);
  const out = wasm.makeOutput($attrs.inputShape, 'float32');
  const dys = heapF32(wasm, dy);
  const ws = heapF32(wasm, filter);
  const dx = heapF32(wasm, out);
  dx.fill(0);
  const channels = info.outChannels;
  const multiplier = channels / info.inChannels;
  forEachTap(info, (dyOffset, xOffset, filterOffset) => {
    if (multiplier === 1) {
      for (let q = 0; q < channels; q++) {
        dx[xOffset + q]! += (dys[dyOffset + q] as number) * (ws[filterOffset + q] as number);
      }
    } else {
      for (let q = 0; q < channels; q++) {
        dx[xOffset + Math.floor(q / multiplier)]! +=
          (dys[dyOffset + q] as number) * (ws[filterOffset + q] as number);
      }
    }
  });
  return out;
};

export const depthwiseBackpropFilterConfig: KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter,
};

export const depthwiseBackpropInputConfig: KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput,
};
