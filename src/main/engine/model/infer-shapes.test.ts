import { describe, expect, it } from 'vitest';
import { tfl } from '../tf';
import type { LayersModel } from '../tf';
import { inferModel } from './infer-shapes';
import { validateTopology } from './validate-topology';

const FILE = 'model.json';

function topologyOf(model: LayersModel): unknown {
  return JSON.parse(JSON.stringify(model.toJSON(null, false)));
}

/** Every non-container layer: tfjs's own output shape and parameter count. */
function tfjsLayers(model: LayersModel): Map<string, { shape: unknown; params: number }> {
  const out = new Map<string, { shape: unknown; params: number }>();
  const visit = (m: LayersModel): void => {
    for (const layer of m.layers) {
      if (layer instanceof tfl.LayersModel) {
        visit(layer);
        continue;
      }
      const shape = layer.outputShape;
      out.set(layer.name, {
        shape: Array.isArray(shape[0]) || shape[0] === null ? shape : shape,
        params: layer.countParams(),
      });
    }
  };
  visit(model);
  return out;
}

function expectSameAsTfjs(model: LayersModel): void {
  const inferred = inferModel(validateTopology(topologyOf(model), FILE).model, FILE);
  expect(inferred.params).toBe(model.countParams());
  const truth = tfjsLayers(model);
  for (const layer of inferred.layers) {
    const expected = truth.get(layer.name);
    if (expected === undefined) continue; // containers and implicit input layers
    expect({ name: layer.name, params: layer.params }).toEqual({ name: layer.name, params: expected.params });
    const shapes = layer.outputShapes.length === 1 ? layer.outputShapes[0] : layer.outputShapes;
    expect({ name: layer.name, shape: shapes }).toEqual({ name: layer.name, shape: expected.shape });
  }
  const outputs = model.outputs.map((t) => t.shape);
  expect(inferred.outputShapes).toEqual(outputs);
  model.dispose();
}

describe('inferModel agrees with TensorFlow.js', () => {
  it('on a Sequential CNN with every 2-D layer kind', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.zeroPadding2d({
          inputShape: [27, 30, 3],
          padding: [
            [1, 2],
            [0, 3],
          ],
        }),
        tfl.layers.conv2d({ filters: 8, kernelSize: [3, 5], strides: 2, padding: 'valid' }),
        tfl.layers.batchNormalization(),
        tfl.layers.reLU({ maxValue: 6 }),
        tfl.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
        tfl.layers.separableConv2d({
          filters: 12,
          kernelSize: 3,
          dilationRate: 2,
          padding: 'same',
          useBias: false,
        }),
        tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        tfl.layers.cropping2D({
          cropping: [
            [1, 0],
            [0, 1],
          ],
        }),
        tfl.layers.upSampling2d({ size: [2, 3] }),
        tfl.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid' }),
        tfl.layers.averagePooling2d({ poolSize: 2 }),
        tfl.layers.prelu({ sharedAxes: [1, 2] }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    expectSameAsTfjs(model);
  });

  it('on a functional model with residual Add, Concatenate, and global pooling', () => {
    const input = tfl.input({ shape: [16, 16, 3], name: 'image' });
    const stem = tfl.layers
      .conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'stem' })
      .apply(input) as tfl.SymbolicTensor;
    const branch = tfl.layers
      .conv2d({ filters: 8, kernelSize: 1, name: 'branch' })
      .apply(stem) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({ name: 'sum' }).apply([stem, branch]) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate({ name: 'cat' }).apply([sum, stem]) as tfl.SymbolicTensor;
    const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(cat) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 5, name: 'head' }).apply(pooled) as tfl.SymbolicTensor;
    expectSameAsTfjs(tfl.model({ inputs: input, outputs: out }));
  });

  it('on recurrent, embedding and 1-D layers, with a shared layer counted once', () => {
    const tokens = tfl.input({ shape: [12], name: 'tokens' });
    const embedded = tfl.layers
      .embedding({ inputDim: 50, outputDim: 6, name: 'embed' })
      .apply(tokens) as tfl.SymbolicTensor;
    const conv = tfl.layers
      .conv1d({ filters: 5, kernelSize: 3, padding: 'same', name: 'conv1d' })
      .apply(embedded) as tfl.SymbolicTensor;
    const pooled = tfl.layers.maxPooling1d({ poolSize: 2, name: 'pool1d' }).apply(conv) as tfl.SymbolicTensor;
    const lstm = tfl.layers
      .lstm({ units: 4, returnSequences: true, name: 'lstm', recurrentInitializer: 'glorotUniform' })
      .apply(pooled) as tfl.SymbolicTensor;
    const gru = tfl.layers
      .bidirectional({
        layer: tfl.layers.gru({ units: 3, recurrentInitializer: 'glorotUniform' }) as tfl.RNN,
        name: 'bi',
      })
      .apply(lstm) as tfl.SymbolicTensor;
    const rnn = tfl.layers
      .simpleRNN({ units: 2, name: 'rnn', recurrentInitializer: 'glorotUniform' })
      .apply(pooled) as tfl.SymbolicTensor;
    const shared = tfl.layers.dense({ units: 3, name: 'shared' });
    const a = shared.apply(gru) as tfl.SymbolicTensor;
    const timeDistributed = tfl.layers
      .timeDistributed({ layer: tfl.layers.dense({ units: 7 }), name: 'td' })
      .apply(lstm) as tfl.SymbolicTensor;
    const norm = tfl.layers.layerNormalization({ name: 'ln' }).apply(timeDistributed) as tfl.SymbolicTensor;
    const flat = tfl.layers.globalAveragePooling1d({ name: 'gap1d' }).apply(norm) as tfl.SymbolicTensor;
    const b = shared.apply(tfl.layers.dense({ units: 6, name: 'proj' }).apply(flat)) as tfl.SymbolicTensor;
    const merged = tfl.layers.average({ name: 'avg' }).apply([a, b]) as tfl.SymbolicTensor;
    const rep = tfl.layers.repeatVector({ n: 2, name: 'rep' }).apply(merged) as tfl.SymbolicTensor;
    const perm = tfl.layers.permute({ dims: [2, 1], name: 'perm' }).apply(rep) as tfl.SymbolicTensor;
    const reshaped = tfl.layers
      .reshape({ targetShape: [-1], name: 'reshape' })
      .apply(perm) as tfl.SymbolicTensor;
    const both = tfl.layers.concatenate({ name: 'both' }).apply([reshaped, rnn]) as tfl.SymbolicTensor;
    expectSameAsTfjs(tfl.model({ inputs: tokens, outputs: both }));
  });

  it('on a Sequential nested inside a functional model', () => {
    const inner = tfl.sequential({
      name: 'inner',
      layers: [
        tfl.layers.dense({ inputShape: [4], units: 6, name: 'd1' }),
        tfl.layers.dense({ units: 2, name: 'd2' }),
      ],
    });
    const input = tfl.input({ shape: [4], name: 'x' });
    const y = inner.apply(input) as tfl.SymbolicTensor;
    const z = tfl.layers.dense({ units: 3, name: 'out' }).apply(y) as tfl.SymbolicTensor;
    expectSameAsTfjs(tfl.model({ inputs: input, outputs: z }));
  });
});

function sequentialConfig(layers: unknown[]): unknown {
  return { class_name: 'Sequential', config: { name: 'm', layers } };
}

const dense = (config: Record<string, unknown>): unknown => ({
  class_name: 'Dense',
  config: { name: 'dense', units: 10, ...config },
});

function check(topology: unknown): () => void {
  return () => inferModel(validateTopology(topology, FILE).model, FILE);
}

describe('inferModel refuses absurd configurations before anything is allocated', () => {
  it('refuses units: 2e9 with the layer, the weight and the limit', () => {
    const topology = sequentialConfig([dense({ batch_input_shape: [null, 784], units: 2e9 })]);
    expect(check(topology)).toThrow(
      'model.json: layer "dense": weight kernel [784, 2000000000] would hold 1.57e+12 values, over the limit of 268,435,456',
    );
  });

  it('refuses fractional, negative and zero sizes', () => {
    expect(check(sequentialConfig([dense({ batch_input_shape: [null, 4], units: 2.5 })]))).toThrow(
      'model.json: layer "dense": units must be a positive integer, got 2.5',
    );
    expect(check(sequentialConfig([dense({ batch_input_shape: [null, 4], units: -3 })]))).toThrow(
      'model.json: layer "dense": units must be a positive integer, got -3',
    );
    expect(check(sequentialConfig([dense({ batch_input_shape: [null, 4.5] })]))).toThrow(
      'model.json: layer "dense": batch_input_shape has an invalid dimension 4.5',
    );
    expect(check(sequentialConfig([dense({ batch_input_shape: [null, -4] })]))).toThrow(
      'model.json: layer "dense": batch_input_shape has an invalid dimension -4',
    );
  });

  it('refuses a total that is over the cap even when every tensor is under it', () => {
    // Each kernel is 12000 × 12000 = 1.44e8 values, under the per-tensor cap; two exceed the total.
    const layers = [dense({ name: 'a', batch_input_shape: [null, 12000], units: 12000 })];
    for (let i = 0; i < 2; i++) layers.push(dense({ name: `b${i}`, units: 12000 }));
    expect(check(sequentialConfig(layers))).toThrow(
      'model.json: layer "b0": the model would hold over 268,435,456 weight values in total',
    );
  });

  it('refuses a convolution whose kernel is larger than its input', () => {
    const conv = {
      class_name: 'Conv2D',
      config: { name: 'c', filters: 2, kernel_size: 5, batch_input_shape: [null, 3, 3, 1] },
    };
    expect(check(sequentialConfig([conv]))).toThrow(
      'model.json: layer "c": output shape [null, -1, -1, 2] has a dimension below 1 (the input is too small for this layer)',
    );
  });

  it('refuses a model without an input shape', () => {
    expect(check(sequentialConfig([dense({})]))).toThrow(
      'model.json: model "m" does not declare its input shape (its first layer has no batch_input_shape)',
    );
  });

  it('refuses graph references tfjs would loop on forever', () => {
    const functional = (layers: unknown[]): unknown => ({
      class_name: 'Model',
      config: { name: 'g', layers, input_layers: [['in', 0, 0]], output_layers: [['d', 0, 0]] },
    });
    const input = {
      class_name: 'InputLayer',
      config: { name: 'in', batch_input_shape: [null, 3] },
      inbound_nodes: [],
    };
    expect(
      check(
        functional([
          input,
          { class_name: 'Dense', config: { name: 'd', units: 2 }, inbound_nodes: [[['ghost', 0, 0, {}]]] },
        ]),
      ),
    ).toThrow('model.json: layer "d" takes its input from "ghost", which is not a layer of model "g"');
    expect(
      check(
        functional([
          input,
          { class_name: 'Dense', config: { name: 'd', units: 2 }, inbound_nodes: [[['d', 0, 0, {}]]] },
        ]),
      ),
    ).toThrow(
      'model.json: model "g": the inputs of layer "d" can never be resolved (a cycle or a missing node)',
    );
    expect(
      check(
        functional([
          input,
          { class_name: 'Dense', config: { name: 'd', units: 2 }, inbound_nodes: [[['in', 3, 0, {}]]] },
        ]),
      ),
    ).toThrow(
      'model.json: model "g": the inputs of layer "d" can never be resolved (a cycle or a missing node)',
    );
  });
});
