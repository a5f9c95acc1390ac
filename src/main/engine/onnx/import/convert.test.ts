import { promises as fs } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf } from '../../tf';
import { onnxGraphToLayers } from './convert';
import { decodeModel } from './proto';

const FIXTURES = path.join(__dirname, '../../../../../test/fixtures/onnx');

interface Expected {
  parameters: number;
  inputShape: [number, number, number, number];
  input: number[];
  logits: number[][];
}

async function importFixture(name: string) {
  const file = path.join(FIXTURES, `${name}.onnx`);
  const model = onnxGraphToLayers(decodeModel(new Uint8Array(await fs.readFile(file)), file).graph, file);
  const expected = JSON.parse(await fs.readFile(path.join(FIXTURES, `${name}.json`), 'utf8')) as Expected;
  const nchw = tf.tensor4d(expected.input, expected.inputShape);
  const logits = model.predict(tf.transpose(nchw, [0, 2, 3, 1])) as tf.Tensor;
  const diff = tf.max(tf.abs(tf.sub(logits, tf.tensor2d(expected.logits)))).dataSync()[0] ?? Infinity;
  return { model, expected, diff };
}

const ALL = [
  'resnet',
  'mobilenetv2',
  'firenet',
  'plain-view',
  'plain-flatten',
  'mobilenetv3',
  'matmul',
  'resnet-stem',
  'pools',
];

describe('ONNX → TF.js Layers', () => {
  for (const name of ALL) {
    it(`${name}: predictions match PyTorch's within 1e-4`, async () => {
      const { diff } = await importFixture(name);
      expect(diff).toBeLessThan(1e-4);
    });
  }

  it('parameter counts equal PyTorch’s', async () => {
    const counts: number[] = [];
    for (const name of ALL) {
      const { model, expected } = await importFixture(name);
      // PyTorch's parameters(): the trainable weights (BatchNorm's running statistics are buffers).
      const trainable = model.trainableWeights.reduce(
        (sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 0), 1),
        0,
      );
      expect(trainable).toBe(expected.parameters);
      counts.push(trainable);
    }
    expect(counts).toEqual([19994, 12970, 3802, 3030, 3030, 1486, 1890, 2466, 418]);
  });

  it('refuses an unsupported op with the node name and op type', async () => {
    const file = path.join(FIXTURES, 'firenet.onnx');
    const graph = decodeModel(new Uint8Array(await fs.readFile(file)), file).graph;
    const relu = graph.nodes.find((n) => n.opType === 'Relu');
    if (!relu) throw new Error('fixture has no Relu');
    relu.opType = 'Foo';
    relu.name = '/layer1/Foo';
    expect(() => onnxGraphToLayers(graph, 'model.onnx')).toThrow(
      'model.onnx: node "/layer1/Foo" (op Foo) is not supported; supported: Conv, BatchNormalization, Relu, Clip, LeakyRelu, Sigmoid, Tanh, HardSigmoid, HardSwish, MaxPool, AveragePool, GlobalAveragePool, Add, Sub, Mul, Div, Concat, Flatten, Reshape, Gemm, MatMul, Pad, Dropout, Identity, Softmax, Constant, Cast, Transpose, Shape, Gather, Unsqueeze',
    );
  });
});
