/**
 * The ONNX graphs (opset 13) that compute tfjs's NHWC convolutions in ONNX Runtime, whose
 * Conv/ConvTranspose/Gemm are NCHW (MLAS im2col + SGEMM, FMA, its own threads). Filters
 * change every training step, so they are graph inputs and reordered inside the graph
 * (HWIO → OIHW by a Transpose node); the layout transposes of activations cost a few
 * percent of the convolution (measured: 64×32×32×16 3×3, 4.6 ms with both transposes
 * against 4.4 ms for the bare NCHW Conv).
 *
 * Geometry (from tfjs's computeConv2DInfo): input H×W, filter kh×kw, strides sh, sw,
 * dilations dh, dw, padding top/left/bottom/right, output Ho×Wo.
 *
 * Forward:  y = Transpose_NHWC(Conv(Transpose_NCHW(x), Transpose_OIHW(w), b)), then the
 *           activation (Relu, Clip(0, 6), …), which ORT fuses into the Conv.
 * dx:       at stride 1, Conv(dy_NCHW, w flipped in space as [ci, co, kh, kw]) with pads
 *           k − 1 − p; otherwise ConvTranspose(dy_NCHW, w as [co, ci, kh, kw]) with the forward
 *           strides and pads, where floor rounding left the last input rows/columns
 *           unreached, the end pad is 0 and output_padding adds those rows (they get no
 *           gradient: zero).
 * dW:       dW[i, j, ci, co] = Σ_{n,y,x} xPadded[n, y·sh + i, x·sw + j, ci] · dy[n, y, x, co]:
 *           per tap (i, j), one Gemm of the strided Slice of the padded input it sees
 *           ([N·Ho·Wo, ci], transA) with dy ([N·Ho·Wo, co]); the taps' [ci, co] results
 *           concatenated are dW in HWIO order (with one input channel, one im2col Gemm instead).
 *           Large filters on few input channels at stride 1 (LeNet's first 5×5 layer) take a
 *           third way, dW as a convolution (filterGradientAsConv): the 25 Slices and their
 *           Concat cost more there than the product (64×28×28×1, 5×5 into 6: 2.1–2.7 ms
 *           against 0.97–1.09 ms), while on 3×3 filters or more input channels the Gemms stay faster
 *           (64×28×28×1, 3×3 into 32: 0.91 against 1.84 ms; 64×14×14×6, 5×5 into 16: 0.74
 *           against 0.90 ms). The choice depends on the geometry alone, so a seed still gives
 *           the same weights on every run.
 */
import type { OnnxGraph, OnnxNode } from './onnx-model';

export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  top: number;
  bottom: number;
  left: number;
  right: number;
}

export type NativeActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'elu' | 'leakyrelu';

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];
const HWIO_TO_OIHW = [3, 2, 0, 1];

/** ONNX Runtime's output size of a padded strided dilated convolution along one axis. */
export function ortOutputSize(
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padSum: number,
): number {
  return Math.floor((size + padSum - ((kernel - 1) * dilation + 1)) / stride) + 1;
}

/** Whether ONNX Runtime's Conv computes exactly tfjs's output for this geometry. */
export function forwardExpressible(g: ConvGeometry): boolean {
  return (
    Math.min(g.top, g.bottom, g.left, g.right) >= 0 &&
    ortOutputSize(g.inHeight, g.filterHeight, g.strideHeight, g.dilationHeight, g.top + g.bottom) ===
      g.outHeight &&
    ortOutputSize(g.inWidth, g.filterWidth, g.strideWidth, g.dilationWidth, g.left + g.right) === g.outWidth
  );
}

function shapes(g: ConvGeometry) {
  return {
    x: [g.batch, g.inHeight, g.inWidth, g.inChannels],
    w: [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels],
    y: [g.batch, g.outHeight, g.outWidth, g.outChannels],
  };
}

function activationNodes(
  activation: NativeActivation,
  input: string,
  output: string,
  leakyAlpha: number,
): OnnxNode[] {
  switch (activation) {
    case 'linear':
      return [{ op: 'Identity', inputs: [input], outputs: [output] }];
    case 'relu':
      return [{ op: 'Relu', inputs: [input], outputs: [output] }];
    case 'relu6':
      return [{ op: 'Clip', inputs: [input, 'zero', 'six'], outputs: [output] }];
    case 'sigmoid':
      return [{ op: 'Sigmoid', inputs: [input], outputs: [output] }];
    case 'elu':
      return [{ op: 'Elu', inputs: [input], outputs: [output], attributes: { alpha: { float: 1 } } }];
    case 'leakyrelu':
      return [
        { op: 'LeakyRelu', inputs: [input], outputs: [output], attributes: { alpha: { float: leakyAlpha } } },
      ];
  }
}

/** Conv2D / FusedConv2D: inputs x, w (and b when `bias`), output y, all NHWC / HWIO. */
export function forwardGraph(
  g: ConvGeometry,
  bias: boolean,
  activation: NativeActivation = 'linear',
  leakyAlpha = 0.2,
): OnnxGraph {
  const s = shapes(g);
  const inputs = [
    { name: 'x', shape: s.x },
    { name: 'w', shape: s.w },
  ];
  if (bias) inputs.push({ name: 'b', shape: [g.outChannels] });
  return {
    inputs,
    outputs: [{ name: 'y', shape: s.y }],
    floatScalars: activation === 'relu6' ? { zero: 0, six: 6 } : {},
    nodes: [
      { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attributes: { perm: TO_NCHW } },
      { op: 'Transpose', inputs: ['w'], outputs: ['wt'], attributes: { perm: HWIO_TO_OIHW } },
      {
        op: 'Conv',
        inputs: bias ? ['xt', 'wt', 'b'] : ['xt', 'wt'],
        outputs: ['conv'],
        attributes: {
          kernel_shape: [g.filterHeight, g.filterWidth],
          strides: [g.strideHeight, g.strideWidth],
          dilations: [g.dilationHeight, g.dilationWidth],
          pads: [g.top, g.left, g.bottom, g.right],
        },
      },
      ...activationNodes(activation, 'conv', 'act', leakyAlpha),
      { op: 'Transpose', inputs: ['act'], outputs: ['y'], attributes: { perm: TO_NHWC } },
    ],
  };
}

/** End padding and output_padding of the ConvTranspose that gives exactly `size` positions. */
function transposeEnd(size: number, out: number, kernel: number, stride: number, begin: number) {
  const end = stride * (out - 1) + kernel - begin - size;
  return end >= 0 ? { end, extra: 0 } : { end: 0, extra: -end };
}

/** Whether the ConvTranspose of inputGradientGraph expresses this geometry (no dilation; output_padding < stride). */
export function inputGradientExpressible(g: ConvGeometry): boolean {
  if (g.dilationHeight !== 1 || g.dilationWidth !== 1 || !forwardExpressible(g)) return false;
  const rows = transposeEnd(g.inHeight, g.outHeight, g.filterHeight, g.strideHeight, g.top);
  const cols = transposeEnd(g.inWidth, g.outWidth, g.filterWidth, g.strideWidth, g.left);
  return rows.extra < g.strideHeight && cols.extra < g.strideWidth;
}

/** Below this many input channels a stride-1 dx stays on ConvTranspose (see inputGradientGraph). */
const MIN_FLIPPED_CHANNELS = 16;

/**
 * Conv2DBackpropInput: inputs dy, w; output dx. At stride 1 it is a forward convolution of dy
 * with the filter flipped in space and its channel axes swapped (the "full" correlation, pads
 * k − 1 − p), which runs on ORT's Conv: measured here, same process, 64×16×16×32 → 32 3×3:
 * ConvTranspose 8.7 ms, flipped Conv 3.2 ms; 64×28×28×32 → 32: 19.8 → 15.3 ms. Strided
 * convolutions, and pads of k or more (no "full" pad left), use ConvTranspose, and so do
 * gradients into fewer than MIN_FLIPPED_CHANNELS channels, where the Conv's Gemm has that few
 * rows and ConvTranspose's (ci·kh·kw rows) wins: 64×14×14×6 → 16 5×5 valid, ConvTranspose
 * 1.2 ms, flipped Conv 2.8 ms; 64×28×28×1 → 6: 1.1 against 2.1 ms.
 */
export function inputGradientGraph(g: ConvGeometry): OnnxGraph {
  const flippable =
    g.inChannels >= MIN_FLIPPED_CHANNELS &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    Math.max(g.top, g.bottom) < g.filterHeight &&
    Math.max(g.left, g.right) < g.filterWidth;
  return flippable ? flippedInputGradientGraph(g) : transposedInputGradientGraph(g);
}

function flippedInputGradientGraph(g: ConvGeometry): OnnxGraph {
  const s = shapes(g);
  return {
    inputs: [
      { name: 'dy', shape: s.y },
      { name: 'w', shape: s.w },
    ],
    outputs: [{ name: 'dx', shape: s.x }],
    // Slice with step −1 over the two spatial axes of HWIO reverses them.
    int64Initializers: {
      flipStart: [-1, -1],
      flipEnd: [-1 - g.filterHeight, -1 - g.filterWidth],
      flipAxes: [0, 1],
      flipSteps: [-1, -1],
    },
    nodes: [
      { op: 'Transpose', inputs: ['dy'], outputs: ['dyt'], attributes: { perm: TO_NCHW } },
      { op: 'Slice', inputs: ['w', 'flipStart', 'flipEnd', 'flipAxes', 'flipSteps'], outputs: ['wf'] },
      // [kh, kw, ci, co] → [ci, co, kh, kw]: a Conv from co channels to ci.
      { op: 'Transpose', inputs: ['wf'], outputs: ['wt'], attributes: { perm: [2, 3, 0, 1] } },
      {
        op: 'Conv',
        inputs: ['dyt', 'wt'],
        outputs: ['dxt'],
        attributes: {
          kernel_shape: [g.filterHeight, g.filterWidth],
          pads: [
            g.filterHeight - 1 - g.top,
            g.filterWidth - 1 - g.left,
            g.filterHeight - 1 - g.bottom,
            g.filterWidth - 1 - g.right,
          ],
        },
      },
      { op: 'Transpose', inputs: ['dxt'], outputs: ['dx'], attributes: { perm: TO_NHWC } },
    ],
  };
}

function transposedInputGradientGraph(g: ConvGeometry): OnnxGraph {
  const s = shapes(g);
  const rows = transposeEnd(g.inHeight, g.outHeight, g.filterHeight, g.strideHeight, g.top);
  const cols = transposeEnd(g.inWidth, g.outWidth, g.filterWidth, g.strideWidth, g.left);
  return {
    inputs: [
      { name: 'dy', shape: s.y },
      { name: 'w', shape: s.w },
    ],
    outputs: [{ name: 'dx', shape: s.x }],
    nodes: [
      { op: 'Transpose', inputs: ['dy'], outputs: ['dyt'], attributes: { perm: TO_NCHW } },
      // [kh, kw, ci, co] → [co, ci, kh, kw]: ConvTranspose's [C_in, C_out, kh, kw].
      { op: 'Transpose', inputs: ['w'], outputs: ['wt'], attributes: { perm: HWIO_TO_OIHW } },
      {
        op: 'ConvTranspose',
        inputs: ['dyt', 'wt'],
        outputs: ['dxt'],
        attributes: {
          kernel_shape: [g.filterHeight, g.filterWidth],
          strides: [g.strideHeight, g.strideWidth],
          pads: [g.top, g.left, rows.end, cols.end],
          output_padding: [rows.extra, cols.extra],
        },
      },
      { op: 'Transpose', inputs: ['dxt'], outputs: ['dx'], attributes: { perm: TO_NHWC } },
    ],
  };
}

/** Whether filterGradientGraph computes dW as a convolution (see the header). */
export function filterGradientAsConv(g: ConvGeometry): boolean {
  return (
    g.inChannels <= 3 &&
    g.filterHeight * g.filterWidth >= 25 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.dilationHeight === 1 &&
    g.dilationWidth === 1 &&
    Math.min(g.top, g.bottom, g.left, g.right) >= 0 &&
    ortOutputSize(g.inHeight, g.outHeight, 1, 1, g.top + g.bottom) === g.filterHeight &&
    ortOutputSize(g.inWidth, g.outWidth, 1, 1, g.left + g.right) === g.filterWidth
  );
}

/**
 * dW as one Conv: the input seen as ci images of N channels ([ci, N, H, W]), dy as co filters
 * of N channels ([co, N, Ho, Wo]); the result [ci, co, kh, kw] reordered is dW in HWIO.
 */
function filterGradientConvGraph(g: ConvGeometry): OnnxGraph {
  const s = shapes(g);
  return {
    inputs: [
      { name: 'x', shape: s.x },
      { name: 'dy', shape: s.y },
    ],
    outputs: [{ name: 'dw', shape: s.w }],
    nodes: [
      { op: 'Transpose', inputs: ['x'], outputs: ['images'], attributes: { perm: [3, 0, 1, 2] } },
      { op: 'Transpose', inputs: ['dy'], outputs: ['filters'], attributes: { perm: [3, 0, 1, 2] } },
      {
        op: 'Conv',
        inputs: ['images', 'filters'],
        outputs: ['dwt'],
        attributes: {
          kernel_shape: [g.outHeight, g.outWidth],
          strides: [1, 1],
          dilations: [1, 1],
          pads: [g.top, g.left, g.bottom, g.right],
        },
      },
      { op: 'Transpose', inputs: ['dwt'], outputs: ['dw'], attributes: { perm: [2, 3, 0, 1] } },
    ],
  };
}

/**
 * Conv2DBackpropFilter: inputs x, dy; output dw (HWIO). One Gemm per filter tap (i, j):
 * dW[i, j] = tap(i, j)ᵀ · dy, with tap(i, j) the strided Slice of the padded input that the
 * tap sees, as [N·Ho·Wo, ci]; the kh·kw results [ci, co] are concatenated along the first axis,
 * which is HWIO order. Concatenating the taps first into one im2col matrix and running one Gemm
 * computes the same sums but writes and reads the whole im2col once more: measured here, same
 * process, 64×32×32×16 → 16 3×3: 12.9 ms → 5.1 ms; 64×28×28×32 → 32: 17.4 → 12.8 ms; from
 * 3 input channels up it is faster (64×32×32×3 → 16: 2.4 → 1.7 ms). With a single input
 * channel each tap's Gemm has one row, and the im2col Gemm wins (64×28×28×1 → 6 5×5: 3.2
 * against 2.0 ms), so there the taps are concatenated first — unless filterGradientAsConv says
 * one Conv is faster still (that 5×5 geometry among them).
 */
export function filterGradientGraph(g: ConvGeometry): OnnxGraph {
  if (filterGradientAsConv(g)) return filterGradientConvGraph(g);
  const s = shapes(g);
  const rows = g.batch * g.outHeight * g.outWidth;
  const perTap = g.inChannels > 1;
  const nodes: OnnxNode[] = [
    { op: 'Pad', inputs: ['x', 'pads'], outputs: ['xp'] },
    { op: 'Reshape', inputs: ['dy', 'dyShape'], outputs: ['dy2'] },
  ];
  const int64Initializers: Record<string, number[]> = {
    pads: [0, g.top, g.left, 0, 0, g.bottom, g.right, 0],
    axes: [1, 2],
    steps: [g.strideHeight, g.strideWidth],
    // ORT warns about unused initializers: only the one this variant reshapes with.
    ...(perTap
      ? { tapShape: [rows, g.inChannels] }
      : { colsShape: [rows, g.filterHeight * g.filterWidth * g.inChannels] }),
    dyShape: [rows, g.outChannels],
    dwShape: s.w,
  };
  const taps: string[] = [];
  for (let i = 0; i < g.filterHeight; i++) {
    for (let j = 0; j < g.filterWidth; j++) {
      const tap = `tap${i}_${j}`;
      const y0 = i * g.dilationHeight;
      const x0 = j * g.dilationWidth;
      int64Initializers[`${tap}_start`] = [y0, x0];
      int64Initializers[`${tap}_end`] = [
        y0 + (g.outHeight - 1) * g.strideHeight + 1,
        x0 + (g.outWidth - 1) * g.strideWidth + 1,
      ];
      nodes.push({
        op: 'Slice',
        inputs: ['xp', `${tap}_start`, `${tap}_end`, 'axes', 'steps'],
        outputs: [tap],
      });
      if (perTap) {
        nodes.push(
          { op: 'Reshape', inputs: [tap, 'tapShape'], outputs: [`${tap}_cols`] },
          { op: 'Gemm', inputs: [`${tap}_cols`, 'dy2'], outputs: [`${tap}_dw`], attributes: { transA: 1 } },
        );
      }
      taps.push(perTap ? `${tap}_dw` : tap);
    }
  }
  const join = (axis: number, output: string): OnnxNode =>
    taps.length === 1
      ? { op: 'Identity', inputs: taps, outputs: [output] }
      : { op: 'Concat', inputs: taps, outputs: [output], attributes: { axis } };
  if (perTap) {
    nodes.push(join(0, 'dw2'));
  } else {
    nodes.push(
      join(3, 'patches'),
      { op: 'Reshape', inputs: ['patches', 'colsShape'], outputs: ['cols'] },
      { op: 'Gemm', inputs: ['cols', 'dy2'], outputs: ['dw2'], attributes: { transA: 1 } },
    );
  }
  nodes.push({ op: 'Reshape', inputs: ['dw2', 'dwShape'], outputs: ['dw'] });
  return {
    inputs: [
      { name: 'x', shape: s.x },
      { name: 'dy', shape: s.y },
    ],
    outputs: [{ name: 'dw', shape: s.w }],
    nodes,
    int64Initializers,
  };
}
