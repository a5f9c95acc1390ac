import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf, tfl } from '../../tf';
import type { LayersModel, Tensor } from '../../tf';
import { buildDependencyGraph } from '../../compress/graph';
import { applyPrunePlan, planPruning } from '../../compress/pruner';
import { fillWeights, planRemovedUnits, sampleInputs, zeroRemovedChannels } from '../../compress/test-models';
import { inferModel } from '../infer-shapes';
import { summarizeLayers } from '../summary';
import { validateTopology } from '../validate-topology';
import { channelwiseSlice } from './pruning-helpers';
import { dimsProduct } from './macs-helpers';
import { isSupportedLayer, registerLayer } from './registry';
import type { LayerKnowledge } from './types';

/** A custom tfjs layer: one learned scale per channel (y = x · scale[c]). */
class ChannelScale extends tfl.layers.Layer {
  static className = 'ChannelScale';
  private scale?: tfl.LayerVariable;

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = inputShape as (number | null)[];
    this.scale = this.addWeight('scale', [shape[shape.length - 1]!], 'float32', tfl.initializers.ones());
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return tf.mul(x, this.scale!.read());
  }
}
tf.serialization.registerClass(ChannelScale);

/** Its one entry: shape and weight, one multiply per value, channelwise to the pruner. */
const CHANNEL_SCALE: LayerKnowledge = {
  className: 'ChannelScale',
  group: 'Custom',
  shapes: (ctx) => {
    const input = ctx.single();
    ctx.addWeight('scale', [ctx.lastDim(input)]);
    return [input];
  },
  macs: ({ outputShapes }) => dimsProduct(outputShapes[0]!.slice(1)),
  pruning: { role: 'channelwise', slice: channelwiseSlice },
};

type SymbolicTensor = ReturnType<typeof tfl.input>;
const apply = (layer: { apply: (x: SymbolicTensor) => unknown }, x: SymbolicTensor) =>
  layer.apply(x) as SymbolicTensor;

/** conv(8) → ChannelScale → conv(8) → GAP → dense(3). */
function scaledNet(): LayersModel {
  const input = tfl.input({ shape: [8, 8, 2], name: 'input' });
  let x = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'head' }), input);
  x = apply(new ChannelScale({ name: 'scale' }), x);
  x = apply(tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'tail' }), x);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'gap' }), x);
  const out = apply(tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier' }), x);
  const model = tfl.model({ inputs: input, outputs: out });
  fillWeights(model, 21);
  return model;
}

const topologyOf = (model: LayersModel): unknown => JSON.parse(JSON.stringify(model.toJSON(null, false)));
const macsOfModel = (model: LayersModel): number =>
  summarizeLayers(model).reduce((sum, l) => sum + l.macs, 0);
const scaleRow = (model: LayersModel) => summarizeLayers(model).find((row) => row.name === 'scale')!;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('an unregistered custom layer', () => {
  it('is refused by name', () => {
    expect(isSupportedLayer('ChannelScale')).toBe(false);
    expect(() => validateTopology(topologyOf(scaledNet()), 'model.json')).toThrow(
      'model.json: unsupported layer "scale" (class_name "ChannelScale"): custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens',
    );
  });
});

describe('registerLayer: one entry makes a custom layer supported end to end', () => {
  let unregister: () => void = () => undefined;
  beforeAll(() => {
    unregister = registerLayer(CHANNEL_SCALE);
  });
  afterAll(() => unregister());

  it('is allowed, and shape inference sizes it like TensorFlow.js', () => {
    const model = scaledNet();
    const inferred = inferModel(validateTopology(topologyOf(model), 'model.json').model, 'model.json');
    const scale = inferred.layers.find((layer) => layer.name === 'scale')!;
    expect([scale.outputShapes, scale.weights, scale.params]).toEqual([
      [[null, 8, 8, 8]],
      [{ name: 'scale/scale', shape: [8] }],
      8,
    ]);
    expect(inferred.params).toBe(model.countParams());
  });

  it('counts its MACs in the summary (one multiply per value)', () => {
    expect(scaleRow(scaledNet()).macs).toBe(8 * 8 * 8);
  });

  it('is pruned through: its scale is sliced with the head conv, plan = built model, outputs kept', async () => {
    const model = scaledNet();
    const x = sampleInputs(model, 4);
    const plan = await planPruning(model, { criterion: 'l1', scope: 'layer', ratio: 0.5 });
    const graph = buildDependencyGraph(model);
    expect(graph.groups.map((group) => [group.id, group.members])).toEqual([
      ['head', ['head', 'scale', 'tail']],
      ['tail', ['tail', 'gap', 'classifier']],
    ]);
    zeroRemovedChannels(graph, planRemovedUnits(graph, plan));
    const expected = model.predict(x) as Tensor;
    const built = await applyPrunePlan(model, plan);
    const scale = built.getLayer('scale');
    expect([scale.getClassName(), scale.weights[0]!.shape]).toEqual(['ChannelScale', [4]]);
    expect(scaleRow(built).macs).toBe(8 * 8 * 4);
    expect([plan.totals.macsBefore, plan.totals.macsAfter]).toEqual([macsOfModel(model), macsOfModel(built)]);
    expect(plan.totals.paramsAfter).toBe(built.countParams());
    const difference = tf.max(tf.abs(tf.sub(expected, built.predict(x) as Tensor))).dataSync()[0]!;
    expect(difference).toBeLessThan(1e-6);
  });

  it('refuses a second entry for a class that has one', () => {
    expect(() => registerLayer(CHANNEL_SCALE)).toThrow('layer class ChannelScale is already registered');
  });
});
