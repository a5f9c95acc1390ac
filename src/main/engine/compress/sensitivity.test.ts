import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf';
import type { LayersModel, Tensor } from '../tf';
import { chooseRatios } from './auto';
import { buildDependencyGraph } from './graph';
import { computeImportance } from './importance';
import { planPruning } from './pruner';
import type { SensitivityResult } from './sensitivity';
import { analyzeSensitivity, sensitivityCsv } from './sensitivity';
import { sampleInputs, sequentialCnn } from './test-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Fidelity: how often a model's top-1 agrees with the original's on fixed inputs. */
function fidelity(original: LayersModel, x: Tensor): (model: LayersModel) => Promise<number> {
  const reference = tf.tidy(() => tf.argMax(original.predict(x) as Tensor, 1).dataSync());
  return async (model) => {
    const predicted = Array.from(tf.tidy(() => tf.argMax(model.predict(x) as Tensor, 1).dataSync()));
    return predicted.reduce((n, p, i) => n + (p === reference[i] ? 1 : 0), 0) / predicted.length;
  };
}

describe('analyzeSensitivity', () => {
  it('prunes each group alone at each ratio and measures the real pruned model', async () => {
    const model = sequentialCnn();
    const x = sampleInputs(model, 64);
    let calls = 0;
    const measure = fidelity(model, x);
    const progress: string[] = [];
    const result = await analyzeSensitivity(
      model,
      async (m) => {
        calls += 1;
        return measure(m);
      },
      {
        criterion: 'l1',
        ratios: [0.25, 0.5, 0.75],
        onProgress: (done, total) => void progress.push(`${done}/${total}`),
      },
    );
    expect(calls).toBe(1 + 3 * 3);
    expect(progress.at(-1)).toBe('9/9');
    expect(result.baselineAccuracy).toBe(1);
    expect(result.groups.map((g) => [g.id, g.channels, g.channelsAfter])).toEqual([
      ['conv1', 6, [5, 3, 2]],
      ['conv2', 8, [6, 4, 2]],
      ['fc1', 10, [8, 5, 3]],
    ]);
    // The MACs removed by one group at one ratio equal a plan that prunes only that group.
    const plan = await planPruning(model, { criterion: 'l1', scope: 'layer', ratios: { conv2: 0.5 } });
    expect(result.groups[1]!.macsRemoved[1]).toBeCloseTo(
      1 - plan.totals.macsAfter / plan.totals.macsBefore,
      12,
    );
    for (const group of result.groups) {
      expect(group.accuracy.every((a) => a >= 0 && a <= 1)).toBe(true);
      expect(group.macsRemoved[2]!).toBeGreaterThan(group.macsRemoved[0]!);
    }
    // Pruning three quarters of a layer without fine-tuning changes some predictions.
    expect(Math.min(...result.groups.map((g) => g.accuracy[2]!))).toBeLessThan(1);

    const csv = sensitivityCsv(result).trimEnd().split('\n');
    expect(csv).toHaveLength(1 + 9);
    expect(csv[0]).toBe(
      'group,producers,channels,ratio,channels_after,accuracy,accuracy_drop_points,macs_removed,params_removed',
    );
    const row = csv[5]!.split(',');
    expect(row.slice(0, 5)).toEqual(['conv2', 'conv2', '8', '0.5', '4']);
    expect(Number(row[6])).toBeCloseTo((1 - result.groups[1]!.accuracy[1]!) * 100, 3);
  });
});

describe('chooseRatios (automatic mode)', () => {
  async function setup(): Promise<{
    graph: ReturnType<typeof buildDependencyGraph>;
    importance: Awaited<ReturnType<typeof computeImportance>>;
    sensitivity: SensitivityResult;
  }> {
    const graph = buildDependencyGraph(sequentialCnn());
    const importance = await computeImportance(graph, { criterion: 'l1' });
    const ratios = [0.25, 0.5, 0.75];
    const group = (id: string, accuracy: number[]): SensitivityResult['groups'][number] => ({
      id,
      producers: [id],
      channels: 0,
      channelsAfter: [],
      accuracy,
      macsRemoved: [],
      paramsRemoved: [],
    });
    // conv1 is fragile, conv2 costs a little, fc1 is free.
    const sensitivity: SensitivityResult = {
      criterion: 'l1',
      ratios,
      baselineAccuracy: 0.9,
      macs: 0,
      params: 0,
      groups: [
        group('conv1', [0.8, 0.6, 0.4]),
        group('conv2', [0.897, 0.894, 0.85]),
        group('fc1', [0.9, 0.9, 0.9]),
      ],
      notes: [],
    };
    return { graph, importance, sensitivity };
  }

  it('prunes the least sensitive groups first until the MACs target is reached', async () => {
    const { graph, importance, sensitivity } = await setup();
    const choice = chooseRatios(graph, importance, sensitivity, { budgetPoints: 1, macsTarget: 0.35 });
    expect(choice.ratios).toEqual({ conv2: 0.5, fc1: 0.75 });
    expect(choice.predictedDropPoints).toBeCloseTo(0.6, 9);
    expect(choice.reachedTarget).toBe(true);
    expect(choice.macsRemoved).toBeCloseTo(0.391, 3);
    expect(choice.steps.map((s) => s.group)).toEqual(['fc1', 'fc1', 'fc1', 'conv2', 'conv2']);
  });

  it('stops within the budget and says when the target was not reached', async () => {
    const { graph, importance, sensitivity } = await setup();
    const choice = chooseRatios(graph, importance, sensitivity, { budgetPoints: 0.5, macsTarget: 0.9 });
    expect(choice.ratios).toEqual({ conv2: 0.25, fc1: 0.75 });
    expect(choice.reachedTarget).toBe(false);
    expect(choice.predictedDropPoints).toBeLessThanOrEqual(0.5);
    // Without a target it removes as much as the budget allows: the same choice here.
    const noTarget = chooseRatios(graph, importance, sensitivity, { budgetPoints: 0.5 });
    expect(noTarget.ratios).toEqual(choice.ratios);
    expect(noTarget.reachedTarget).toBe(true);
  });
});
