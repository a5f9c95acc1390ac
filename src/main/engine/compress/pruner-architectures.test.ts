import { beforeAll, describe, expect, it } from 'vitest';
import type { ArchitectureName } from '../../../shared/jobs';
import { buildArchitecture } from '../model/architectures';
import { summarizeModel } from '../model/summary';
import { tf } from '../tf';
import type { Tensor } from '../tf';
import { buildDependencyGraph } from './graph';
import { applyPrunePlan, planPruning } from './pruner';
import { fillWeights, planRemovedUnits, sampleInputs, zeroRemovedChannels } from './test-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const CASES: [ArchitectureName, [number, number, number]][] = [
  ['lenet', [28, 28, 1]],
  ['vgg-small', [28, 28, 1]],
  ['resnet20', [32, 32, 3]],
  ['mobilenet-small', [32, 32, 3]],
];

describe.each(CASES)('built-in %s', (name, shape) => {
  it('plans with the model summary’s parameter and MAC counts, before and after', async () => {
    const model = buildArchitecture(name, shape, 10, 1);
    const plan = await planPruning(model, {
      criterion: 'l1',
      scope: 'layer',
      target: { metric: 'macs', fraction: 0.5 },
    });
    const before = summarizeModel(model);
    expect([plan.totals.paramsBefore, plan.totals.macsBefore]).toEqual([before.params, before.macs]);
    const pruned = await applyPrunePlan(model, plan);
    const after = summarizeModel(pruned);
    expect([plan.totals.paramsAfter, plan.totals.macsAfter]).toEqual([after.params, after.macs]);
    expect(after.macs).toBeLessThanOrEqual(before.macs * 0.5);
    expect(plan.unsupported).toEqual([]);
  });

  it('pruning channels zeroed first leaves the outputs unchanged', async () => {
    const model = buildArchitecture(name, shape, 10, 1);
    fillWeights(model, 9);
    const plan = await planPruning(model, { criterion: 'random', scope: 'global', ratio: 0.4, seed: 5 });
    const graph = buildDependencyGraph(model);
    zeroRemovedChannels(graph, planRemovedUnits(graph, plan));
    const x = sampleInputs(model, 2);
    const expected = Array.from((model.predict(x) as Tensor).dataSync());
    const pruned = await applyPrunePlan(model, plan);
    const actual = (pruned.predict(x) as Tensor).dataSync();
    expect(pruned.countParams()).toBeLessThan(model.countParams() * 0.8);
    const difference = expected.reduce((max, v, i) => Math.max(max, Math.abs(v - actual[i]!)), 0);
    expect(difference).toBeLessThan(1e-5);
  });
});
