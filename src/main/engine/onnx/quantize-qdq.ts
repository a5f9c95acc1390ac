/**
 * Static int8 quantization of an exported ONNX graph in QDQ form (QuantizeLinear →
 * DequantizeLinear pairs), the form ONNX Runtime turns into integer kernels (QLinearConv,
 * QGemm, QLinearAdd, QLinearGlobalAveragePool, int8 MaxPool) when it loads the model.
 *
 *  - Weights of Conv and Gemm: symmetric int8 per output channel (axis 0 of OIHW and of Gemm's
 *    transposed B), scale max|w|/127, zero point 0; biases int32 at scale s_x · s_w[c].
 *  - Activations: uint8 per tensor, asymmetric, from calibrated ranges (always holding 0).
 *    U8S8 is the pairing ONNX Runtime's x86 kernels (VNNI, AVX2) are fastest with.
 *
 * A first convolution that reads the network input with at most 3 channels stays float, input
 * included: ONNX Runtime's integer convolution is slow with so few input channels (measured: LeNet
 * on 1-channel images at batch 32, 1.03 ms int8 with it quantized, 0.61 ms without, 0.46 ms float;
 * VGG-small 3.58 → 3.28 ms), and the input is where quantization loses most.
 *
 * Placement follows ONNX Runtime's own quantizer: a tensor read only by Relu/Clip is left float,
 * so Conv → Relu → Q fuses (Relu/Clip vanish when Q's range already clips); the logits and the
 * softmax stay float (QGemm with float output); MaxPool, Flatten, Reshape, Transpose and Pad reuse
 * their input's parameters, so their Q/DQ pairs are dropped and they run on int8 directly.
 */
import type { OnnxGraph, OnnxNode, OnnxTensor } from '../backend/onnx-model';

export interface ActivationRange {
  min: number;
  max: number;
}

const ACTIVATION_OPS = new Set(['Relu', 'Clip']);
const PASS_THROUGH_OPS = new Set(['MaxPool', 'Flatten', 'Reshape', 'Transpose', 'Pad', 'Identity']);
const FLOAT_CONSUMERS = new Set(['Softmax', 'Identity']);
const WEIGHTED_OPS = new Set(['Conv', 'Gemm']);

function consumersOf(graph: OnnxGraph): Map<string, OnnxNode[]> {
  const map = new Map<string, OnnxNode[]>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) map.set(input, [...(map.get(input) ?? []), node]);
  }
  return map;
}

/** Most input channels of a first convolution that is quantized anyway. */
const FLOAT_FIRST_CONV_CHANNELS = 3;

/** The network input (and its layout Transpose) when only few-channel convolutions read it. */
function floatInputTensors(graph: OnnxGraph, consumers: Map<string, OnnxNode[]>): Set<string> {
  const input = graph.inputs[0]?.name;
  if (input === undefined) return new Set();
  const chain = [input];
  let readers = consumers.get(input) ?? [];
  if (readers.length === 1 && readers[0]!.op === 'Transpose') {
    chain.push(readers[0]!.outputs[0]!);
    readers = consumers.get(chain[1]!) ?? [];
  }
  const weights = new Map((graph.tensors ?? []).map((t) => [t.name, t]));
  const fewChannels = (n: OnnxNode): boolean =>
    n.op === 'Conv' && (weights.get(n.inputs[1] ?? '')?.dims[1] ?? Infinity) <= FLOAT_FIRST_CONV_CHANNELS;
  return new Set(readers.length > 0 && readers.every(fewChannels) ? chain : []);
}

/**
 * The activation tensors that get a Q/DQ pair, in graph order (graph input first). Calibrate
 * these; pass-through outputs are listed too (they are given their input's range).
 */
export function quantizedActivations(graph: OnnxGraph): string[] {
  const consumers = consumersOf(graph);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const produced = [...graph.inputs.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)];
  const floatInputs = floatInputTensors(graph, consumers);
  return produced.filter((name) => {
    if (floatInputs.has(name)) return false;
    const readers = consumers.get(name) ?? [];
    if (readers.length === 0 || outputs.has(name)) return false;
    if (readers.every((n) => ACTIVATION_OPS.has(n.op))) return false;
    return !readers.some((n) => FLOAT_CONSUMERS.has(n.op));
  });
}

/** The producer of each pass-through output, so it can share its input's parameters. */
function passThroughSources(graph: OnnxGraph): Map<string, string> {
  const map = new Map<string, string>();
  for (const node of graph.nodes) {
    if (PASS_THROUGH_OPS.has(node.op)) map.set(node.outputs[0]!, node.inputs[0]!);
  }
  return map;
}

interface QuantParams {
  scale: number;
  zeroPoint: number;
}

/** uint8 affine parameters of a range (widened to hold 0, so zero is exact). */
export function uint8Params(range: ActivationRange): QuantParams {
  const min = Math.min(0, range.min);
  const max = Math.max(0, range.max);
  if (!(max > min)) return { scale: 1, zeroPoint: 0 };
  const scale = (max - min) / 255;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-min / scale))) };
}

/** Symmetric int8 per output channel (axis 0): the values and one scale per channel. */
export function quantizeWeightsPerChannel(
  weight: Float32Array,
  channels: number,
): { values: Int8Array; scales: Float32Array } {
  const per = weight.length / channels;
  const values = new Int8Array(weight.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let max = 0;
    for (let i = 0; i < per; i++) max = Math.max(max, Math.abs(weight[c * per + i]!));
    const scale = max > 0 ? max / 127 : 1;
    scales[c] = scale;
    for (let i = 0; i < per; i++) {
      values[c * per + i] = Math.max(-127, Math.min(127, Math.round(weight[c * per + i]! / scale)));
    }
  }
  return { values, scales };
}

export interface QuantizeResult {
  graph: OnnxGraph;
  /** Conv and Gemm nodes whose weights are int8 (all but a few-channel first convolution). */
  quantizedNodes: number;
  quantizedActivations: number;
}

/** The QDQ graph of `graph`, given calibrated ranges of `quantizedActivations(graph)`. */
export function quantizeGraph(
  graph: OnnxGraph,
  ranges: ReadonlyMap<string, ActivationRange>,
): QuantizeResult {
  const passThrough = passThroughSources(graph);
  const tensorByName = new Map((graph.tensors ?? []).map((t) => [t.name, t]));
  const tensors: OnnxTensor[] = [];
  const nodes: OnnxNode[] = [];
  const params = new Map<string, QuantParams>();
  const dequantized = new Map<string, string>();

  const paramsOf = (name: string): QuantParams | undefined => {
    const cached = params.get(name);
    if (cached) return cached;
    const source = passThrough.get(name);
    const inherited = source !== undefined ? paramsOf(source) : undefined;
    const range = ranges.get(name);
    const p = inherited ?? (range ? uint8Params(range) : undefined);
    if (p) params.set(name, p);
    return p;
  };

  // Q → DQ right after each quantized activation; readers take the DQ output.
  const addQdq = (name: string): void => {
    const p = paramsOf(name);
    if (!p) return;
    const scale = `${name}.q_scale`;
    const zeroPoint = `${name}.q_zero_point`;
    tensors.push({ name: scale, dims: [], data: Float32Array.of(p.scale) });
    tensors.push({ name: zeroPoint, dims: [], data: Uint8Array.of(p.zeroPoint) });
    nodes.push({ op: 'QuantizeLinear', inputs: [name, scale, zeroPoint], outputs: [`${name}.q`] });
    nodes.push({ op: 'DequantizeLinear', inputs: [`${name}.q`, scale, zeroPoint], outputs: [`${name}.dq`] });
    dequantized.set(name, `${name}.dq`);
  };

  const activations = quantizedActivations(graph);
  for (const name of activations) {
    if (!graph.inputs.some((i) => i.name === name)) continue;
    addQdq(name);
  }
  const quantizedSet = new Set(activations);
  let quantizedNodes = 0;
  const replaced = new Set<string>();
  for (const node of graph.nodes) {
    let inputs = node.inputs.map((i) => dequantized.get(i) ?? i);
    const xParams = paramsOf(node.inputs[0]!);
    const weight = tensorByName.get(node.inputs[1] ?? '');
    // Weights are quantized where the input is: with a float input the layer runs in float anyway.
    const inputQuantized = dequantized.has(node.inputs[0]!);
    if (WEIGHTED_OPS.has(node.op) && inputQuantized && weight && weight.data instanceof Float32Array) {
      const channels = weight.dims[0]!;
      const { values, scales } = quantizeWeightsPerChannel(weight.data, channels);
      const w = weight.name;
      tensors.push({ name: `${w}.q`, dims: weight.dims, data: values });
      tensors.push({ name: `${w}.scale`, dims: [channels], data: scales });
      tensors.push({ name: `${w}.zero_point`, dims: [channels], data: new Int8Array(channels) });
      nodes.push({
        op: 'DequantizeLinear',
        inputs: [`${w}.q`, `${w}.scale`, `${w}.zero_point`],
        outputs: [`${w}.dq`],
        attributes: { axis: 0 },
      });
      replaced.add(w);
      inputs = [inputs[0]!, `${w}.dq`, ...inputs.slice(2)];
      const bias = tensorByName.get(node.inputs[2] ?? '');
      if (bias && bias.data instanceof Float32Array && xParams) {
        const b = bias.name;
        const biasScales = scales.map((s) => s * xParams.scale);
        const q = Int32Array.from(bias.data, (v, c) =>
          Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(v / biasScales[c]!))),
        );
        tensors.push({ name: `${b}.q`, dims: bias.dims, data: q });
        tensors.push({ name: `${b}.scale`, dims: [channels], data: biasScales });
        tensors.push({ name: `${b}.zero_point`, dims: [channels], data: new Int32Array(channels) });
        nodes.push({
          op: 'DequantizeLinear',
          inputs: [`${b}.q`, `${b}.scale`, `${b}.zero_point`],
          outputs: [`${b}.dq`],
          attributes: { axis: 0 },
        });
        replaced.add(b);
        inputs[2] = `${b}.dq`;
      }
      quantizedNodes++;
    }
    nodes.push({ ...node, inputs });
    for (const output of node.outputs) if (quantizedSet.has(output)) addQdq(output);
  }
  // Float initializers replaced by int8/int32 ones are dropped unless something else reads them.
  const stillRead = new Set(nodes.flatMap((n) => n.inputs));
  const kept = (graph.tensors ?? []).filter((t) => !replaced.has(t.name) || stillRead.has(t.name));
  return {
    graph: { ...graph, nodes, tensors: [...kept, ...tensors] },
    quantizedNodes,
    quantizedActivations: dequantized.size,
  };
}
