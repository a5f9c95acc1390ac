/**
 * A faster Conv2DBackpropInput for the wasm backend. tfjs-backend-wasm 4.22 has one, but it
 * is a scalar loop (about 5× slower than the forward convolution here). The input gradient
 * is the "full" convolution of dy, with zeros inserted between its pixels for strides > 1,
 * with the filter rotated by 180° and its in/out channels swapped; that runs in XNNPACK.
 * Layouts XNNPACK cannot express (NCHW, padding larger than the filter) go to the original.
 */
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import { asWasm, disposeIntermediate, heapF32, insertZerosBetweenPixels, runWasmKernel } from './wasm-heap';

/** [kh, kw, cin, cout] → [kh, kw, cout, cin], rotated by 180° in (kh, kw). */
function flippedTransposedFilter(wasm: ReturnType<typeof asWasm>, filter: TensorInfo): TensorInfo {
  const [kh, kw, cin, cout] = filter.shape as [number, number, number, number];
  const out = wasm.makeOutput([kh, kw, cout, cin], 'float32');
  const src = heapF32(wasm, filter);
  const dst = heapF32(wasm, out);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * cin * cout;
      const to = (i * kw + j) * cout * cin;
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) {
          dst[to + co * cin + ci] = src[from + ci * cout + co] as number;
        }
      }
    }
  }
  return out;
}

export function makeConv2dBackpropInputConfig(original: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const wasm = asWasm(args.backend);
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
      args.attrs as unknown as Conv2DBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      tf.backend_util.convertConv2DDataFormat(dataFormat),
    );
    const { filterHeight, filterWidth, strideHeight, strideWidth, inHeight, inWidth, padInfo } = info;
    const top = filterHeight - 1 - padInfo.top;
    const left = filterWidth - 1 - padInfo.left;
    const spreadHeight = (info.outHeight - 1) * strideHeight + 1;
    const spreadWidth = (info.outWidth - 1) * strideWidth + 1;
    // Chosen so that the "full" convolution comes out exactly inHeight × inWidth.
    const bottom = inHeight - spreadHeight - top + filterHeight - 1;
    const right = inWidth - spreadWidth - left + filterWidth - 1;
    if (info.dataFormat !== 'channelsLast' || Math.min(top, left, bottom, right) < 0) {
      return original(args);
    }
    const strided = strideHeight > 1 || strideWidth > 1;
    const source = strided ? insertZerosBetweenPixels(wasm, dy, strideHeight, strideWidth) : dy;
    const rotated = flippedTransposedFilter(wasm, filter);
    const dx = runWasmKernel(
      wasm,
      tf.Conv2D,
      { x: source, filter: rotated },
      {
        strides: 1,
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
        dilations: 1,
      },
    );
    disposeIntermediate(wasm, rotated);
    if (strided) disposeIntermediate(wasm, source);
    return dx;
  };
  return { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', kernelFunc };
}
