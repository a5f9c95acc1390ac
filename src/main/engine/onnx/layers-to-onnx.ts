/**
 * A TensorFlow.js layers model as an ONNX graph (opset 13), for export.
 *
 * The graph computes in NCHW, as ONNX's Conv and pools do: weights are converted once
 * (kernels HWIO → OIHW, depthwise HW·C·M → (C·M)·1·H·W with group C), so no Transpose runs
 * inside the network. With layout `nhwc` a single Transpose after the input converts.
 *
 * Exactness, where the layouts meet:
 *  - Flatten of an NCHW tensor lists features channel-major (CHW) while tfjs lists them HWC. The
 *    flattened value remembers its CHW order; a Dense that consumes it (through Dropout or an
 *    elementwise activation) gets its kernel rows permuted instead, and any other consumer gets a
 *    Transpose to HWC first.
 *  - 'same' padding is TF's (the extra pixel after, not before), written as explicit pads.
 *  - BatchNormalization directly after a convolution with no activation, whose output nothing
 *    else reads, is folded into the convolution's weights and bias:
 *      w' = w · γ/√(σ²+ε) per output channel, b' = (b − μ) · γ/√(σ²+ε) + β.
 *    Any other BatchNormalization becomes ONNX BatchNormalization.
 *
 * A layer with no exact ONNX equivalent here is refused with its name and class.
 */
import { unsupported } from '../../../shared/errors';
import type { AttributeValue, OnnxGraph } from '../backend/onnx-model';
import type { LayersModel } from '../tf';
import { tfl } from '../tf';
import { convKernel, depthwiseKernel } from './kernel-layout';
import {
  BATCH,
  GraphBuilder,
  IDENTITY_LAYERS,
  ONNX_INPUT,
  ONNX_LOGITS,
  ONNX_OUTPUT,
  pair,
  padAxis,
  type Layer,
  type LayerVariable,
  type PendingConv,
  type SymbolicTensor,
  type Value,
} from './onnx-graph-builder';

export { ONNX_INPUT, ONNX_LOGITS, ONNX_OUTPUT } from './onnx-graph-builder';

export type OnnxLayout = 'nchw' | 'nhwc';

export interface LayersToOnnxOptions {
  /** The input's layout: NCHW (PyTorch's, default) or NHWC (TensorFlow's). */
  layout?: OnnxLayout;
  /** Fold BatchNormalization into the convolution before it where exact (default true). */
  foldBatchNorm?: boolean;
  /** Also output the last Dense layer's pre-softmax values as `logits` (for verification). */
  exposeLogits?: boolean;
  /** The model's file, named in errors. */
  source?: string;
  /**
   * Every weight's values, read beforehand with `readWeightValues`. Required on a GPU backend,
   * where a tensor cannot be read synchronously in Node; elsewhere weights are read as needed.
   */
  weightValues?: ReadonlyMap<LayerVariable, Float32Array>;
}

/** Every weight of `model`, read asynchronously (as any backend can), for `layersToOnnx`. */
export async function readWeightValues(model: LayersModel): Promise<Map<LayerVariable, Float32Array>> {
  const entries = await Promise.all(
    model.weights.map(async (w) => [w, (await w.read().data()) as Float32Array] as const),
  );
  return new Map(entries);
}

export interface OnnxExportGraph {
  graph: OnnxGraph;
  /** Per-sample input shape in the chosen layout. */
  inputShape: number[];
  layout: OnnxLayout;
  /** The logits output, when asked for and the model ends in a Dense with softmax. */
  logitsName?: string;
  foldedBatchNorms: number;
  /** Activation tensor → the tfjs layer whose output it equals (QAT ranges are kept per layer). */
  tensorLayers: ReadonlyMap<string, string>;
}

function tensorKey(t: SymbolicTensor): string {
  return `${t.sourceLayer.name}:${t.nodeIndex}:${t.tensorIndex}`;
}

function inputsOf(t: SymbolicTensor): SymbolicTensor[] {
  return t.sourceLayer.inboundNodes[t.nodeIndex]?.inputTensors ?? [];
}

/** The model's tensors in an order where every tensor comes after its inputs. */
function topologicalOrder(model: LayersModel): SymbolicTensor[] {
  const seen = new Set<string>();
  const order: SymbolicTensor[] = [];
  const visit = (t: SymbolicTensor): void => {
    const key = tensorKey(t);
    if (seen.has(key)) return;
    seen.add(key);
    for (const input of inputsOf(t)) visit(input);
    order.push(t);
  };
  for (const output of model.outputs) visit(output);
  return order;
}

function weightsOf(layer: Layer, b: GraphBuilder): Map<string, Float32Array> {
  return new Map(
    layer.weights.map((w) => {
      const name = w.originalName;
      const values = b.weightValues?.get(w) ?? (w.read().dataSync() as Float32Array);
      return [name.slice(name.lastIndexOf('/') + 1), values];
    }),
  );
}

interface ConvGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  padding: string;
}

function convAttributes(layer: Layer, b: GraphBuilder, input: Value, g: ConvGeometry, group: number) {
  if (input.shape.length !== 3)
    b.fail(layer, `expects an image input, got per-sample shape [${input.shape.join(', ')}]`);
  if (g.padding !== 'same' && g.padding !== 'valid') b.fail(layer, `padding "${g.padding}" is not supported`);
  const [, h, w] = input.shape as [number, number, number];
  const ph = padAxis(h, g.kernel[0], g.strides[0], g.dilations[0], g.padding);
  const pw = padAxis(w, g.kernel[1], g.strides[1], g.dilations[1], g.padding);
  const attributes: Record<string, AttributeValue> = {
    kernel_shape: g.kernel,
    strides: g.strides,
    dilations: g.dilations,
    pads: [ph.before, pw.before, ph.after, pw.after],
  };
  if (group > 1) attributes.group = group;
  return { attributes, height: ph.out, width: pw.out };
}

function geometry(layer: Layer, config: Record<string, unknown>): ConvGeometry {
  return {
    kernel: pair(config.kernel_size ?? config.kernelSize, 1),
    strides: pair(config.strides, 1),
    dilations: pair(config.dilation_rate ?? config.dilationRate, 1),
    padding: String(config.padding ?? 'valid'),
  };
}

function convertConv(layer: Layer, b: GraphBuilder, input: Value, outKey: string): void {
  const config = layer.getConfig() as Record<string, unknown>;
  const className = layer.getClassName();
  const weights = weightsOf(layer, b);
  const g = geometry(layer, config);
  const [kh, kw] = g.kernel;
  const cin = input.shape[0]!;
  const activation = String(config.activation ?? 'linear');
  let source = input.name;
  let pointwise: { weight: Float32Array; cout: number; kernel: [number, number] };
  let spatial = {
    attributes: {} as Record<string, AttributeValue>,
    height: input.shape[1]!,
    width: input.shape[2]!,
  };
  if (className === 'Conv2D') {
    const cout = Number(config.filters);
    spatial = convAttributes(layer, b, input, g, 1);
    pointwise = { weight: convKernel(weights.get('kernel')!, kh, kw, cin, cout), cout, kernel: g.kernel };
  } else {
    // From the kernel's shape: SeparableConv2D's getConfig() omits depthMultiplier.
    const kernel = layer.weights.find((w) => w.originalName.endsWith('/depthwise_kernel'));
    const multiplier = kernel?.shape[3] ?? 1;
    const dw = depthwiseKernel(weights.get('depthwise_kernel')!, kh, kw, cin, multiplier);
    const geometryDw = convAttributes(layer, b, input, g, cin);
    if (className === 'DepthwiseConv2D') {
      spatial = geometryDw;
      pointwise = { weight: dw, cout: cin * multiplier, kernel: g.kernel };
    } else {
      // SeparableConv2D: the depthwise part, then a pointwise convolution (the one BN folds into).
      const dwWeight = b.constant(`${layer.name}.depthwise.weight`, [cin * multiplier, 1, kh, kw], dw);
      source = b.node(
        'Conv',
        [input.name, dwWeight],
        b.unique(`${layer.name}.depthwise`),
        geometryDw.attributes,
      );
      const cout = Number(config.filters);
      const pw = convKernel(weights.get('pointwise_kernel')!, 1, 1, cin * multiplier, cout);
      pointwise = { weight: pw, cout, kernel: [1, 1] };
      spatial = { attributes: { kernel_shape: [1, 1] }, height: geometryDw.height, width: geometryDw.width };
    }
  }
  const dims: [number, number, number, number] =
    className === 'DepthwiseConv2D'
      ? [pointwise.cout, 1, kh, kw]
      : [
          pointwise.cout,
          pointwise.weight.length / (pointwise.cout * pointwise.kernel[0] * pointwise.kernel[1]),
          ...pointwise.kernel,
        ];
  const pending: PendingConv = {
    pending: true,
    layerName: layer.name,
    input: source,
    weight: pointwise.weight,
    dims,
    bias: weights.get('bias'),
    attributes: spatial.attributes,
    shape: [pointwise.cout, spatial.height, spatial.width],
    output: b.unique(activation === 'linear' ? layer.name : `${layer.name}.preact`),
  };
  if (activation === 'linear') {
    b.set(outKey, pending);
    return;
  }
  b.set(outKey, b.activation(layer, activation, b.writeConv(pending), b.unique(layer.name)));
}

function convertBatchNorm(layer: Layer, b: GraphBuilder, inKey: string, outKey: string): void {
  const config = layer.getConfig() as Record<string, unknown>;
  const axis = Number(config.axis ?? -1);
  const slot = b.peek(inKey);
  const rank = 'pending' in slot ? 3 : slot.shape.length;
  if (axis !== -1 && axis !== rank)
    b.fail(layer, `only the channel axis (-1) is supported, got axis ${axis}`);
  const weights = weightsOf(layer, b);
  const mean = weights.get('moving_mean')!;
  const variance = weights.get('moving_variance')!;
  const channels = mean.length;
  const gamma = weights.get('gamma') ?? new Float32Array(channels).fill(1);
  const beta = weights.get('beta') ?? new Float32Array(channels);
  const epsilon = Number(config.epsilon ?? 1e-3);
  if ('pending' in slot && b.consumerCount(inKey) === 1 && b.foldBatchNormEnabled) {
    const perChannel = slot.weight.length / channels;
    const weight = new Float32Array(slot.weight.length);
    const bias = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const factor = gamma[c]! / Math.sqrt(variance[c]! + epsilon);
      for (let i = 0; i < perChannel; i++)
        weight[c * perChannel + i] = slot.weight[c * perChannel + i]! * factor;
      bias[c] = ((slot.bias?.[c] ?? 0) - mean[c]!) * factor + beta[c]!;
    }
    b.foldedBatchNorms++;
    b.set(outKey, { ...slot, weight, bias, output: b.unique(layer.name) });
    return;
  }
  const input = b.value(inKey);
  const inputs = [
    input.name,
    b.constant(`${layer.name}.scale`, [channels], gamma),
    b.constant(`${layer.name}.bias`, [channels], beta),
    b.constant(`${layer.name}.mean`, [channels], mean),
    b.constant(`${layer.name}.var`, [channels], variance),
  ];
  const name = b.node('BatchNormalization', inputs, b.unique(layer.name), { epsilon: { float: epsilon } });
  b.set(outKey, { name, shape: input.shape });
}

function convertDense(
  layer: Layer,
  b: GraphBuilder,
  inKey: string,
  outKey: string,
  isLast: boolean,
  logits: { name?: string },
): void {
  const config = layer.getConfig() as Record<string, unknown>;
  const input = b.value(inKey, true);
  if (input.shape.length !== 1)
    b.fail(layer, `only 2-D inputs [batch, features] are supported, got [batch, ${input.shape.join(', ')}]`);
  const weights = weightsOf(layer, b);
  const kernel = weights.get('kernel')!;
  const units = Number(config.units);
  const features = input.shape[0]!;
  // Gemm with transB: B is [units, features], one row per output (the quantization axis 0).
  const transposed = new Float32Array(kernel.length);
  const [c, h, w] = input.chw ?? [features, 1, 1];
  for (let f = 0; f < features; f++) {
    // Row f of the ONNX input; the tfjs row holding the same feature.
    const source = input.chw ? (f % (h * w)) * c + Math.floor(f / (h * w)) : f;
    for (let u = 0; u < units; u++) transposed[u * features + f] = kernel[source * units + u]!;
  }
  const inputs = [input.name, b.constant(`${layer.name}.weight`, [units, features], transposed)];
  const bias = weights.get('bias');
  if (bias) inputs.push(b.constant(`${layer.name}.bias`, [units], bias));
  const activation = String(config.activation ?? 'linear');
  const gemmName = b.unique(activation === 'linear' ? layer.name : `${layer.name}.preact`);
  const gemm: Value = { name: b.node('Gemm', inputs, gemmName, { transB: 1 }), shape: [units] };
  if (isLast && activation === 'softmax') logits.name = gemm.name;
  b.set(outKey, b.activation(layer, activation, gemm, b.unique(layer.name)));
}

function convertPool(layer: Layer, b: GraphBuilder, input: Value, outKey: string): void {
  const config = layer.getConfig() as Record<string, unknown>;
  const kernel = pair(config.pool_size ?? config.poolSize, 2);
  const g: ConvGeometry = {
    kernel,
    strides: pair(config.strides ?? kernel, 1),
    dilations: [1, 1],
    padding: String(config.padding ?? 'valid'),
  };
  const { attributes, height, width } = convAttributes(layer, b, input, g, 1);
  delete attributes.dilations;
  const op = layer.getClassName() === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
  b.set(outKey, {
    name: b.node(op, [input.name], b.unique(layer.name), attributes),
    shape: [input.shape[0]!, height, width],
  });
}

function convertGlobalPool(layer: Layer, b: GraphBuilder, input: Value, outKey: string): void {
  const config = layer.getConfig() as Record<string, unknown>;
  if (input.shape.length !== 3) b.fail(layer, 'expects an image input');
  const op = layer.getClassName() === 'GlobalMaxPooling2D' ? 'GlobalMaxPool' : 'GlobalAveragePool';
  const keepDims = Boolean(config.keepDims ?? config.keep_dims ?? false);
  const pooled = b.node(op, [input.name], b.unique(keepDims ? layer.name : `${layer.name}.pooled`));
  const channels = input.shape[0]!;
  if (keepDims) b.set(outKey, { name: pooled, shape: [channels, 1, 1] });
  else
    b.set(outKey, {
      name: b.node('Flatten', [pooled], b.unique(layer.name), { axis: 1 }),
      shape: [channels],
    });
}

function convertMerge(layer: Layer, b: GraphBuilder, inputs: Value[], outKey: string): void {
  const className = layer.getClassName();
  if (className === 'Concatenate') {
    const shape = inputs[0]!.shape;
    const config = layer.getConfig() as Record<string, unknown>;
    const axis = Number(config.axis ?? -1);
    if (axis !== -1 && axis !== shape.length)
      b.fail(layer, 'only concatenation along channels (axis -1) is supported');
    const channels = inputs.reduce((sum, v) => sum + v.shape[0]!, 0);
    const name = b.node(
      'Concat',
      inputs.map((v) => v.name),
      b.unique(layer.name),
      { axis: 1 },
    );
    b.set(outKey, { name, shape: [channels, ...shape.slice(1)] });
    return;
  }
  const op = { Add: 'Add', Multiply: 'Mul', Subtract: 'Sub', Maximum: 'Max', Minimum: 'Min' }[className]!;
  // A [C, 1, 1] gate against a [C, H, W] map broadcasts (squeeze-excite): the larger shape.
  const shape = inputs[0]!.shape.map((d, i) => Math.max(d, ...inputs.map((v) => v.shape[i] ?? d)));
  let acc = inputs[0]!.name;
  inputs.slice(1).forEach((v, i) => {
    acc = b.node(op, [acc, v.name], b.unique(i === inputs.length - 2 ? layer.name : `${layer.name}.${i}`));
  });
  b.set(outKey, { name: acc, shape });
}

/** x · scale + offset, elementwise (so flattened CHW features keep their order). */
function convertRescaling(layer: Layer, b: GraphBuilder, inKey: string, outKey: string): void {
  const config = layer.getConfig() as Record<string, unknown>;
  const scale = Number(config.scale ?? 1);
  const offset = Number(config.offset ?? 0);
  const input = b.value(inKey, true);
  let name = input.name;
  if (scale !== 1) {
    const out = b.unique(offset === 0 ? layer.name : `${layer.name}.scaled`);
    name = b.node('Mul', [name, b.scalar(`${layer.name}.scale`, scale)], out);
  }
  if (offset !== 0 || name === input.name) {
    name = b.node('Add', [name, b.scalar(`${layer.name}.offset`, offset)], b.unique(layer.name));
  }
  b.set(outKey, { ...input, name });
}

/** Reshape between [C] and [1, 1, C] (NCHW [C, 1, 1]), as a squeeze-excite block has it. */
function convertReshape(layer: Layer, b: GraphBuilder, input: Value, outKey: string): void {
  const config = layer.getConfig() as Record<string, unknown>;
  const target = (config.targetShape ?? config.target_shape) as number[] | undefined;
  const size = input.shape.reduce((a, d) => a * d, 1);
  const spatial = input.shape.length === 3 ? input.shape[1]! * input.shape[2]! : 1;
  const flat = Array.isArray(target) && target.length === 1;
  const gate = Array.isArray(target) && target.length === 3 && target[0] === 1 && target[1] === 1;
  if (!Array.isArray(target) || spatial !== 1 || !(flat || gate)) {
    b.fail(layer, 'only reshapes between [channels] and [1, 1, channels] are supported');
  }
  const shape = gate ? [size, 1, 1] : [size];
  const name = b.node(
    'Reshape',
    [input.name, b.shape(`${layer.name}.shape`, [-1, ...shape])],
    b.unique(layer.name),
  );
  b.set(outKey, { name, shape });
}

const MERGE_LAYERS = new Set(['Add', 'Multiply', 'Subtract', 'Maximum', 'Minimum', 'Concatenate']);

function convertLayer(
  layer: Layer,
  b: GraphBuilder,
  inKeys: string[],
  outKey: string,
  isLast: boolean,
  logits: { name?: string },
): void {
  const className = layer.getClassName();
  const config = layer.getConfig() as Record<string, unknown>;
  if (config.dataFormat === 'channelsFirst' || config.data_format === 'channels_first') {
    b.fail(layer, 'channels-first layers are not supported');
  }
  const single = (): string => {
    if (inKeys.length !== 1) b.fail(layer, `expects one input, got ${inKeys.length}`);
    return inKeys[0]!;
  };
  switch (className) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D':
      return convertConv(layer, b, b.value(single()), outKey);
    case 'BatchNormalization':
      return convertBatchNorm(layer, b, single(), outKey);
    case 'Dense':
      return convertDense(layer, b, single(), outKey, isLast, logits);
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return convertPool(layer, b, b.value(single()), outKey);
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      return convertGlobalPool(layer, b, b.value(single()), outKey);
    case 'Flatten': {
      const input = b.value(single());
      const size = input.shape.reduce((a, d) => a * d, 1);
      const name = b.node('Flatten', [input.name], b.unique(layer.name), { axis: 1 });
      const chw = input.shape.length === 3 && input.shape[1]! * input.shape[2]! > 1;
      b.set(outKey, {
        name,
        shape: [size],
        ...(chw ? { chw: input.shape as [number, number, number] } : {}),
      });
      return;
    }
    case 'ReLU': {
      const negativeSlope = Number(config.negativeSlope ?? config.negative_slope ?? 0);
      const threshold = Number(config.threshold ?? 0);
      if (negativeSlope !== 0 || threshold !== 0)
        b.fail(layer, 'only ReLU without negative slope or threshold is supported');
      const input = b.value(single(), true);
      const max = config.maxValue ?? config.max_value;
      if (max === null || max === undefined) {
        b.set(outKey, { ...input, name: b.node('Relu', [input.name], b.unique(layer.name)) });
      } else {
        const clip = [input.name, b.scalar('zero', 0), b.scalar(`max_${String(max)}`, Number(max))];
        b.set(outKey, { ...input, name: b.node('Clip', clip, b.unique(layer.name)) });
      }
      return;
    }
    case 'Activation': {
      const activation = String(config.activation);
      const input = b.value(single(), activation !== 'softmax');
      b.set(outKey, b.activation(layer, activation, input, b.unique(layer.name)));
      return;
    }
    case 'Softmax': {
      const axis = Number(config.axis ?? -1);
      const input = b.value(single());
      if (axis !== -1 && axis !== input.shape.length)
        b.fail(layer, 'only softmax over the last axis is supported');
      b.set(outKey, { ...input, name: b.node('Softmax', [input.name], b.unique(layer.name), { axis: 1 }) });
      return;
    }
    case 'Rescaling':
      return convertRescaling(layer, b, single(), outKey);
    case 'Reshape':
      return convertReshape(layer, b, b.value(single()), outKey);
    case 'ZeroPadding2D': {
      const input = b.value(single());
      const raw = config.padding;
      const [[top, bottom], [left, right]] = (
        Array.isArray(raw) ? raw.map((p: unknown) => pair(p, 0)) : [pair(raw, 0), pair(raw, 0)]
      ) as [[number, number], [number, number]];
      const pads = b.shape(`${layer.name}.pads`, [0, 0, top, left, 0, 0, bottom, right]);
      const [c, h, w] = input.shape as [number, number, number];
      b.set(outKey, {
        name: b.node('Pad', [input.name, pads], b.unique(layer.name)),
        shape: [c, h + top + bottom, w + left + right],
      });
      return;
    }
    default:
      if (IDENTITY_LAYERS.has(className)) {
        b.set(outKey, b.value(single(), true));
        return;
      }
      if (MERGE_LAYERS.has(className)) {
        return convertMerge(
          layer,
          b,
          inKeys.map((k) => b.value(k)),
          outKey,
        );
      }
      return b.fail(layer, 'this layer type is not supported by the ONNX exporter');
  }
}

/** The ONNX graph of a single-input, single-output layers model. */
export function layersToOnnx(model: LayersModel, options: LayersToOnnxOptions = {}): OnnxExportGraph {
  const layout = options.layout ?? 'nchw';
  const b = new GraphBuilder(options.source ?? model.name, options.foldBatchNorm ?? true);
  b.weightValues = options.weightValues;
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw unsupported(
      b.sourceName,
      `ONNX export supports models with one input and one output, not ${model.inputs.length} and ${model.outputs.length}`,
    );
  }
  const order = topologicalOrder(model);
  for (const t of order) for (const input of inputsOf(t)) b.countConsumer(tensorKey(input));

  const modelInput = model.inputs[0]!;
  const perSample = modelInput.shape.slice(1).map((d) => d ?? -1);
  if (perSample.some((d) => d < 1) || (perSample.length !== 3 && perSample.length !== 1)) {
    throw unsupported(
      b.sourceName,
      `ONNX export needs a fixed image input [height, width, channels], got [${perSample.join(', ')}]`,
    );
  }
  let inputShape: number[];
  if (perSample.length === 3) {
    const [h, w, c] = perSample as [number, number, number];
    inputShape = layout === 'nchw' ? [c, h, w] : [h, w, c];
    const name =
      layout === 'nchw'
        ? ONNX_INPUT
        : b.node('Transpose', [ONNX_INPUT], b.unique('input_nchw'), { perm: [0, 3, 1, 2] });
    b.set(tensorKey(modelInput), { name, shape: [c, h, w] });
  } else {
    inputShape = perSample;
    b.set(tensorKey(modelInput), { name: ONNX_INPUT, shape: perSample });
  }

  const output = model.outputs[0]!;
  const logits: { name?: string } = {};
  for (const t of order) {
    const layer = t.sourceLayer;
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer instanceof tfl.LayersModel) {
      throw unsupported(
        b.sourceName,
        `layer "${layer.name}" is a nested model; ONNX export needs a flat model`,
      );
    }
    const isLast = tensorKey(t) === tensorKey(output);
    convertLayer(layer, b, inputsOf(t).map(tensorKey), tensorKey(t), isLast, logits);
  }
  const last = b.value(tensorKey(output));
  let finalName = last.name;
  let outShape: number[] = [BATCH, ...last.shape];
  if (layout === 'nhwc' && last.shape.length === 3) {
    finalName = b.node('Transpose', [finalName], b.unique(`${finalName}.nhwc`), { perm: [0, 2, 3, 1] });
    outShape = [BATCH, last.shape[1]!, last.shape[2]!, last.shape[0]!];
  }
  b.node('Identity', [finalName], ONNX_OUTPUT);
  const outputs = [{ name: ONNX_OUTPUT, shape: outShape }];
  let logitsName: string | undefined;
  if (options.exposeLogits && logits.name) {
    logitsName = ONNX_LOGITS;
    b.node('Identity', [logits.name], ONNX_LOGITS);
    outputs.push({ name: ONNX_LOGITS, shape: outShape });
  }
  return {
    graph: {
      inputs: [{ name: ONNX_INPUT, shape: [BATCH, ...inputShape] }],
      outputs,
      nodes: b.nodes,
      int64Initializers: b.int64Initializers,
      floatScalars: b.floatScalars,
      tensors: b.tensors,
    },
    inputShape,
    layout,
    ...(logitsName ? { logitsName } : {}),
    foldedBatchNorms: b.foldedBatchNorms,
    tensorLayers: b.tensorLayers,
  };
}
