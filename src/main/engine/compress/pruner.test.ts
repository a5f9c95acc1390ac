import { beforeAll, describe, expect, it } from 'vitest';
import { tf, tfl } from '../tf';
import type { LayersModel, Tensor } from '../tf';
import { buildDependencyGraph } from './graph';
import { applyPrunePlan, planPruning, StructuredPruner } from './pruner';
import {
  concatNet,
  depthwiseNet,
  opaqueNet,
  residualNet,
  sampleInputs,
  sequentialCnn,
  planRemovedUnits,
  zeroRemovedChannels,
} from './test-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const MODELS: [string, () => LayersModel][] = [
  ['sequential', sequentialCnn],
  ['residual', residualNet],
  ['depthwise', depthwiseNet],
  ['depthwise, separable multiplier 2', () => depthwiseNet(3, 2)],
  ['concat', concatNet],
  ['opaque', opaqueNet],
];

function predict(model: LayersModel, x: Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as Tensor).dataSync() as Float32Array);
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i]!)), 0);
}

async function roundTrip(model: LayersModel): Promise<LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
}

describe.each(MODELS)('structured pruning of the %s model', (_name, make) => {
  it('pruning 0% rebuilds a model with identical outputs', async () => {
    const model = make();
    const x = sampleInputs(model, 4);
    const pruned = await applyPrunePlan(
      model,
      await planPruning(model, { criterion: 'l1', scope: 'layer', ratio: 0 }),
    );
    expect(pruned.countParams()).toBe(model.countParams());
    expect(maxDifference(predict(model, x), predict(pruned, x))).toBe(0);
  });

  it('pruning channels that were zeroed first gives identical outputs, and the model shrinks', async () => {
    const model = make();
    const x = sampleInputs(model, 4);
    const plan = await planPruning(model, { criterion: 'random', scope: 'layer', ratio: 0.5, seed: 3 });
    const graph = buildDependencyGraph(model);
    zeroRemovedChannels(graph, planRemovedUnits(graph, plan));
    const expected = predict(model, x);
    const pruned = await applyPrunePlan(model, plan);
    expect(pruned.countParams()).toBe(plan.totals.paramsAfter);
    expect(plan.totals.paramsAfter).toBeLessThan(plan.totals.paramsBefore);
    expect(maxDifference(expected, predict(pruned, x))).toBeLessThan(1e-6);
  });

  it('the pruned model saves, reloads with stock loadLayersModel and predicts identically', async ({
    skip,
  }) => {
    // tfjs's own serialisation loses a SeparableConv2D's depth_multiplier (getConfig omits it).
    if (_name.includes('separable multiplier')) skip();
    const model = make();
    const x = sampleInputs(model, 3);
    const pruned = await applyPrunePlan(
      model,
      await planPruning(model, { criterion: 'l2', scope: 'global', ratio: 0.4 }),
    );
    const reloaded = await roundTrip(pruned);
    expect(reloaded.countParams()).toBe(pruned.countParams());
    expect(maxDifference(predict(pruned, x), predict(reloaded, x))).toBe(0);
  });
});

describe('pruning plan', () => {
  it('counts channels, params and MACs before → after for each group and layer', async () => {
    const plan = await planPruning(sequentialCnn(), { criterion: 'l1', scope: 'layer', ratio: 0.5 });
    expect(plan.groups.map((g) => [g.id, g.channelsBefore, g.channelsAfter])).toEqual([
      ['conv1', 6, 3],
      ['conv2', 8, 4],
      ['fc1', 10, 5],
    ]);
    const conv2 = plan.layers.find((l) => l.name === 'conv2')!;
    // kernel 3·3·6·8 + bias 8 → 3·3·3·4 + 4; MACs: kernel elements × 4·4 positions.
    expect([conv2.paramsBefore, conv2.paramsAfter]).toEqual([440, 112]);
    expect([conv2.macsBefore, conv2.macsAfter]).toEqual([432 * 16, 108 * 16]);
    const fc1 = plan.layers.find((l) => l.name === 'fc1')!;
    expect([fc1.inChannelsBefore, fc1.inChannelsAfter, fc1.outChannelsAfter]).toEqual([128, 64, 5]);
    // conv1 alone: its 28 removed... conv1 kernel 3·3·1·6+6 → 3·3·1·3+3, bn1 4·6 → 4·3, conv2 input halves.
    const conv1 = plan.groups[0]!;
    expect(conv1.paramsBefore - conv1.paramsAfter).toBe(30 + 12 + 216);
    expect(plan.totals.macsBefore).toBe(3 * 3 * 6 * 64 + 432 * 16 + 128 * 10 + 10 * 3);
  });

  it('reaches a MACs target with the smallest ratio that hits it', async () => {
    const model = residualNet();
    const plan = await planPruning(model, {
      criterion: 'l1',
      scope: 'layer',
      target: { metric: 'macs', fraction: 0.5 },
    });
    const removed = 1 - plan.totals.macsAfter / plan.totals.macsBefore;
    expect(removed).toBeGreaterThanOrEqual(0.5);
    expect(removed).toBeLessThan(0.65);
    const lower = await planPruning(model, { criterion: 'l1', scope: 'layer', ratio: plan.ratio - 0.02 });
    expect(1 - lower.totals.macsAfter / lower.totals.macsBefore).toBeLessThan(0.5);
    const pruned = await applyPrunePlan(model, plan);
    expect(pruned.countParams()).toBe(plan.totals.paramsAfter);
  });

  it('reaches a params target with global ranking', async () => {
    const plan = await planPruning(concatNet(), {
      criterion: 'fpgm',
      scope: 'global',
      target: { metric: 'params', fraction: 0.3 },
    });
    expect(1 - plan.totals.paramsAfter / plan.totals.paramsBefore).toBeGreaterThanOrEqual(0.3);
  });

  it('honours minChannels and roundTo', async () => {
    const model = residualNet();
    const floor = await planPruning(model, { criterion: 'l1', scope: 'layer', ratio: 0.9, minChannels: 4 });
    expect(floor.groups.map((g) => g.channelsAfter)).toEqual([4, 4, 4, 4, 4]);
    const rounded = await planPruning(model, { criterion: 'l1', scope: 'layer', ratio: 0.3, roundTo: 4 });
    // 8 − ⌊2.4⌋ = 6 → 8; 12 − ⌊3.6⌋ = 9 → 12: rounding up never prunes more than asked.
    expect(rounded.groups.map((g) => g.channelsAfter)).toEqual([8, 8, 8, 12, 12]);
    const half = await planPruning(model, { criterion: 'l1', scope: 'layer', ratio: 0.5, roundTo: 4 });
    expect(half.groups.map((g) => g.channelsAfter)).toEqual([4, 4, 4, 8, 8]);
  });

  it('says so when channel rounding makes the plan remove clearly more than the target', async () => {
    const model = residualNet();
    const plan = await planPruning(model, {
      criterion: 'l1',
      scope: 'layer',
      roundTo: 4,
      target: { metric: 'macs', fraction: 0.05 },
    });
    const removed = 1 - plan.totals.macsAfter / plan.totals.macsBefore;
    expect(removed).toBeGreaterThan(0.07);
    expect(plan.notes).toContain(
      `asked for 5.0% fewer MACs; the smallest plan that reaches it removes ${(removed * 100).toFixed(1)}%, ` +
        'because whole blocks of channels go at once (kept counts are multiples of 4; a smaller --round-to fits closer)',
    );
    const close = await planPruning(model, {
      criterion: 'l1',
      scope: 'global',
      target: { metric: 'macs', fraction: 0.05 },
    });
    const closeRemoved = 1 - close.totals.macsAfter / close.totals.macsBefore;
    expect(closeRemoved - 0.05).toBeLessThanOrEqual(0.02);
    expect(close.notes.filter((note) => note.startsWith('asked for'))).toEqual([]);
  });

  it('applies per-group ratios and leaves ignored layers whole', async () => {
    const model = residualNet();
    const plan = await planPruning(model, {
      criterion: 'l1',
      scope: 'layer',
      ratios: { block1_conv1: 0.75, block3_conv2: 0.5 },
      ignoredLayers: ['stem'],
    });
    expect(plan.groups.map((g) => [g.id, g.channelsAfter])).toEqual([
      ['block1_conv1', 2],
      ['block2_conv1', 8],
      ['block3_conv1', 12],
      ['block3_conv2', 6],
    ]);
  });

  it('says which layers were left whole', async () => {
    const plan = await planPruning(opaqueNet(), { criterion: 'l1', scope: 'layer', ratio: 0.5 });
    expect(plan.notes).toEqual([
      'reshape (Reshape) left whole: Reshape rearranges its input, so the pruner cannot follow channels through it; the layers feeding it keep theirs',
      'attention (Activation) left whole: softmax couples all channels',
    ]);
  });

  it('refuses an unreachable target and a missing ratio', async () => {
    await expect(
      planPruning(sequentialCnn(), {
        criterion: 'l1',
        scope: 'layer',
        target: { metric: 'macs', fraction: 0.9 },
        minChannels: 4,
      }),
    ).rejects.toThrow(/^cannot remove 90\.0% of the MACs: at most \d+\.\d% with min channels 4, round to 1$/);
    await expect(planPruning(sequentialCnn(), { criterion: 'l1', scope: 'layer' })).rejects.toThrow(
      'give a pruning ratio, per-group ratios or a MACs/params target',
    );
  });

  it('StructuredPruner.step returns the smaller model with its plan', async () => {
    const model = depthwiseNet();
    const { model: pruned, plan } = await new StructuredPruner({
      criterion: 'bn',
      scope: 'layer',
      ratio: 0.25,
    }).step(model);
    expect(plan.groups.map((g) => g.channelsAfter)).toEqual([6, 9, 8]);
    expect(pruned.getLayer('dw2').outputShape).toEqual([null, 4, 4, 18]);
    expect(pruned.countParams()).toBe(plan.totals.paramsAfter);
  });
});
