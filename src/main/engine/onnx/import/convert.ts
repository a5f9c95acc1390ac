/**
 * ONNX graph (NCHW) → TF.js Layers model (NHWC). Weights are transposed into Keras order; a
 * Flatten after a conv keeps the NCHW (C, H, W) order it had in ONNX, so the next Gemm's or
 * MatMul's weight rows are permuted from CHW to HWC. Constant subgraphs fold to constants
 * (fold.ts); elementwise ops become standard layers (elementwise.ts); padded and ceil-mode pools
 * are mapped only where exact (pool-geometry.ts).
 */
import { unsupported } from '../../../../shared/errors';
import { tf, tfl, type LayersModel } from '../../tf';
import { affineOf, broadcastProblem, hardSigmoid, hardSwish, layerName, scalarOf } from './elementwise';
import { foldConstant, tensorValue, type Sym, type Value } from './fold';
import { planPool } from './pool-geometry';
import type { OnnxGraph, OnnxNode } from './proto';

export const SUPPORTED_OPS = [
  'Conv',
  'BatchNormalization',
  'Relu',
  'Clip',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'HardSwish',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Concat',
  'Flatten',
  'Reshape',
  'Gemm',
  'MatMul',
  'Pad',
  'Dropout',
  'Identity',
  'Softmax',
  'Constant',
  'Cast',
  'Transpose',
  'Shape',
  'Gather',
  'Unsqueeze',
];

/** Ops whose output is ≥ 0 whatever their input. */
const NON_NEGATIVE_OPS = new Set(['Relu', 'Sigmoid', 'HardSigmoid', 'Softmax']);
/** Ops that keep a ≥ 0 input ≥ 0. */
const SIGN_KEEPING_OPS = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'Pad', 'Flatten']);

class Converter {
  private readonly values = new Map<string, Value>();
  private readonly consumers = new Map<string, OnnxNode[]>();
  /** Add nodes already taken in as a MatMul's bias. */
  private readonly absorbed = new Set<OnnxNode>();

  constructor(
    private readonly graph: OnnxGraph,
    private readonly file: string,
  ) {}

  run(): LayersModel {
    for (const t of this.graph.initializers) this.values.set(t.name, tensorValue(t, this.file));
    for (const node of this.graph.nodes) {
      for (const i of node.inputs) this.consumers.set(i, [...(this.consumers.get(i) ?? []), node]);
    }
    const input = this.graph.inputs.find((i) => !this.values.has(i.name));
    if (!input || input.shape.length !== 4) {
      throw unsupported(this.file, 'only image classifiers with one NCHW input are imported');
    }
    // tf2onnx keeps a Keras model's NHWC input and transposes it to NCHW first.
    const readers = this.consumers.get(input.name) ?? [];
    const toNchw = readers.length === 1 && isPerm(readers[0]!, [0, 3, 1, 2]) ? readers[0] : undefined;
    const [, a = 0, b = 0, c = 0] = input.shape;
    const x = tfl.input({ shape: toNchw ? [a, b, c] : [b, c, a], name: 'input' });
    this.values.set(input.name, { kind: 'sym', t: x });
    if (toNchw) {
      this.absorbed.add(toNchw);
      this.values.set(toNchw.outputs[0] ?? '', { kind: 'sym', t: x });
    }
    for (const node of this.graph.nodes) {
      if (this.absorbed.has(node)) continue;
      this.convert(node);
      this.markSign(node);
    }
    const outName = this.graph.outputs[0]?.name ?? '';
    return tfl.model({ inputs: x, outputs: this.sym(outName) });
  }

  private refuse(node: OnnxNode, why?: string): never {
    throw unsupported(
      this.file,
      why === undefined
        ? `node "${node.name}" (op ${node.opType}) is not supported; supported: ${SUPPORTED_OPS.join(', ')}`
        : `node "${node.name}" (op ${node.opType}) ${why}`,
    );
  }

  private value(name: string): Value {
    const v = this.values.get(name);
    if (!v) throw unsupported(this.file, `tensor "${name}" is used before it is produced`);
    return v;
  }

  private sym(name: string): Sym {
    const v = this.value(name);
    if (v.kind !== 'sym')
      throw unsupported(this.file, `tensor "${name}" is a constant where a layer output is expected`);
    if (v.nhwc)
      throw unsupported(this.file, `tensor "${name}" is transposed to NHWC; only a Flatten may read it`);
    return v.t;
  }

  private weight(name: string | undefined): { dims: number[]; data: Float32Array } {
    const v = name === undefined ? undefined : this.values.get(name);
    if (v?.kind !== 'const') throw unsupported(this.file, `weight "${name ?? ''}" is not a float constant`);
    return v;
  }

  private set(node: OnnxNode, v: Value): void {
    this.values.set(node.outputs[0] ?? '', v);
  }

  private apply(node: OnnxNode, layer: tfl.layers.Layer, input?: Sym | Sym[]): Sym {
    const out = layer.apply(input ?? this.sym(node.inputs[0] ?? '')) as Sym;
    this.set(node, { kind: 'sym', t: out });
    return out;
  }

  /** Records that a node's output is ≥ 0, for the padded max-pool that may follow. */
  private markSign(node: OnnxNode): void {
    const out = this.values.get(node.outputs[0] ?? '');
    if (out?.kind !== 'sym' || out.nonNegative) return;
    const input = this.values.get(node.inputs[0] ?? '');
    const keeps = SIGN_KEEPING_OPS.has(node.opType) && input?.kind === 'sym' && input.nonNegative === true;
    const clipped = node.opType === 'Clip' || (node.opType === 'Concat' && this.allNonNegative(node));
    if (NON_NEGATIVE_OPS.has(node.opType) || keeps || clipped) out.nonNegative = true;
  }

  private allNonNegative(node: OnnxNode): boolean {
    return node.inputs.every((i) => {
      const v = this.values.get(i);
      return v?.kind === 'sym' && v.nonNegative === true;
    });
  }

  private convert(node: OnnxNode): void {
    const f = (n: string, d: number): number => node.attributes.get(n)?.f ?? d;
    switch (node.opType) {
      case 'Identity':
      case 'Dropout':
        return (this.values.set(node.outputs[0] ?? '', this.value(node.inputs[0] ?? '')), undefined);
      case 'Relu':
        return void this.apply(node, tfl.layers.reLU({ name: layerName(node) }));
      case 'Clip':
        return this.clip(node);
      case 'LeakyRelu':
        return void this.apply(
          node,
          tfl.layers.leakyReLU({ alpha: f('alpha', 0.01), name: layerName(node) }),
        );
      case 'Sigmoid':
      case 'Tanh':
      case 'Softmax':
        return void this.apply(
          node,
          tfl.layers.activation({ activation: ACTIVATIONS[node.opType]!, name: layerName(node) }),
        );
      case 'HardSigmoid':
        return this.set(node, {
          kind: 'sym',
          t: hardSigmoid(this.sym(node.inputs[0] ?? ''), f('alpha', 0.2), f('beta', 0.5), layerName(node)),
        });
      case 'HardSwish':
        return this.set(node, { kind: 'sym', t: hardSwish(this.sym(node.inputs[0] ?? ''), layerName(node)) });
      case 'Conv':
        return this.conv(node);
      case 'BatchNormalization':
        return this.batchNorm(node);
      case 'MaxPool':
      case 'AveragePool':
        return this.pool(node);
      case 'GlobalAveragePool':
        return this.globalPool(node);
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div':
        return this.arithmetic(node);
      case 'Concat':
        return this.concat(node);
      case 'Flatten':
      case 'Reshape':
        return this.flatten(node);
      case 'Gemm':
        return this.gemm(node);
      case 'MatMul':
        return this.matmul(node);
      case 'Pad':
        return this.pad(node);
      case 'Transpose':
        return this.transpose(node);
      default: {
        const folded = foldConstant(node, (n) => this.values.get(n), this.file);
        return folded ? this.set(node, folded) : this.refuse(node);
      }
    }
  }

  private clip(node: OnnxNode): void {
    const bound = (i: number): number | undefined =>
      node.inputs[i] ? scalarOf(this.values.get(node.inputs[i] ?? '')) : undefined;
    if (bound(1) !== 0 || bound(2) === undefined) this.refuse(node);
    this.apply(node, tfl.layers.reLU({ maxValue: bound(2), name: layerName(node) }));
  }

  /** ONNX auto_pad: SAME_UPPER is TF's 'same' (any odd pixel after); SAME_LOWER has no Keras form. */
  private autoPad(node: OnnxNode): 'SAME_UPPER' | 'VALID' | undefined {
    const mode = node.attributes.get('auto_pad')?.s ?? 'NOTSET';
    if (mode === 'SAME_UPPER' || mode === 'VALID') return mode;
    if (mode !== 'NOTSET')
      this.refuse(node, `has auto_pad ${mode}; only NOTSET, VALID and SAME_UPPER are supported`);
    return undefined;
  }

  /** Explicit zero padding where the ONNX pads are not Keras 'same' or 'valid' (exact for Conv). */
  private padded(
    node: OnnxNode,
    kernel: number[],
    strides: number[],
  ): { input: Sym; padding: 'same' | 'valid' } {
    const pads = node.attributes.get('pads')?.ints ?? [0, 0, 0, 0];
    const input = this.sym(node.inputs[0] ?? '');
    const auto = this.autoPad(node);
    if (auto) return { input, padding: auto === 'SAME_UPPER' ? 'same' : 'valid' };
    if (pads.every((p) => p === 0)) return { input, padding: 'valid' };
    const same =
      strides.every((s) => s === 1) &&
      kernel.every((k, i) => pads[i] === (k - 1) / 2 && pads[i + 2] === (k - 1) / 2);
    if (same) return { input, padding: 'same' };
    const [t = 0, l = 0, b = 0, r = 0] = pads;
    const layer = tfl.layers.zeroPadding2d({
      padding: [
        [t, b],
        [l, r],
      ],
      name: `${layerName(node)}_pad`,
    });
    return { input: layer.apply(input) as Sym, padding: 'valid' };
  }

  /**
   * Conv: group 1 → Conv2D; group = input channels → DepthwiseConv2D with depth multiplier
   * out / in (ONNX's output channel c·m + j reads input c, the order Keras uses). Other groups
   * have no TF.js layer: they become the equivalent Conv2D whose kernel is zero outside the
   * groups (exact outputs, G× the parameters and MACs of the grouped form).
   */
  private conv(node: OnnxNode): void {
    const w = this.weight(node.inputs[1]);
    const [out = 0, inPerGroup = 0, kh = 0, kw = 0] = w.dims;
    const group = node.attributes.get('group')?.i ?? 1;
    const strides = node.attributes.get('strides')?.ints ?? [1, 1];
    const dilations = node.attributes.get('dilations')?.ints ?? [1, 1];
    if (dilations.some((d) => d !== 1))
      this.refuse(node, `has dilations [${dilations.join(', ')}]; only 1 is supported`);
    const depthwise = group !== 1 && inPerGroup === 1 && out % group === 0;
    if (group !== 1 && out % group !== 0)
      this.refuse(node, `has ${out} output channels, not a multiple of its group ${group}`);
    const bias = node.inputs[2] ? this.weight(node.inputs[2]) : undefined;
    const { input, padding } = this.padded(node, [kh, kw], strides);
    const common = {
      kernelSize: [kh, kw] as [number, number],
      strides: strides as [number, number],
      padding,
      useBias: bias !== undefined,
      name: layerName(node),
    };
    const multiplier = out / group;
    const layer = depthwise
      ? tfl.layers.depthwiseConv2d({ ...common, depthMultiplier: multiplier })
      : tfl.layers.conv2d({ ...common, filters: out });
    this.apply(node, layer, input);
    const k = depthwise
      ? tf.transpose(tf.tensor4d(w.data, [group, multiplier, kh, kw]), [2, 3, 0, 1])
      : tf.transpose(
          tf.tensor4d(blockDiagonal(w.data, out, inPerGroup, group, kh * kw), [
            out,
            inPerGroup * group,
            kh,
            kw,
          ]),
          [2, 3, 1, 0],
        );
    layer.setWeights(bias ? [k, tf.tensor1d(bias.data)] : [k]);
  }

  private batchNorm(node: OnnxNode): void {
    const [scale, b, mean, variance] = node.inputs.slice(1).map((i) => tf.tensor1d(this.weight(i).data));
    const layer = tfl.layers.batchNormalization({
      epsilon: node.attributes.get('epsilon')?.f ?? 1e-5,
      name: layerName(node),
    });
    this.apply(node, layer);
    layer.setWeights([scale, b, mean, variance].filter((t): t is tf.Tensor1D => t !== undefined));
  }

  private pool(node: OnnxNode): void {
    const ints = (n: string, d: number[]): number[] => node.attributes.get(n)?.ints ?? d;
    const kernel = ints('kernel_shape', [1, 1]) as [number, number];
    const strides = ints('strides', [1, 1]) as [number, number];
    const input = this.value(node.inputs[0] ?? '');
    if (input.kind !== 'sym') return this.refuse(node);
    const [, h, w] = input.t.shape;
    if (ints('dilations', [1, 1]).some((d) => d !== 1))
      this.refuse(node, 'has dilations; only 1 is supported');
    const size: [number, number] = [h ?? 0, w ?? 0];
    const auto = this.autoPad(node);
    const plan = planPool({
      op: node.opType as 'MaxPool' | 'AveragePool',
      size,
      kernel,
      strides,
      pads:
        auto === undefined
          ? (ints('pads', [0, 0, 0, 0]) as [number, number, number, number])
          : autoPads(auto, size, kernel, strides),
      ceilMode: (node.attributes.get('ceil_mode')?.i ?? 0) !== 0,
      countIncludePad: (node.attributes.get('count_include_pad')?.i ?? 0) !== 0,
      nonNegative: input.nonNegative === true,
    });
    if ('refused' in plan) return this.refuse(node, `has ${plan.refused}`);
    let x = input.t;
    if (plan.padding === 'zeros') {
      x = tfl.layers.zeroPadding2d({ padding: plan.pads, name: `${layerName(node)}_pad` }).apply(x) as Sym;
    }
    const args = {
      poolSize: kernel,
      strides,
      padding: plan.padding === 'same' ? ('same' as const) : ('valid' as const),
      name: layerName(node),
    };
    const layer =
      node.opType === 'MaxPool' ? tfl.layers.maxPooling2d(args) : tfl.layers.averagePooling2d(args);
    this.apply(node, layer, x);
  }

  /**
   * GlobalAveragePool: [N, C] when only Flatten/Reshape read it; else reshaped to [N, 1, 1, C]
   * (ONNX's [N, C, 1, 1]) for the 1×1 convolutions and the Mul of a squeeze-excite block.
   */
  private globalPool(node: OnnxNode): void {
    const pooled = this.apply(node, tfl.layers.globalAveragePooling2d({ name: layerName(node) }));
    const readers = this.consumers.get(node.outputs[0] ?? '') ?? [];
    if (readers.every((r) => r.opType === 'Flatten' || r.opType === 'Reshape')) return;
    const channels = pooled.shape[1] ?? 0;
    const reshape = tfl.layers.reshape({ targetShape: [1, 1, channels], name: `${layerName(node)}_4d` });
    this.set(node, { kind: 'sym', t: reshape.apply(pooled) as Sym });
  }

  /** Add/Sub/Mul/Div: of two layer outputs (Add, Multiply), or with a scalar (Rescaling). */
  private arithmetic(node: OnnxNode): void {
    const [a, b] = node.inputs.map((i) => this.value(i));
    if (a?.kind === 'sym' && b?.kind === 'sym') {
      if (node.opType !== 'Add' && node.opType !== 'Mul')
        this.refuse(node, 'of two layer outputs is not supported');
      const problem = broadcastProblem(a.t, b.t);
      if (problem) this.refuse(node, `has ${problem}`);
      const args = { name: layerName(node) };
      const layer = node.opType === 'Add' ? tfl.layers.add(args) : tfl.layers.multiply(args);
      return void this.apply(node, layer, [a.t, b.t]);
    }
    const x = a?.kind === 'sym' ? a : b?.kind === 'sym' ? b : undefined;
    const c = scalarOf(x === a ? b : a);
    if (!x) return this.refuse(node, 'of two constants is not supported');
    const affine = c === undefined ? undefined : affineOf(node.opType, c, x === b);
    if (!affine) {
      this.refuse(
        node,
        'with a constant is supported only as x + c, x − c, c − x, x · c or x / c for a scalar c',
      );
    }
    this.apply(node, tfl.layers.rescaling({ ...affine, name: layerName(node) }), x.t);
  }

  /** Constant zero Pad over H and W: ZeroPadding2D (or nothing when every pad is 0). */
  private pad(node: OnnxNode): void {
    const pads = this.values.get(node.inputs[1] ?? '');
    const fill = node.inputs[2] ? this.values.get(node.inputs[2]) : undefined;
    const mode = node.attributes.get('mode')?.s ?? 'constant';
    const zeroFill = fill === undefined || (fill.kind === 'const' && fill.data.every((x) => x === 0));
    if (pads?.kind !== 'ints' || pads.data.length !== 8 || mode !== 'constant' || !zeroFill)
      this.refuse(node);
    const [n0, c0, t = 0, l = 0, n1, c1, b = 0, r = 0] = pads.data;
    if (n0 !== 0 || c0 !== 0 || n1 !== 0 || c1 !== 0) this.refuse(node);
    if ([t, l, b, r].every((p) => p === 0)) return this.set(node, this.value(node.inputs[0] ?? ''));
    const padding: [[number, number], [number, number]] = [
      [t, b],
      [l, r],
    ];
    this.apply(node, tfl.layers.zeroPadding2d({ padding, name: layerName(node) }));
  }

  private concat(node: OnnxNode): void {
    const inputs = node.inputs.map((i) => this.value(i));
    if (inputs.every((v) => v.kind === 'ints')) {
      return this.set(node, { kind: 'ints', data: inputs.flatMap((v) => (v.kind === 'ints' ? v.data : [])) });
    }
    if ((node.attributes.get('axis')?.i ?? 1) !== 1) this.refuse(node);
    this.apply(
      node,
      tfl.layers.concatenate({ axis: -1, name: layerName(node) }),
      node.inputs.map((i) => this.sym(i)),
    );
  }

  /**
   * Transpose of a constant folds; of a feature map, only NCHW → NHWC right before a Flatten or
   * Reshape to 2-D (tf2onnx's Keras Flatten), whose features are then already in Keras's order.
   */
  private transpose(node: OnnxNode): void {
    const v = this.value(node.inputs[0] ?? '');
    if (v.kind !== 'sym') {
      const folded = foldConstant(node, (n) => this.values.get(n), this.file);
      return folded ? this.set(node, folded) : this.refuse(node);
    }
    const readers = this.consumers.get(node.outputs[0] ?? '') ?? [];
    const flattened =
      readers.length > 0 && readers.every((r) => r.opType === 'Flatten' || r.opType === 'Reshape');
    if (!isPerm(node, [0, 2, 3, 1]) || !flattened) {
      this.refuse(
        node,
        'of a feature map is supported only as NCHW → NHWC (perm 0, 2, 3, 1) before a Flatten',
      );
    }
    this.set(node, { kind: 'sym', t: v.t, nhwc: true });
  }

  /** Flatten, or Reshape to [batch, -1]: a 4-D input keeps its CHW order for the next Gemm. */
  private flatten(node: OnnxNode): void {
    const v = this.value(node.inputs[0] ?? '');
    if (node.opType === 'Reshape') {
      const target = this.value(node.inputs[1] ?? '');
      if (target.kind !== 'ints' || target.data.length !== 2) this.refuse(node);
    }
    if (v.kind !== 'sym') return this.refuse(node);
    const shape = v.t.shape;
    if (shape.length === 2) return this.set(node, v);
    const [h = 0, w = 0, c = 0] = shape.slice(1) as number[];
    const out = tfl.layers.flatten({ name: layerName(node) }).apply(v.t) as Sym;
    this.set(node, { kind: 'sym', t: out, chw: h * w === 1 || v.nhwc ? undefined : [c, h, w] });
  }

  /** A Dense layer for x · kernel (+ bias), kernel [in, out] in ONNX's feature order. */
  private dense(node: OnnxNode, v: Value, kernel: tf.Tensor2D, bias: Float32Array | undefined): void {
    if (v.kind !== 'sym' || v.t.shape.length !== 2)
      this.refuse(node, 'is supported only on 2-D features [batch, features]');
    if (v.chw) kernel = permuteRows(kernel, v.chw);
    const layer = tfl.layers.dense({
      units: kernel.shape[1],
      useBias: bias !== undefined,
      name: layerName(node),
    });
    this.apply(node, layer, v.t);
    layer.setWeights(bias ? [kernel, tf.tensor1d(bias)] : [kernel]);
  }

  private gemm(node: OnnxNode): void {
    const w = this.weight(node.inputs[1]);
    const attr = (n: string, d: number): number => node.attributes.get(n)?.i ?? d;
    const scaled = (n: string): boolean => (node.attributes.get(n)?.f ?? 1) !== 1;
    if (attr('transA', 0) !== 0 || scaled('alpha') || (scaled('beta') && node.inputs[2])) {
      this.refuse(node, 'is supported only with transA 0, alpha 1 and beta 1');
    }
    let kernel = tf.tensor2d(w.data, w.dims as [number, number]);
    if (attr('transB', 0) === 1) kernel = tf.transpose(kernel);
    const bias = node.inputs[2] ? this.weight(node.inputs[2]).data : undefined;
    this.dense(node, this.value(node.inputs[0] ?? ''), kernel, bias);
  }

  /**
   * MatMul of features by a constant [in, out] → Dense; an Add of a constant [out] that is the
   * MatMul's only reader becomes its bias (PyTorch's Linear as MatMul + Add, tf2onnx's Dense).
   */
  private matmul(node: OnnxNode): void {
    const w = this.values.get(node.inputs[1] ?? '');
    if (w?.kind !== 'const' || w.dims.length !== 2)
      this.refuse(node, 'is supported only as features times a constant 2-D weight');
    const [, units] = w.dims as [number, number];
    const readers = this.consumers.get(node.outputs[0] ?? '') ?? [];
    const add = readers.length === 1 && readers[0]?.opType === 'Add' ? readers[0] : undefined;
    const other = add?.inputs.find((i) => i !== node.outputs[0]);
    const b = other === undefined ? undefined : this.values.get(other);
    const bias = b?.kind === 'const' && b.data.length === units ? b.data : undefined;
    this.dense(node, this.value(node.inputs[0] ?? ''), tf.tensor2d(w.data, [w.dims[0] ?? 0, units]), bias);
    if (add && bias) {
      this.absorbed.add(add);
      this.set(add, this.value(node.outputs[0] ?? ''));
    }
  }
}

function isPerm(node: OnnxNode, perm: number[]): boolean {
  const p = node.attributes.get('perm')?.ints ?? [];
  return node.opType === 'Transpose' && p.length === perm.length && p.every((d, i) => d === perm[i]);
}

const ACTIVATIONS: Readonly<Record<string, 'sigmoid' | 'tanh' | 'softmax'>> = {
  Sigmoid: 'sigmoid',
  Tanh: 'tanh',
  Softmax: 'softmax',
};

/** The explicit [top, left, bottom, right] pads of auto_pad VALID or SAME_UPPER. */
function autoPads(
  mode: 'SAME_UPPER' | 'VALID',
  size: [number, number],
  kernel: [number, number],
  strides: [number, number],
): [number, number, number, number] {
  if (mode === 'VALID') return [0, 0, 0, 0];
  const total = size.map((n, i) =>
    Math.max((Math.ceil(n / strides[i]!) - 1) * strides[i]! + kernel[i]! - n, 0),
  );
  const before = total.map((t) => Math.floor(t / 2));
  return [before[0]!, before[1]!, total[0]! - before[0]!, total[1]! - before[1]!];
}

/** Dense kernel rows from ONNX's (c, h, w) flatten order to Keras's (h, w, c). */
function permuteRows(kernel: tf.Tensor2D, [c, h, w]: [number, number, number]): tf.Tensor2D {
  const units = kernel.shape[1];
  const chw = tf.reshape(kernel, [c, h, w, units]);
  return tf.reshape(tf.transpose(chw, [1, 2, 0, 3]), [c * h * w, units]);
}

export function onnxGraphToLayers(graph: OnnxGraph, file: string): LayersModel {
  return new Converter(graph, file).run();
}

/**
 * A grouped kernel [out, in/G, k] as the dense kernel [out, in, k] of the same convolution: output
 * channel o (group o ÷ (out/G)) reads only its group's input channels; every other weight is 0.
 */
export function blockDiagonal(
  weights: Float32Array,
  out: number,
  inPerGroup: number,
  group: number,
  taps: number,
): Float32Array {
  if (group === 1) return weights;
  const inputs = inPerGroup * group;
  const dense = new Float32Array(out * inputs * taps);
  const outPerGroup = out / group;
  for (let o = 0; o < out; o++) {
    const first = Math.floor(o / outPerGroup) * inPerGroup;
    for (let i = 0; i < inPerGroup; i++) {
      const from = (o * inPerGroup + i) * taps;
      dense.set(weights.subarray(from, from + taps), (o * inputs + first + i) * taps);
    }
  }
  return dense;
}
