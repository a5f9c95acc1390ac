/**
 * The ONNX graph under construction for layers-to-onnx.ts: named nodes and initializers, the
 * value (name, NCHW per-sample shape) of each tfjs tensor, convolutions kept pending so a
 * BatchNormalization can fold into them, and the elementwise activations.
 */
import { unsupported } from '../../../shared/errors';
import type { AttributeValue, OnnxNode, OnnxTensor } from '../backend/onnx-model';
import type { tfl } from '../tf';

export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'output';
export const ONNX_LOGITS = 'logits';
export const BATCH = -1; // the symbolic batch dimension

export type SymbolicTensor = tfl.SymbolicTensor;
export type Layer = SymbolicTensor['sourceLayer'];
/** A layer's weight variable (tfjs-layers' LayerVariable, not exported by name). */
export type LayerVariable = Layer['weights'][number];

/** A tensor of the graph: its name and per-sample shape (NCHW for images). */
export interface Value {
  name: string;
  shape: number[];
  /** Set on flattened NCHW features: they are in CHW order, tfjs expects HWC. */
  chw?: [number, number, number];
}

/** A convolution not yet written, so a following BatchNormalization can fold into it. */
export interface PendingConv {
  pending: true;
  layerName: string;
  input: string;
  weight: Float32Array;
  dims: [number, number, number, number];
  bias: Float32Array | undefined;
  attributes: Record<string, AttributeValue>;
  shape: number[];
  output: string;
}

export type Slot = Value | PendingConv;

export const IDENTITY_LAYERS = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
]);

export const ELEMENTWISE_ACTIVATIONS: Record<string, string> = {
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  elu: 'Elu',
  selu: 'Selu',
  softplus: 'Softplus',
  softsign: 'Softsign',
};

export function pair(value: unknown, fallback: number): [number, number] {
  if (Array.isArray(value)) return [Number(value[0] ?? fallback), Number(value[1] ?? value[0] ?? fallback)];
  if (typeof value === 'number') return [value, value];
  return [fallback, fallback];
}

/** TF's 'same'/'valid' padding of one spatial axis as ONNX [before, after], and the output size. */
export function padAxis(size: number, kernel: number, stride: number, dilation: number, padding: string) {
  const extent = (kernel - 1) * dilation + 1;
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + extent - size, 0);
    return { before: Math.floor(total / 2), after: total - Math.floor(total / 2), out };
  }
  return { before: 0, after: 0, out: Math.floor((size - extent) / stride) + 1 };
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly tensors: OnnxTensor[] = [];
  readonly int64Initializers: Record<string, number[]> = {};
  readonly floatScalars: Record<string, number> = {};
  private readonly slots = new Map<string, Slot>();
  private readonly consumers = new Map<string, number>();
  private readonly used = new Set<string>();
  foldedBatchNorms = 0;
  /** Weight values read beforehand (see LayersToOnnxOptions.weightValues). */
  weightValues: ReadonlyMap<LayerVariable, Float32Array> | undefined;

  constructor(
    readonly sourceName: string,
    readonly foldBatchNormEnabled: boolean,
  ) {
    for (const reserved of [ONNX_INPUT, ONNX_OUTPUT, ONNX_LOGITS]) this.used.add(reserved);
  }

  fail(layer: Layer, problem: string): never {
    throw unsupported(
      this.sourceName,
      `layer "${layer.name}" (${layer.getClassName()}) cannot be exported to ONNX: ${problem}`,
    );
  }

  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  node(op: string, inputs: string[], output: string, attributes?: Record<string, AttributeValue>): string {
    this.nodes.push({ op, inputs, outputs: [output], ...(attributes ? { attributes } : {}) });
    return output;
  }

  constant(name: string, dims: number[], data: OnnxTensor['data']): string {
    const unique = this.unique(name);
    this.tensors.push({ name: unique, dims, data });
    return unique;
  }

  shape(name: string, values: number[]): string {
    const unique = this.unique(name);
    this.int64Initializers[unique] = values;
    return unique;
  }

  scalar(name: string, value: number): string {
    const unique = this.unique(name);
    this.floatScalars[unique] = value;
    return unique;
  }

  countConsumer(key: string): void {
    this.consumers.set(key, (this.consumers.get(key) ?? 0) + 1);
  }

  set(key: string, slot: Slot): void {
    this.slots.set(key, slot);
    if (!('pending' in slot)) this.recordLayer(slot.name, key);
  }

  /** ONNX tensor → the layer whose output holds the same values (in NCHW or CHW order). */
  readonly tensorLayers = new Map<string, string>();

  private recordLayer(tensor: string, key: string): void {
    // Keys are `layer:node:tensor`: a model's layer with one output.
    const parts = key.split(':');
    if (parts.slice(-2).join(':') === '0:0' && !this.tensorLayers.has(tensor)) {
      this.tensorLayers.set(tensor, parts.slice(0, -2).join(':'));
    }
  }

  /** The slot itself (a pending convolution stays pending). */
  peek(key: string): Slot {
    const slot = this.slots.get(key);
    if (!slot) throw new Error(`onnx export: tensor ${key} was used before it was made`);
    return slot;
  }

  consumerCount(key: string): number {
    return this.consumers.get(key) ?? 0;
  }

  /** The value, written out if pending; `keepChw` leaves flattened CHW features as they are. */
  value(key: string, keepChw = false): Value {
    const slot = this.peek(key);
    let value: Value = 'pending' in slot ? this.writeConv(slot) : slot;
    if (value.chw && !keepChw) value = this.toHwc(value);
    this.slots.set(key, value);
    this.recordLayer(value.name, key);
    return value;
  }

  writeConv(conv: PendingConv): Value {
    const weight = this.constant(`${conv.layerName}.weight`, conv.dims, conv.weight);
    const inputs = [conv.input, weight];
    if (conv.bias) inputs.push(this.constant(`${conv.layerName}.bias`, [conv.dims[0]], conv.bias));
    return { name: this.node('Conv', inputs, conv.output, conv.attributes), shape: conv.shape };
  }

  private toHwc(value: Value): Value {
    const [c, h, w] = value.chw!;
    const base = value.name;
    const nchw = this.node(
      'Reshape',
      [base, this.shape(`${base}.nchw_shape`, [-1, c, h, w])],
      this.unique(`${base}.nchw`),
    );
    const nhwc = this.node('Transpose', [nchw], this.unique(`${base}.nhwc`), { perm: [0, 2, 3, 1] });
    return {
      name: this.node('Flatten', [nhwc], this.unique(`${base}.hwc`), { axis: 1 }),
      shape: value.shape,
    };
  }

  activation(layer: Layer, activation: string, input: Value, output: string): Value {
    if (activation === 'linear') return input;
    const op = ELEMENTWISE_ACTIVATIONS[activation];
    if (op) return { ...input, name: this.node(op, [input.name], output) };
    if (activation === 'relu6') {
      const clip = [input.name, this.scalar('zero', 0), this.scalar('six', 6)];
      return { ...input, name: this.node('Clip', clip, output) };
    }
    if (activation === 'hardSigmoid') {
      return {
        ...input,
        name: this.node('HardSigmoid', [input.name], output, { alpha: { float: 0.2 }, beta: { float: 0.5 } }),
      };
    }
    if (activation === 'swish') {
      const sigmoid = this.node('Sigmoid', [input.name], this.unique(`${output}.sigmoid`));
      return { ...input, name: this.node('Mul', [input.name, sigmoid], output) };
    }
    if (activation === 'softmax') {
      if (input.chw) this.fail(layer, 'softmax over flattened convolution features');
      return { ...input, name: this.node('Softmax', [input.name], output, { axis: 1 }) };
    }
    return this.fail(layer, `activation "${activation}" has no ONNX equivalent here`);
  }
}
