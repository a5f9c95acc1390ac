/**
 * Gradients of Conv2D and DepthwiseConv2dNative that also handle dilation > 1, which
 * tfjs-core 4.22 refuses ("dilation rates greater than 1 are not yet supported in
 * gradients"), on every backend. With dilation d (stride is then 1) the convolution equals
 * an undilated one with the filter spread out by zeros to size (k − 1)·d + 1, so:
 *   dx = the undilated input gradient with the spread filter,
 *   dW = the undilated filter gradient of the spread filter, read at every d-th tap.
 * Dilation 1 keeps tfjs's own gradient unchanged.
 *
 * tfjs-layers runs every Conv2D through `tf.fused.conv2d`. With a linear activation (Keras's
 * default, e.g. Conv2D → BatchNorm → ReLU) the fused op keeps its own gradient, which refuses
 * dilation and cannot be replaced. So a dilated Conv2D layer computes its output with the plain
 * ops instead (conv2d, add, then its activation): the same numbers, and gradients from above.
 */
import type {
  Conv2DAttrs,
  DepthwiseConv2dNativeAttrs,
  GradConfig,
  Tensor,
  Tensor4D,
} from '@tensorflow/tfjs-core';
import { tf } from '../tf';

type Pair = [number, number];

function pair(value: Pair | number | undefined | null): Pair {
  if (value === undefined || value === null) return [1, 1];
  return typeof value === 'number' ? [value, value] : value;
}

function spreadShape([kh, kw, a, b]: number[], [dh, dw]: Pair): [number, number, number, number] {
  return [((kh as number) - 1) * dh + 1, ((kw as number) - 1) * dw + 1, a as number, b as number];
}

/**
 * [kh, kw, a, b] → [(kh − 1)·dh + 1, (kw − 1)·dw + 1, a, b] with zeros between the taps.
 * Rows, then columns, each with a rank-4 pad (the webgpu backend's Pad handles rank ≤ 4).
 */
export function spreadFilter(filter: Tensor4D, [dh, dw]: Pair): Tensor4D {
  const [kh, kw, a, b] = filter.shape;
  const rows = tf.pad(tf.reshape(filter, [kh, 1, kw, a * b]), [
    [0, 0],
    [0, dh - 1],
    [0, 0],
    [0, 0],
  ]);
  const spaced = tf.pad(tf.reshape(rows, [kh * dh, kw, 1, a * b]), [
    [0, 0],
    [0, 0],
    [0, dw - 1],
    [0, 0],
  ]);
  return tf.slice(
    tf.reshape(spaced, [kh * dh, kw * dw, a, b]) as Tensor4D,
    [0, 0, 0, 0],
    spreadShape(filter.shape, [dh, dw]),
  );
}

function everyDthTap(spreadGradient: Tensor, [dh, dw]: Pair): Tensor {
  return tf.stridedSlice(spreadGradient, [0, 0, 0, 0], spreadGradient.shape, [dh, dw, 1, 1]);
}

function runKernel(kernelName: string, inputs: Record<string, Tensor>, attrs: object): Tensor {
  return tf.engine().runKernel(kernelName, inputs, attrs as never) as Tensor;
}

function dilatedConv2dGradient(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const { dilations, strides, pad, dataFormat, dimRoundingMode } = attrs as unknown as Conv2DAttrs;
      const rate = pair(dilations);
      if (rate[0] === 1 && rate[1] === 1) return original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [Tensor4D, Tensor4D];
      const common = { strides, pad, dataFormat, dimRoundingMode };
      return {
        x: () =>
          runKernel(
            tf.Conv2DBackpropInput,
            { dy: dy as Tensor, filter: spreadFilter(filter, rate) },
            { ...common, inputShape: x.shape },
          ),
        filter: () =>
          everyDthTap(
            runKernel(
              tf.Conv2DBackpropFilter,
              { x, dy: dy as Tensor },
              { ...common, filterShape: spreadShape(filter.shape, rate) },
            ),
            rate,
          ),
      };
    },
  };
}

function dilatedDepthwiseGradient(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const { dilations, strides, pad, dimRoundingMode } = attrs as unknown as DepthwiseConv2dNativeAttrs;
      const rate = pair(dilations);
      if (rate[0] === 1 && rate[1] === 1) return original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [Tensor4D, Tensor4D];
      // The backends' depthwise gradient kernels get dilation 1 and the spread filter: the
      // cpu kernels accept a dilation attribute but ignore it in their loops.
      const common = { strides, pad, dimRoundingMode, dilations: 1 };
      return {
        x: () =>
          runKernel(
            tf.DepthwiseConv2dNativeBackpropInput,
            { dy: dy as Tensor, filter: spreadFilter(filter, rate) },
            { ...common, inputShape: x.shape },
          ),
        filter: () =>
          everyDthTap(
            runKernel(
              tf.DepthwiseConv2dNativeBackpropFilter,
              { x, dy: dy as Tensor },
              { ...common, filterShape: spreadShape(filter.shape, rate) },
            ),
            rate,
          ),
      };
    },
  };
}

const installed = new Map<string, GradConfig>();

/** The fields of tfjs-layers' Conv2D that its `call` reads. */
interface Conv2DLayer {
  dilationRate: Pair;
  strides: Pair;
  padding: string;
  dataFormat: string;
  kernel: { read(): Tensor };
  bias?: { read(): Tensor } | null;
  activation?: { apply(x: Tensor): Tensor } | null;
}
type LayerCall = (this: Conv2DLayer, inputs: Tensor | Tensor[], kwargs: unknown) => Tensor;
let layerPatched = false;

/** Dilated Conv2D layers compute with plain, differentiable ops (see the header). */
function patchDilatedConv2dLayer(): void {
  if (layerPatched) return;
  // The class as tfjs-layers registered it for deserialization (building a layer to reach its
  // prototype would take a name from tfjs's counter).
  const registered = tf.serialization.SerializationMap.getMap().classNameMap.Conv2D;
  if (registered === undefined) throw new Error('tfjs-layers registered no Conv2D class');
  const prototype = (registered[0] as unknown as { prototype: { call: LayerCall } }).prototype;
  const fused = prototype.call;
  prototype.call = function (this: Conv2DLayer, inputs, kwargs) {
    const [dh, dw] = pair(this.dilationRate);
    if ((dh === 1 && dw === 1) || this.dataFormat === 'channelsFirst')
      return fused.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as Tensor4D;
      const pad = this.padding === 'same' ? 'same' : 'valid';
      let y: Tensor = tf.conv2d(x, this.kernel.read() as Tensor4D, this.strides, pad, 'NHWC', [dh, dw]);
      if (this.bias) y = tf.add(y, this.bias.read());
      return this.activation ? this.activation.apply(y) : y;
    });
  };
  layerPatched = true;
}

/** Installs the dilation-aware gradients (idempotent, process-wide, every backend). */
export function registerDilatedConvGradients(): void {
  patchDilatedConv2dLayer();
  for (const [kernelName, wrap] of [
    [tf.Conv2D, dilatedConv2dGradient],
    [tf.DepthwiseConv2dNative, dilatedDepthwiseGradient],
  ] as const) {
    const current = tf.getGradient(kernelName);
    if (current !== undefined && current === installed.get(kernelName)) continue;
    if (current === undefined) throw new Error(`tfjs-core registered no gradient for ${kernelName}`);
    const config = wrap(current);
    tf.registerGradient(config);
    installed.set(kernelName, config);
  }
}
