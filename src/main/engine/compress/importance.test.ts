import { beforeAll, describe, expect, it } from 'vitest';
import type { Criterion } from '../../../shared/jobs';
import { tf, tfl } from '../tf';
import type { LayersModel } from '../tf';
import { Rng } from '../util/rng';
import type { DependencyGraph } from './graph';
import { buildDependencyGraph } from './graph';
import { computeImportance } from './importance';
import { weightKey } from './slicing';
import { depthwiseNet, residualNet, sampleInputs, sequentialCnn } from './test-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Make one unit of a group useless: zero filters, biases, BN scale and shift wherever it flows. */
function plantUselessUnit(graph: DependencyGraph, groupId: string, unitIndex: number): void {
  const root = graph.group(groupId).units[unitIndex]!;
  for (const node of graph.nodes) {
    if (node.role !== 'producer' && node.role !== 'channelwise') continue;
    const positions = Array.from(node.outputMap.keys()).filter(
      (p) => graph.unitOf(node.outputMap[p]!) === root,
    );
    if (positions.length === 0) continue;
    for (const weight of node.layer.weights) {
      if (!['kernel', 'pointwise_kernel', 'bias', 'gamma', 'beta'].includes(weightKey(weight.originalName)))
        continue;
      const shape = weight.shape as number[];
      const mask = new Float32Array(shape[shape.length - 1]!).fill(1);
      for (const p of positions) mask[p] = 0;
      const variable = weight.read() as tf.Variable;
      tf.tidy(() => variable.assign(tf.mul(variable, tf.tensor1d(mask))));
    }
  }
}

function calibration(model: LayersModel): { x: tf.Tensor; labels: number[] } {
  const rng = new Rng(11);
  const classes = model.outputs[0]!.shape[1]!;
  return { x: sampleInputs(model, 32, 5), labels: Array.from({ length: 32 }, () => rng.nextInt(classes)) };
}

function argMin(values: Float64Array): number {
  return values.indexOf(Math.min(...values));
}

const CRITERIA: Criterion[] = ['l1', 'l2', 'bn', 'fpgm', 'taylor'];
const CASES: [string, () => LayersModel, string, number][] = [
  ['sequential conv', sequentialCnn, 'conv2', 5],
  ['sequential dense', sequentialCnn, 'fc1', 2],
  ['residual stage', residualNet, 'stem', 3],
  ['depthwise pointwise', depthwiseNet, 'pw1', 7],
];

describe('importance criteria', () => {
  describe.each(CRITERIA)('%s', (criterion) => {
    it.each(CASES)('ranks a planted useless channel last (%s)', async (_name, make, groupId, unit) => {
      const model = make();
      const graph = buildDependencyGraph(model);
      plantUselessUnit(graph, groupId, unit);
      const importance = await computeImportance(graph, { criterion, calibration: calibration(model) });
      const scores = importance.scores.get(groupId)!;
      const others = scores.filter((_, i) => i !== unit);
      if (criterion !== 'taylor') expect(argMin(scores)).toBe(unit);
      if (criterion === 'fpgm') {
        // FPGM scores are distances to the other filters: the zero filter is the closest to their median.
        expect(Math.min(...others)).toBeGreaterThan(scores[unit]! + 1e-3);
      } else if (criterion === 'taylor') {
        // A channel that ReLU keeps at zero on the whole batch is just as useless (exactly 0 too:
        // this random model has two such channels in fc1); every live channel scores above it.
        expect(scores[unit]).toBe(0);
        expect(others.filter((v) => v > 1e-6).length).toBeGreaterThanOrEqual(others.length - 2);
      } else {
        expect(scores[unit]).toBe(0);
        expect(Math.min(...others)).toBeGreaterThan(1e-3);
      }
    });
  });

  it('computes filter norms and FPGM distances exactly', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [2], units: 3, useBias: false, name: 'hidden' }),
        tfl.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    model.getLayer('hidden').setWeights([
      tf.tensor2d([
        [1, -2, 0],
        [3, 4, 0],
      ]),
    ]);
    const graph = buildDependencyGraph(model);
    const scores = async (criterion: Criterion): Promise<number[]> =>
      Array.from((await computeImportance(graph, { criterion })).scores.get('hidden')!);
    expect(await scores('l1')).toEqual([4, 6, 0]);
    const l2 = await scores('l2');
    expect(l2.map((v) => v * v)).toEqual([expect.closeTo(10, 5), expect.closeTo(20, 5), 0]);
    // Filters (1,3), (−2,4), (0,0): Σ distances to the others.
    const d12 = Math.sqrt(9 + 1);
    const fpgm = await scores('fpgm');
    expect(fpgm[0]).toBeCloseTo(d12 + Math.sqrt(10), 5);
    expect(fpgm[1]).toBeCloseTo(d12 + Math.sqrt(20), 5);
    expect(fpgm[2]).toBeCloseTo(Math.sqrt(10) + Math.sqrt(20), 5);
  });

  it('takes |gamma| for bn, and falls back to L2 where there is no BN, saying so', async () => {
    const model = sequentialCnn();
    const graph = buildDependencyGraph(model);
    const importance = await computeImportance(graph, { criterion: 'bn' });
    const gamma = model.getLayer('bn2').getWeights()[0]!.dataSync();
    expect(Array.from(importance.scores.get('conv2')!)).toEqual(Array.from(gamma).map((g) => Math.abs(g)));
    expect(importance.notes).toEqual([
      'fc1: no BatchNormalization on every channel; ranked by the L2 norm of the filters',
    ]);
  });

  it('averages BN scales over every BN of a residual group', async () => {
    const model = residualNet();
    const importance = await computeImportance(buildDependencyGraph(model), { criterion: 'bn' });
    const gammas = ['stem_bn', 'block1_bn2', 'block2_bn2'].map((name) =>
      model.getLayer(name).getWeights()[0]!.dataSync(),
    );
    const expected = Array.from(
      { length: 8 },
      (_, j) => gammas.reduce((sum, g) => sum + Math.abs(g[j]!), 0) / 3,
    );
    Array.from(importance.scores.get('stem')!).forEach((value, j) =>
      expect(value).toBeCloseTo(expected[j]!, 6),
    );
  });

  it('random is seeded', async () => {
    const graph = buildDependencyGraph(sequentialCnn());
    const a = await computeImportance(graph, { criterion: 'random', seed: 1 });
    const b = await computeImportance(graph, { criterion: 'random', seed: 1 });
    const c = await computeImportance(graph, { criterion: 'random', seed: 2 });
    expect(a.scores.get('conv2')).toEqual(b.scores.get('conv2'));
    expect(a.scores.get('conv2')).not.toEqual(c.scores.get('conv2'));
  });

  it('taylor needs a calibration batch and frees its gradients', async () => {
    const model = sequentialCnn();
    const graph = buildDependencyGraph(model);
    await expect(computeImportance(graph, { criterion: 'taylor' })).rejects.toThrow(
      'the taylor criterion needs a calibration batch',
    );
    const batch = calibration(model);
    const before = tf.memory().numTensors;
    await computeImportance(graph, { criterion: 'taylor', calibration: batch, chunkSize: 5 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
