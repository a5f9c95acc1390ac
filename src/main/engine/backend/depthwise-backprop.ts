/**
 * DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput for the wasm
 * backend (tfjs-backend-wasm 4.22 has neither), for every stride, dilation, padding and
 * channel multiplier. The input gradient is a depthwise convolution run by XNNPACK; the
 * filter gradient (a per-channel correlation no wasm kernel expresses) is a loop on the heap.
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
import {
  asWasm,
  disposeIntermediate,
  heapF32,
  insertZerosBetweenPixels,
  runWasmKernel,
  withShape,
} from './wasm-heap';

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
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const multiplier = outChannels / inChannels;
  // Summed in doubles: one rounding per filter value instead of one per product. The
  // innermost loop runs along an output row with the (tap, channel) fixed, so its sum stays
  // in a register (about twice as fast as updating the sums per channel).
  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  const xs = heapF32(wasm, x);
  const dys = heapF32(wasm, dy);
  const xStep = strideWidth * inChannels;
  for (let n = 0; n < batchSize; n++) {
    for (let y = 0; y < outHeight; y++) {
      const dyRow = (n * outHeight + y) * outWidth * outChannels;
      for (let kh = 0; kh < filterHeight; kh++) {
        const iy = y * strideHeight + kh * dilationHeight - padTop;
        if (iy < 0 || iy >= inHeight) continue;
        const xRow = (n * inHeight + iy) * inWidth;
        for (let kw = 0; kw < filterWidth; kw++) {
          const shift = kw * dilationWidth - padLeft;
          // Output columns whose input column ox·s + shift lies inside the image.
          const first = Math.max(0, Math.ceil(-shift / strideWidth));
          const end = Math.min(outWidth, Math.floor((inWidth - 1 - shift) / strideWidth) + 1);
          if (first >= end) continue;
          const tap = (kh * filterWidth + kw) * outChannels;
          const xStart = (xRow + first * strideWidth + shift) * inChannels;
          const dyStart = dyRow + first * outChannels;
          for (let q = 0; q < outChannels; q++) {
            let sum = 0;
            let xi = xStart + ((q / multiplier) | 0);
            let di = dyStart + q;
            for (let ox = first; ox < end; ox++, xi += xStep, di += outChannels) {
              sum += (xs[xi] as number) * (dys[di] as number);
            }
            sums[tap + q]! += sum;
          }
        }
      }
    }
  }
  return wasm.makeOutput($attrs.filterShape, 'float32', undefined, Float32Array.from(sums));
};

/** The input gradient by direct loops; for paddings XNNPACK cannot express. */
const depthwiseBackpropInputLoops: KernelFunc = ({ inputs, backend, attrs }) => {
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

/** [kh, kw, C, M] → [kh, kw, C·M, 1], rotated by 180° in (kh, kw). */
function rotatedAsDepthwise(wasm: ReturnType<typeof asWasm>, filter: TensorInfo): TensorInfo {
  const [kh, kw, c, m] = filter.shape as Shape4;
  const channels = c * m;
  const out = wasm.makeOutput([kh, kw, channels, 1], 'float32');
  const src = heapF32(wasm, filter);
  const dst = heapF32(wasm, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * channels;
      dst.set(src.subarray(from, from + channels), (i * kw + j) * channels);
    }
  }
  return out;
}

/**
 * The input gradient as a depthwise convolution in XNNPACK: dy (zeros inserted between
 * pixels for strides > 1) with the rotated filter, "full" padding, the forward dilation;
 * with channel multiplier M the M results of each input channel are then summed.
 */
const depthwiseBackpropInput: KernelFunc = (args) => {
  const wasm = asWasm(args.backend);
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const $attrs = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = depthwiseInfo($attrs.inputShape, filter.shape as Shape4, $attrs);
  const { inHeight, inWidth, inChannels, outChannels, strideHeight, strideWidth, padInfo } = info;
  const { effectiveFilterHeight, effectiveFilterWidth } = info;
  const top = effectiveFilterHeight - 1 - padInfo.top;
  const left = effectiveFilterWidth - 1 - padInfo.left;
  const bottom = inHeight - ((info.outHeight - 1) * strideHeight + 1) - top + effectiveFilterHeight - 1;
  const right = inWidth - ((info.outWidth - 1) * strideWidth + 1) - left + effectiveFilterWidth - 1;
  if (Math.min(top, left, bottom, right) < 0) return depthwiseBackpropInputLoops(args);

  const strided = strideHeight > 1 || strideWidth > 1;
  const source = strided ? insertZerosBetweenPixels(wasm, dy, strideHeight, strideWidth) : dy;
  const rotated = rotatedAsDepthwise(wasm, filter);
  const perOutputChannel = runWasmKernel(
    wasm,
    tf.DepthwiseConv2dNative,
    { x: source, filter: rotated },
    {
      strides: 1,
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dilations: [info.dilationHeight, info.dilationWidth],
      dataFormat: 'NHWC',
    },
  );
  disposeIntermediate(wasm, rotated);
  if (strided) disposeIntermediate(wasm, source);
  if (outChannels === inChannels) return perOutputChannel;
  const multiplier = outChannels / inChannels;
  const [n, h, w] = perOutputChannel.shape as Shape4;
  const dx = runWasmKernel(
    wasm,
    tf.Sum,
    { x: withShape(perOutputChannel, [n, h, w, inChannels, multiplier]) },
    { axis: [4], keepDims: false },
  );
  disposeIntermediate(wasm, perOutputChannel);
  return dx;
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
