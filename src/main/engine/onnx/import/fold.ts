/**
 * The values of an ONNX graph while it is converted, and the constant folding: Constant, Cast,
 * Transpose of a constant, and shape arithmetic (Shape → Gather → Unsqueeze → Concat) become
 * constants, so the layers that read them (Reshape, Clip, Pad, MatMul, Mul, …) see numbers.
 */
import type { tfl } from '../../tf';
import type { OnnxNode, OnnxTensor } from './proto';
import { DATA_TYPE } from './proto';
import { floatValues, intValues } from './tensor-data';

export type Sym = tfl.SymbolicTensor;

/** A value in the graph: a layer output (4-D NHWC or 2-D) or a folded constant. */
export type Value =
  | {
      kind: 'sym';
      t: Sym;
      /** Flattened NCHW features: in ONNX's (C, H, W) order, which the next Gemm/MatMul undoes. */
      chw?: [number, number, number];
      /** ≥ 0 by construction (Relu, Clip(0, …), Sigmoid, HardSigmoid, or pools of those). */
      nonNegative?: boolean;
      /** A feature map transposed to NHWC (tf2onnx before a Flatten): its flatten is Keras's order. */
      nhwc?: boolean;
    }
  | { kind: 'const'; dims: number[]; data: Float32Array }
  | { kind: 'ints'; data: number[] };

export function tensorValue(t: OnnxTensor, file: string): Value {
  return t.dataType === DATA_TYPE.FLOAT
    ? { kind: 'const', dims: t.dims, data: floatValues(t, file) }
    : { kind: 'ints', data: intValues(t, file) };
}

/** ONNX Cast of a constant: to float, or to an integer type. */
function cast(v: Value, to: number): Value | undefined {
  if (to === DATA_TYPE.FLOAT) {
    if (v.kind === 'const') return v;
    if (v.kind === 'ints') return { kind: 'const', dims: [v.data.length], data: Float32Array.from(v.data) };
  }
  if ((to === DATA_TYPE.INT64 || to === DATA_TYPE.INT32) && v.kind !== 'sym') {
    return v.kind === 'ints' ? v : { kind: 'ints', data: Array.from(v.data, Math.trunc) };
  }
  return undefined;
}

/**
 * A constant's values with its axes permuted, in plain JavaScript: constants are small, and
 * reading a tensor back synchronously fails on a GPU backend in Node.
 */
export function transposeValues(
  data: Float32Array,
  dims: readonly number[],
  order: readonly number[],
): Float32Array {
  const rank = dims.length;
  const outDims = order.map((axis) => dims[axis]!);
  const inStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * dims[i + 1]!;
  // The input stride each output axis walks.
  const walk = order.map((axis) => inStrides[axis]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let from = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[from]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]! += 1;
      from += walk[axis]!;
      if (index[axis]! < outDims[axis]!) break;
      from -= walk[axis]! * outDims[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

function transpose(v: Value, perm: number[] | undefined): Value | undefined {
  if (v.kind !== 'const') return undefined;
  const order = perm && perm.length > 0 ? perm : v.dims.map((_, i) => v.dims.length - 1 - i);
  return {
    kind: 'const',
    dims: order.map((axis) => v.dims[axis]!),
    data: transposeValues(v.data, v.dims, order),
  };
}

/** NCHW shape of a layer output (NHWC inside) as ONNX's Shape returns it. */
function shapeOf(v: Value): Value | undefined {
  if (v.kind !== 'sym') return undefined;
  const s = v.t.shape.map((d) => d ?? -1);
  return { kind: 'ints', data: s.length === 4 ? [s[0] ?? -1, s[3] ?? -1, s[1] ?? -1, s[2] ?? -1] : s };
}

/**
 * The folded value of a Constant, Cast, Transpose, Shape, Gather or Unsqueeze node, or
 * undefined where its inputs are not constants (the caller refuses the node).
 */
export function foldConstant(
  node: OnnxNode,
  get: (name: string) => Value | undefined,
  file: string,
): Value | undefined {
  const v = node.inputs[0] === undefined ? undefined : get(node.inputs[0]);
  const attr = node.attributes;
  switch (node.opType) {
    case 'Constant': {
      const t = attr.get('value')?.t;
      return t ? tensorValue(t, file) : undefined;
    }
    case 'Cast':
      return v ? cast(v, attr.get('to')?.i ?? 0) : undefined;
    case 'Transpose':
      return v ? transpose(v, attr.get('perm')?.ints) : undefined;
    case 'Shape':
      return v ? shapeOf(v) : undefined;
    case 'Gather': {
      const index = get(node.inputs[1] ?? '');
      if (v?.kind !== 'ints' || index?.kind !== 'ints') return undefined;
      return { kind: 'ints', data: index.data.map((i) => v.data[i] ?? -1) };
    }
    case 'Unsqueeze':
      return v?.kind === 'ints' ? v : undefined;
    default:
      return undefined;
  }
}
