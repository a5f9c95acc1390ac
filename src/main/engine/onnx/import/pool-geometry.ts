/**
 * How an ONNX MaxPool/AveragePool with pads or ceil_mode maps onto TF.js pooling, exactly or not
 * at all. TF.js pools pad only as 'same' (padding ignored: left out of a maximum and of an
 * average's count) or through an explicit ZeroPadding2D before a 'valid' pool (zeros that take
 * part in the maximum and in the average's count).
 *
 * Per spatial axis of size n, kernel k, stride s and ONNX pads (b, e):
 *  - ONNX's output is floor((n + b + e − k)/s) + 1, or ceil(…) + 1 with ceil_mode, less one when
 *    that last window would start past the input and the leading pad (PyTorch's rule);
 *  - 'same' is exact when its output ceil(n/s) and leading pad floor(total/2) are ONNX's, for a
 *    max-pool and for an average that leaves padding out of its count (count_include_pad 0);
 *  - zero padding is exact for an average that counts padding (count_include_pad 1) and for a
 *    max-pool whose input is provably ≥ 0 (it follows a Relu, Clip(0, …) or sigmoid; every
 *    window holds at least one real value, which is ≥ 0 = the pad), when no ceil-mode window
 *    reaches beyond the padded input.
 * Anything else is refused with the reason.
 */

export interface PoolRequest {
  op: 'MaxPool' | 'AveragePool';
  /** Input [height, width]. */
  size: [number, number];
  kernel: [number, number];
  strides: [number, number];
  /** ONNX order: [top, left, bottom, right]. */
  pads: [number, number, number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
  /** The input is ≥ 0 by construction (Relu, Clip(0, …), Sigmoid, HardSigmoid before it). */
  nonNegative: boolean;
}

export type PoolPlan =
  | { padding: 'valid' }
  | { padding: 'same' }
  | { padding: 'zeros'; pads: [[number, number], [number, number]] }
  | { refused: string };

interface Axis {
  n: number;
  k: number;
  s: number;
  before: number;
  after: number;
}

/** ONNX's (and PyTorch's) output size along one axis. */
export function onnxPoolOutput(a: Axis, ceilMode: boolean): number {
  const span = a.n + a.before + a.after - a.k;
  let out = (ceilMode ? Math.ceil(span / a.s) : Math.floor(span / a.s)) + 1;
  if (ceilMode && (out - 1) * a.s >= a.n + a.before) out -= 1;
  return out;
}

/** TF's 'same' along one axis: output size and leading pad. */
function same(a: Axis): { out: number; before: number } {
  const out = Math.ceil(a.n / a.s);
  const total = Math.max((out - 1) * a.s + a.k - a.n, 0);
  return { out, before: Math.floor(total / 2) };
}

function axes(r: PoolRequest): [Axis, Axis] {
  const [t, l, b, rt] = r.pads;
  return [
    { n: r.size[0], k: r.kernel[0], s: r.strides[0], before: t, after: b },
    { n: r.size[1], k: r.kernel[1], s: r.strides[1], before: l, after: rt },
  ];
}

export function planPool(r: PoolRequest): PoolPlan {
  const both = axes(r);
  const outs = both.map((a) => onnxPoolOutput(a, r.ceilMode));
  const floorOuts = both.map((a) => onnxPoolOutput(a, false));
  const noCeilEffect = outs.every((o, i) => o === floorOuts[i]);
  if (r.pads.every((p) => p === 0) && noCeilEffect) return { padding: 'valid' };
  const sameFits = both.every((a, i) => {
    const s = same(a);
    return s.out === outs[i] && s.before === a.before;
  });
  // 'same' leaves padding out; for an average that counts it, only when there is none in use.
  const sameExact = r.op === 'MaxPool' || !r.countIncludePad;
  if (sameFits && sameExact) return { padding: 'same' };
  const zerosExact = r.op === 'MaxPool' ? r.nonNegative : r.countIncludePad;
  if (zerosExact && noCeilEffect) {
    const [t, l, b, rt] = r.pads;
    return {
      padding: 'zeros',
      pads: [
        [t, b],
        [l, rt],
      ],
    };
  }
  return { refused: refusal(r, outs) };
}

function refusal(r: PoolRequest, outs: number[]): string {
  const where = `pads [${r.pads.join(', ')}]${r.ceilMode ? ', ceil_mode 1' : ''} on a ${r.size[0]}×${r.size[1]} input (output ${outs.join('×')})`;
  const sameNote = "TF.js's 'same' padding would place the windows differently";
  if (r.op === 'MaxPool') {
    return `${where}: ${sameNote}, and zero padding would change the maximum of negative inputs (only taken after Relu, Clip(0, …) or a sigmoid)${r.ceilMode ? ' or of a ceil-mode window past the padding' : ''}`;
  }
  return r.countIncludePad
    ? `${where}: ${sameNote}, and a ceil-mode window past the padding has no TF.js equivalent`
    : `${where}: ${sameNote}, and zero padding would count the pads in the average (count_include_pad 0)`;
}
