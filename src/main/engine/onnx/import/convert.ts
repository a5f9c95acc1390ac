/**
 * ONNX graph (NCHW) → TF.js Layers model (NHWC). Weights are transposed into Keras order; a
 * Flatten after a conv keeps the NCHW (C, H, W) order it had in ONNX, so the next Gemm's weight
 * rows are permuted from CHW to HWC. Constant subgraphs (Shape → Gather → Unsqueeze → Concat)
 * fold to constants.
 */
import { unsupported } from '../../../../shared/errors';
import { tf, tfl, type LayersModel } from '../../tf';
import type { OnnxAttribute, OnnxGraph, OnnxNode } from './proto';
import { floatValues, intValues } from './tensor-data';

type Sym = tfl.SymbolicTensor;
/** A value in the graph: a layer output (4-D NHWC or 2-D) or a folded constant. */
type Value =
  | { kind: 'sym'; t: Sym; chw?: [number, number, number] }
  | { kind: 'const'; dims: number[]; data: Float32Array }
  | { kind: 'ints'; data: number[] };

export const SUPPORTED_OPS = [
  'Conv',
  'BatchNormalization',
  'Relu',
  'Clip',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Add',
  'Concat',
  'Flatten',
  'Reshape',
  'Gemm',
  'Pad',
  'Dropout',
  'Identity',
  'Softmax',
  'Constant',
  'Shape',
  'Gather',
  'Unsqueeze',
];

class Converter {
  private readonly values = new Map<string, Value>();
  constructor(
    private readonly graph: OnnxGraph,
    private readonly file: string,
  ) {}

  run(): LayersModel {
    for (const t of this.graph.initializers) {
      this.values.set(
        t.name,
        t.dataType === 1
          ? { kind: 'const', dims: t.dims, data: floatValues(t, this.file) }
          : { kind: 'ints', data: intValues(t, this.file) },
      );
    }
    const input = this.graph.inputs.find((i) => !this.values.has(i.name));
    if (!input || input.shape.length !== 4) {
      throw unsupported(this.file, 'only image classifiers with one NCHW input are imported');
    }
    const [, c, h, w] = input.shape;
    const x = tfl.input({ shape: [h ?? 0, w ?? 0, c ?? 0], name: 'input' });
    this.values.set(input.name, { kind: 'sym', t: x });
    for (const node of this.graph.nodes) this.convert(node);
    const outName = this.graph.outputs[0]?.name ?? '';
    return tfl.model({ inputs: x, outputs: this.sym(outName) });
  }

  private refuse(node: OnnxNode): never {
    throw unsupported(
      this.file,
      `node "${node.name}" (op ${node.opType}) is not supported; supported: ${SUPPORTED_OPS.join(', ')}`,
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

  private convert(node: OnnxNode): void {
    const a = (n: string): OnnxAttribute | undefined => node.attributes.get(n);
    const first = node.inputs[0] ?? '';
    switch (node.opType) {
      case 'Identity':
      case 'Dropout':
        return (this.values.set(node.outputs[0] ?? '', this.value(first)), undefined);
      case 'Relu':
        return void this.apply(node, tfl.layers.reLU({ name: layerName(node) }));
      case 'Clip':
        return this.clip(node);
      case 'LeakyRelu':
        return void this.apply(
          node,
          tfl.layers.leakyReLU({ alpha: a('alpha')?.f ?? 0.01, name: layerName(node) }),
        );
      case 'Sigmoid':
      case 'Tanh':
      case 'Softmax':
        return void this.apply(
          node,
          tfl.layers.activation({
            activation: node.opType === 'Sigmoid' ? 'sigmoid' : node.opType === 'Tanh' ? 'tanh' : 'softmax',
            name: layerName(node),
          }),
        );
      case 'HardSigmoid': {
        // TF.js's hard sigmoid is fixed at max(0, min(1, 0.2·x + 0.5)), ONNX's default; PyTorch's
        // nn.Hardsigmoid exports alpha 1/6, which it cannot express.
        const alpha = a('alpha')?.f ?? 0.2;
        const beta = a('beta')?.f ?? 0.5;
        if (Math.abs(alpha - 0.2) > 1e-6 || Math.abs(beta - 0.5) > 1e-6) {
          throw unsupported(
            this.file,
            `node "${node.name}" (op HardSigmoid) has alpha ${+alpha.toFixed(6)}, beta ${+beta.toFixed(6)}; only alpha 0.2, beta 0.5 (TF.js's hard sigmoid) is supported`,
          );
        }
        return void this.apply(
          node,
          tfl.layers.activation({ activation: 'hardSigmoid', name: layerName(node) }),
        );
      }
      case 'Conv':
        return this.conv(node);
      case 'BatchNormalization':
        return this.batchNorm(node);
      case 'MaxPool':
      case 'AveragePool':
        return this.pool(node);
      case 'GlobalAveragePool':
        return void this.apply(node, tfl.layers.globalAveragePooling2d({ name: layerName(node) }));
      case 'Add':
        return void this.apply(
          node,
          tfl.layers.add({ name: layerName(node) }),
          node.inputs.map((i) => this.sym(i)),
        );
      case 'Concat':
        return this.concat(node);
      case 'Flatten':
      case 'Reshape':
        return this.flatten(node);
      case 'Gemm':
        return this.gemm(node);
      case 'Pad':
        return this.pad(node);
      default:
        return this.fold(node);
    }
  }

  private clip(node: OnnxNode): void {
    const bound = (i: number): number | undefined => {
      const v = node.inputs[i] ? this.values.get(node.inputs[i] ?? '') : undefined;
      return v?.kind === 'const' ? v.data[0] : undefined;
    };
    if (bound(1) !== 0 || bound(2) === undefined) this.refuse(node);
    this.apply(node, tfl.layers.reLU({ maxValue: bound(2), name: layerName(node) }));
  }

  /** Explicit zero padding where the ONNX pads are not Keras 'same' or 'valid'. */
  private padded(
    node: OnnxNode,
    kernel: number[],
    strides: number[],
  ): { input: Sym; padding: 'same' | 'valid' } {
    const pads = node.attributes.get('pads')?.ints ?? [0, 0, 0, 0];
    const input = this.sym(node.inputs[0] ?? '');
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

  private conv(node: OnnxNode): void {
    const w = this.weight(node.inputs[1]);
    const [out = 0, inPerGroup = 0, kh = 0, kw = 0] = w.dims;
    const group = node.attributes.get('group')?.i ?? 1;
    const strides = node.attributes.get('strides')?.ints ?? [1, 1];
    const dilations = node.attributes.get('dilations')?.ints ?? [1, 1];
    if (dilations.some((d) => d !== 1) || (group !== 1 && !(inPerGroup === 1 && out === group)))
      this.refuse(node);
    const bias = node.inputs[2] ? this.weight(node.inputs[2]) : undefined;
    const { input, padding } = this.padded(node, [kh, kw], strides);
    const kernel = tf.tensor4d(w.data, [out, inPerGroup, kh, kw]);
    const common = {
      kernelSize: [kh, kw] as [number, number],
      strides: strides as [number, number],
      padding,
      useBias: bias !== undefined,
      name: layerName(node),
    };
    const depthwise = group !== 1;
    const layer = depthwise
      ? tfl.layers.depthwiseConv2d({ ...common, depthMultiplier: 1 })
      : tfl.layers.conv2d({ ...common, filters: out });
    this.apply(node, layer, input);
    const k = tf.transpose(kernel, depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]);
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
    const kernel = node.attributes.get('kernel_shape')?.ints ?? [1, 1];
    const strides = node.attributes.get('strides')?.ints ?? kernel;
    const pads = node.attributes.get('pads')?.ints ?? [0, 0, 0, 0];
    if (pads.some((p) => p !== 0) || (node.attributes.get('ceil_mode')?.i ?? 0) !== 0) this.refuse(node);
    const args = {
      poolSize: kernel as [number, number],
      strides: strides as [number, number],
      padding: 'valid' as const,
      name: layerName(node),
    };
    this.apply(
      node,
      node.opType === 'MaxPool' ? tfl.layers.maxPooling2d(args) : tfl.layers.averagePooling2d(args),
    );
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
    this.set(node, { kind: 'sym', t: out, chw: h * w === 1 ? undefined : [c, h, w] });
  }

  private gemm(node: OnnxNode): void {
    const v = this.value(node.inputs[0] ?? '');
    const w = this.weight(node.inputs[1]);
    const attr = (n: string, d: number): number => node.attributes.get(n)?.i ?? d;
    if (v.kind !== 'sym' || attr('transA', 0) !== 0 || (node.attributes.get('alpha')?.f ?? 1) !== 1)
      this.refuse(node);
    let kernel = tf.tensor2d(w.data, w.dims as [number, number]);
    if (attr('transB', 0) === 1) kernel = tf.transpose(kernel);
    if (v.chw) kernel = permuteRows(kernel, v.chw);
    const bias = node.inputs[2] ? this.weight(node.inputs[2]) : undefined;
    const layer = tfl.layers.dense({
      units: kernel.shape[1],
      useBias: bias !== undefined,
      name: layerName(node),
    });
    this.apply(node, layer, v.t);
    layer.setWeights(bias ? [kernel, tf.tensor1d(bias.data)] : [kernel]);
  }

  /** Shape, Gather, Unsqueeze, Constant: folded to constants. */
  private fold(node: OnnxNode): void {
    const v = node.inputs[0] === undefined ? undefined : this.values.get(node.inputs[0]);
    if (node.opType === 'Constant') {
      const t = node.attributes.get('value')?.t;
      if (!t) this.refuse(node);
      return this.set(
        node,
        t.dataType === 1
          ? { kind: 'const', dims: t.dims, data: floatValues(t, this.file) }
          : { kind: 'ints', data: intValues(t, this.file) },
      );
    }
    if (node.opType === 'Shape' && v?.kind === 'sym') {
      const s = v.t.shape.map((d) => d ?? -1);
      return this.set(node, {
        kind: 'ints',
        data: s.length === 4 ? [s[0] ?? -1, s[3] ?? -1, s[1] ?? -1, s[2] ?? -1] : s,
      });
    }
    const index = this.values.get(node.inputs[1] ?? '');
    if (node.opType === 'Gather' && v?.kind === 'ints' && index?.kind === 'ints') {
      return this.set(node, { kind: 'ints', data: index.data.map((i) => v.data[i] ?? -1) });
    }
    if (node.opType === 'Unsqueeze' && v?.kind === 'ints') return this.set(node, v);
    this.refuse(node);
  }
}

function layerName(node: OnnxNode): string {
  const cleaned = node.name.replace(/^\//, '').replace(/[^A-Za-z0-9_.-]/g, '_');
  return cleaned === ''
    ? `${node.opType.toLowerCase()}_${node.outputs[0] ?? ''}`.replace(/[^A-Za-z0-9_.-]/g, '_')
    : cleaned;
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
