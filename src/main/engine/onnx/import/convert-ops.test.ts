import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '../../tf';
import { onnxGraphToLayers } from './convert';
import type { OnnxAttribute, OnnxGraph, OnnxNode, OnnxTensor } from './proto';
import { decodeModel } from './proto';

const FIXTURES = path.join(__dirname, '../../../../../test/fixtures/onnx');

function tensor(name: string, dims: number[], values: number[]): OnnxTensor {
  return { name, dims, dataType: 1, floatData: values, int64Data: [], int32Data: [] };
}

type Attr = Partial<OnnxAttribute>;
function node(opType: string, inputs: string[], output: string, attrs: Record<string, Attr> = {}): OnnxNode {
  const attributes = new Map<string, OnnxAttribute>(
    Object.entries(attrs).map(([name, a]) => [name, { name, floats: [], ints: [], ...a }]),
  );
  return { name: `/${opType}`, opType, domain: '', inputs, outputs: [output], attributes };
}

/** A graph with input x of NCHW shape `shape` whose output is the last node's. */
function graph(shape: number[], nodes: OnnxNode[], initializers: OnnxTensor[] = []): OnnxGraph {
  const out = nodes[nodes.length - 1]?.outputs[0] ?? 'x';
  return {
    name: 'g',
    nodes,
    initializers,
    inputs: [{ name: 'x', elemType: 1, shape }],
    outputs: [{ name: out, elemType: 1, shape: [] }],
  };
}

/** Runs an imported graph on NCHW values and returns the NHWC output's values. */
function run(g: OnnxGraph, shape: [number, number, number, number], values: number[]): number[] {
  const model = onnxGraphToLayers(g, 'model.onnx');
  const x = tf.transpose(tf.tensor4d(values, shape), [0, 2, 3, 1]);
  return Array.from((model.predict(x) as tf.Tensor).dataSync());
}

function classes(g: OnnxGraph): string[] {
  return onnxGraphToLayers(g, 'model.onnx').layers.map((l) => l.getClassName());
}

const XS = [-4, -3, -1, 0, 1.5, 3, 4];

describe('ONNX import: activations and arithmetic as standard layers', () => {
  it("PyTorch's Hardsigmoid (alpha 1/6) is Rescaling(1/6, 0.5) → ReLU(max 1)", () => {
    const g = graph([1, 1, 1, 7], [node('HardSigmoid', ['x'], 'y', { alpha: { f: 1 / 6 } })]);
    expect(classes(g)).toEqual(['InputLayer', 'Rescaling', 'ReLU']);
    const y = run(g, [1, 1, 1, 7], XS);
    [0, 0, 1 / 3, 0.5, 0.75, 1, 1].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
  });

  it("ONNX's default HardSigmoid (alpha 0.2) stays TF.js's hardSigmoid activation", () => {
    const g = graph([1, 1, 1, 7], [node('HardSigmoid', ['x'], 'y')]);
    expect(classes(g)).toEqual(['InputLayer', 'Activation']);
    const y = run(g, [1, 1, 1, 7], XS);
    [0, 0, 0.3, 0.5, 0.8, 1, 1].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
  });

  it('HardSwish (opset 14) is x · hard sigmoid: Rescaling, ReLU, Multiply', () => {
    const g = graph([1, 1, 1, 7], [node('HardSwish', ['x'], 'y')]);
    expect(classes(g)).toEqual(['InputLayer', 'Rescaling', 'ReLU', 'Multiply']);
    const y = run(g, [1, 1, 1, 7], XS);
    [0, 0, -1 / 3, 0, 1.125, 3, 4].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
  });

  it('scalar Sub and Div become Rescaling, c − x included', () => {
    const c = [tensor('c', [], [2])];
    const g = graph(
      [1, 1, 1, 7],
      [node('Sub', ['c', 'x'], 'a'), node('Div', ['a', 'c'], 'y'), node('Relu', ['y'], 'z')],
      c,
    );
    expect(classes(g)).toEqual(['InputLayer', 'Rescaling', 'Rescaling', 'ReLU']);
    expect(run(g, [1, 1, 1, 7], XS)).toEqual([3, 2.5, 1.5, 1, 0.25, 0, 0]);
  });

  it('refuses c / x and a Mul by a per-channel constant, naming the node', () => {
    const c = [tensor('c', [], [2]), tensor('v', [2, 1, 1], [1, 2])];
    expect(() =>
      onnxGraphToLayers(graph([1, 1, 1, 7], [node('Div', ['c', 'x'], 'y')], c), 'model.onnx'),
    ).toThrow(
      'model.onnx: node "/Div" (op Div) with a constant is supported only as x + c, x − c, c − x, x · c or x / c for a scalar c',
    );
    expect(() =>
      onnxGraphToLayers(graph([1, 2, 1, 1], [node('Mul', ['x', 'v'], 'y')], c), 'model.onnx'),
    ).toThrow('model.onnx: node "/Mul" (op Mul) with a constant is supported only as');
  });

  it('Mul of a feature map by a [N, C, 1, 1] gate broadcasts; other shapes are refused', () => {
    const gate = graph(
      [1, 2, 2, 2],
      [node('GlobalAveragePool', ['x'], 'g'), node('Sigmoid', ['g'], 's'), node('Mul', ['x', 's'], 'y')],
    );
    expect(classes(gate)).toEqual([
      'InputLayer',
      'GlobalAveragePooling2D',
      'Reshape',
      'Activation',
      'Multiply',
    ]);
    // Channel 0 is all 1 (gate σ(1)), channel 1 all −2 (gate σ(−2)).
    const y = run(gate, [1, 2, 2, 2], [1, 1, 1, 1, -2, -2, -2, -2]);
    const s = (v: number): number => 1 / (1 + Math.exp(-v));
    expect(y[0]).toBeCloseTo(s(1), 6);
    expect(y[1]).toBeCloseTo(-2 * s(-2), 6);
    const rows = graph(
      [1, 2, 2, 2],
      [
        node('MaxPool', ['x'], 'p', { kernel_shape: { ints: [1, 2] }, strides: { ints: [1, 2] } }),
        node('Mul', ['x', 'p'], 'y'),
      ],
    );
    expect(() => onnxGraphToLayers(rows, 'model.onnx')).toThrow(
      'model.onnx: node "/Mul" (op Mul) has shapes [N, 2, 2, 2] and [N, 2, 2, 1]; only equal shapes or a [N, C, 1, 1] gate times [N, C, H, W] are supported',
    );
  });
});

describe('ONNX import: grouped convolutions', () => {
  it('group = input channels with 2 outputs each is a DepthwiseConv2D with depth multiplier 2', () => {
    // Output channel c·2 + j reads input channel c with weight w[c·2 + j].
    const w = tensor('w', [4, 1, 1, 1], [1, 2, 3, 4]);
    const g = graph([1, 2, 1, 1], [node('Conv', ['x', 'w'], 'y', { group: { i: 2 } })], [w]);
    const model = onnxGraphToLayers(g, 'model.onnx');
    expect(model.layers[1]?.getClassName()).toBe('DepthwiseConv2D');
    expect(model.layers[1]?.getWeights()[0]?.shape).toEqual([1, 1, 2, 2]);
    expect(run(g, [1, 2, 1, 1], [2, 3])).toEqual([2, 4, 9, 12]);
  });

  it('other groups become the equivalent Conv2D, zero outside the groups', () => {
    // Group 2 over 4 inputs: outputs 0–1 read inputs 0–1, outputs 2–3 read inputs 2–3.
    const w = tensor('w', [4, 2, 1, 1], [1, 2, 3, 4, 5, 6, 7, 8]);
    const g = graph([1, 4, 1, 1], [node('Conv', ['x', 'w'], 'y', { group: { i: 2 } })], [w]);
    const model = onnxGraphToLayers(g, 'model.onnx');
    expect(model.layers[1]?.getClassName()).toBe('Conv2D');
    expect(model.layers[1]?.getWeights()[0]?.shape).toEqual([1, 1, 4, 4]);
    expect(run(g, [1, 4, 1, 1], [1, 2, 3, 4])).toEqual([1 + 4, 3 + 8, 15 + 24, 21 + 32]);
  });

  it('refuses a group count that does not divide the output channels, naming the node', () => {
    const w = tensor('w', [3, 2, 1, 1], [1, 2, 3, 4, 5, 6]);
    const g = graph([1, 4, 1, 1], [node('Conv', ['x', 'w'], 'y', { group: { i: 2 } })], [w]);
    expect(() => onnxGraphToLayers(g, 'model.onnx')).toThrow(
      'model.onnx: node "/Conv" (op Conv) has 3 output channels, not a multiple of its group 2',
    );
  });
});

describe('ONNX import: tf2onnx layouts and auto_pad', () => {
  const shape = (name: string, values: number[]): OnnxTensor => ({
    name,
    dims: [values.length],
    dataType: 7,
    floatData: [],
    int64Data: values,
    int32Data: [],
  });

  it('an NHWC input transposed to NCHW, and NCHW → NHWC before a Reshape, flatten in Keras order', () => {
    // Two 1×1 filters: 1·c0 + 10·c1 + 100·c2, and c2.
    const w = tensor('w', [2, 3, 1, 1], [1, 10, 100, 0, 0, 1]);
    const g = graph(
      [1, 2, 2, 3],
      [
        node('Transpose', ['x'], 'nchw', { perm: { ints: [0, 3, 1, 2] } }),
        node('Conv', ['nchw', 'w'], 'c'),
        node('Transpose', ['c'], 'nhwc', { perm: { ints: [0, 2, 3, 1] } }),
        node('Reshape', ['nhwc', 's'], 'y'),
      ],
      [w, shape('s', [-1, 8])],
    );
    const model = onnxGraphToLayers(g, 'model.onnx');
    expect(model.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Conv2D', 'Flatten']);
    expect(model.inputs[0]!.shape).toEqual([null, 2, 2, 3]);
    const x = tf.tensor4d(
      Array.from({ length: 12 }, (_, i) => i + 1),
      [1, 2, 2, 3],
    );
    expect(Array.from((model.predict(x) as tf.Tensor).dataSync())).toEqual([
      321, 3, 654, 6, 987, 9, 1320, 12,
    ]);
  });

  it('refuses a Transpose of a feature map other than before a Flatten', () => {
    const g = graph([1, 2, 2, 2], [node('Transpose', ['x'], 't', { perm: { ints: [0, 1, 3, 2] } })]);
    expect(() => onnxGraphToLayers(g, 'model.onnx')).toThrow(
      'model.onnx: node "/Transpose" (op Transpose) of a feature map is supported only as NCHW → NHWC (perm 0, 2, 3, 1) before a Flatten',
    );
  });

  it("auto_pad SAME_UPPER is 'same' (padding left out of a max); SAME_LOWER is refused", () => {
    const pool = (autoPad: string): OnnxGraph =>
      graph(
        [1, 1, 1, 4],
        [
          node('MaxPool', ['x'], 'y', {
            kernel_shape: { ints: [1, 3] },
            strides: { ints: [1, 2] },
            auto_pad: { s: autoPad },
          }),
        ],
      );
    const model = onnxGraphToLayers(pool('SAME_UPPER'), 'model.onnx');
    expect(model.layers[1]?.getConfig().padding).toBe('same');
    // Windows [−1, −2, −3] and [−3, −4, pad]: the pad is not a 0.
    expect(run(pool('SAME_UPPER'), [1, 1, 1, 4], [-1, -2, -3, -4])).toEqual([-1, -3]);
    expect(() => onnxGraphToLayers(pool('SAME_LOWER'), 'model.onnx')).toThrow(
      'model.onnx: node "/MaxPool" (op MaxPool) has auto_pad SAME_LOWER; only NOTSET, VALID and SAME_UPPER are supported',
    );
  });
});

describe('ONNX import: MatMul and padded pools in the torch fixtures', () => {
  async function fixture(name: string): Promise<OnnxGraph> {
    const file = path.join(FIXTURES, `${name}.onnx`);
    return decodeModel(new Uint8Array(await fs.readFile(file)), file).graph;
  }

  it('MatMul + Add of a bias becomes one Dense; the hand-written h-swish becomes Rescaling/ReLU/Multiply', async () => {
    const names = classes(await fixture('matmul'));
    expect(names).toEqual([
      'InputLayer',
      'ZeroPadding2D',
      'Conv2D',
      'Rescaling',
      'ReLU',
      'ReLU',
      'Multiply',
      'Rescaling',
      'Flatten',
      'Dense',
      'ReLU',
      'Rescaling',
      'Dense',
    ]);
  });

  it("the ResNet stem's MaxPool(3, 2, pad 1) after ReLU is zero padding + valid pool", async () => {
    const model = onnxGraphToLayers(await fixture('resnet-stem'), 'model.onnx');
    const pool = model.getLayer('stem_stem.3_MaxPool');
    expect(model.getLayer('stem_stem.3_MaxPool_pad').getConfig().padding).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(pool.getConfig().padding).toBe('valid');
    expect(pool.outputShape).toEqual([null, 8, 8, 8]);
  });

  it('the same MaxPool on inputs that may be negative is refused with the reason', async () => {
    const g = await fixture('resnet-stem');
    const relu = g.nodes.find((n) => n.name === '/stem/stem.2/Relu')!;
    relu.opType = 'Identity';
    expect(() => onnxGraphToLayers(g, 'model.onnx')).toThrow(
      `model.onnx: node "/stem/stem.3/MaxPool" (op MaxPool) has pads [1, 1, 1, 1] on a 16×16 input (output 8×8): TF.js's 'same' padding would place the windows differently, and zero padding would change the maximum of negative inputs (only taken after Relu, Clip(0, …) or a sigmoid)`,
    );
  });

  it("pools over odd sizes map to 'same' (max, ceil mode, average without pads counted) or zero padding", async () => {
    const model = onnxGraphToLayers(await fixture('pools'), 'model.onnx');
    const pools = model.layers.filter((l) => l.getClassName().endsWith('Pooling2D'));
    expect(pools.map((l) => [l.getClassName(), l.getConfig().padding, l.outputShape])).toEqual([
      ['MaxPooling2D', 'same', [null, 9, 9, 6]],
      ['AveragePooling2D', 'valid', [null, 5, 5, 6]],
      ['MaxPooling2D', 'same', [null, 3, 3, 6]],
      ['AveragePooling2D', 'same', [null, 2, 2, 6]],
    ]);
  });
});
