/**
 * A faster Conv2DBackpropInput for the wasm backend. tfjs-backend-wasm 4.22 has one, but it
 * is a scalar loop (several times slower than the forward convolution here). The input
 * gradient is a "full" convolution of dy with the filter rotated by 180° and its in/out
 * channels swapped, which runs in XNNPACK. With stride s it splits into s×s phases (input
 * pixels whose position ≡ r mod s) that each see only the filter taps ≡ r mod s, so every
 * phase is an ordinary stride-1 convolution and no multiply is wasted on inserted zeros.
 * Layouts XNNPACK cannot express (NCHW, padding larger than the filter) go to the original.
 */
import type { Conv2DBackpropInputAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { tf } from '../tf';
import { asWasm, disposeIntermediate, heapF32, runWasmKernel } from './wasm-heap';

/** One phase along one axis: input positions first, first + s, …, and the taps they see. */
interface AxisPhase {
  /** Filter taps r, r + s, … that reach these input positions. */
  firstTap: number;
  taps: number;
  /** The first input position of the phase and how many there are. */
  first: number;
  count: number;
  /** dy padding that makes the stride-1 convolution produce exactly these positions. */
  before: number;
  after: number;
}

function axisPhase(
  r: number,
  stride: number,
  size: number,
  pad: number,
  inSize: number,
  outSize: number,
): AxisPhase {
  const taps = r < size ? Math.ceil((size - r) / stride) : 0;
  const first = (((r - pad) % stride) + stride) % stride;
  const count = first < inSize ? Math.ceil((inSize - first) / stride) : 0;
  // Input position first + s·j receives dy[u − t]·W[r + s·t] with u = (first + pad − r)/s + j.
  const firstU = (first + pad - r) / stride;
  const before = taps - 1 - firstU;
  const after = count - outSize - before + taps - 1;
  return { firstTap: r, taps, first, count, before, after };
}

function isEmpty(phase: AxisPhase): boolean {
  return phase.taps === 0 || phase.count === 0;
}

/** The phase's taps of [kh, kw, cin, cout], rotated by 180° and transposed to [.., cout, cin]. */
function phaseFilter(
  wasm: BackendWasm,
  filter: TensorInfo,
  rows: AxisPhase,
  cols: AxisPhase,
  strideHeight: number,
  strideWidth: number,
): TensorInfo {
  const [, kw, cin, cout] = filter.shape as [number, number, number, number];
  const out = wasm.makeOutput([rows.taps, cols.taps, cout, cin], 'float32');
  const src = heapF32(wasm, filter);
  const dst = heapF32(wasm, out);
  for (let i = 0; i < rows.taps; i++) {
    const kh = rows.firstTap + strideHeight * (rows.taps - 1 - i);
    for (let j = 0; j < cols.taps; j++) {
      const from = (kh * kw + cols.firstTap + strideWidth * (cols.taps - 1 - j)) * cin * cout;
      const to = (i * cols.taps + j) * cout * cin;
      for (let ci = 0; ci < cin; ci++) {
        for (let co = 0; co < cout; co++) {
          dst[to + co * cin + ci] = src[from + ci * cout + co] as number;
        }
      }
    }
  }
  return out;
}

function phaseGradient(
  wasm: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  rows: AxisPhase,
  cols: AxisPhase,
  strides: [number, number],
): TensorInfo {
  const subFilter = phaseFilter(wasm, filter, rows, cols, strides[0], strides[1]);
  const part = runWasmKernel(
    wasm,
    tf.Conv2D,
    { x: dy, filter: subFilter },
    {
      strides: 1,
      pad: [
        [0, 0],
        [rows.before, rows.after],
        [cols.before, cols.after],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: 1,
    },
  );
  disposeIntermediate(wasm, subFilter);
  return part;
}

/** Writes part [n, rows.count, cols.count, c] to dx at rows first + s·j, columns first + s·k. */
function scatterPhase(
  wasm: BackendWasm,
  dx: TensorInfo,
  part: TensorInfo,
  rows: AxisPhase,
  cols: AxisPhase,
  strides: [number, number],
): void {
  const [batch, height, width, channels] = dx.shape as [number, number, number, number];
  const src = heapF32(wasm, part);
  const dst = heapF32(wasm, dx);
  let from = 0;
  for (let n = 0; n < batch; n++) {
    for (let j = 0; j < rows.count; j++) {
      const row = (n * height + rows.first + strides[0] * j) * width;
      for (let k = 0; k < cols.count; k++) {
        let to = (row + cols.first + strides[1] * k) * channels;
        for (let c = 0; c < channels; c++) dst[to++] = src[from++] as number;
      }
    }
  }
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
    if (info.dataFormat !== 'channelsLast') return original(args);
    const stride: [number, number] = [info.strideHeight, info.strideWidth];
    const rowPhases = Array.from({ length: stride[0] }, (_, r) =>
      axisPhase(r, stride[0], info.filterHeight, info.padInfo.top, info.inHeight, info.outHeight),
    );
    const colPhases = Array.from({ length: stride[1] }, (_, r) =>
      axisPhase(r, stride[1], info.filterWidth, info.padInfo.left, info.inWidth, info.outWidth),
    );
    const unexpressible = (phase: AxisPhase) => !isEmpty(phase) && Math.min(phase.before, phase.after) < 0;
    if (rowPhases.some(unexpressible) || colPhases.some(unexpressible)) return original(args);

    if (stride[0] === 1 && stride[1] === 1) {
      return phaseGradient(wasm, dy, filter, rowPhases[0] as AxisPhase, colPhases[0] as AxisPhase, stride);
    }
    const dx = wasm.makeOutput(inputShape, 'float32');
    // Positions no tap reaches (a filter smaller than the stride) keep a zero gradient.
    heapF32(wasm, dx).fill(0);
    for (const rows of rowPhases) {
      if (isEmpty(rows)) continue;
      for (const cols of colPhases) {
        if (isEmpty(cols)) continue;
        const part = phaseGradient(wasm, dy, filter, rows, cols, stride);
        scatterPhase(wasm, dx, part, rows, cols, stride);
        disposeIntermediate(wasm, part);
      }
    }
    return dx;
  };
  return { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm', kernelFunc };
}
