import { describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../../../shared/jobs';
import type { ArchitectureName } from '../../../shared/jobs';
import { applyPrunePlan, planPruning } from '../compress/pruner';
import { concatNet, depthwiseNet, residualNet, sequentialCnn } from '../compress/test-models';
import { buildArchitecture } from '../model/architectures';
import { tf, tfl } from '../tf';
import type { LayersModel } from '../tf';
import { layersToOnnx, readWeightValues } from './layers-to-onnx';
import { verifyExport } from './verify-export';

/** Deterministic pseudo-random values in [lo, hi). */
function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  });
}

/** Non-trivial BatchNorm statistics (a fresh model has γ=1, β=0, μ=0, σ²=1: folding would be a no-op). */
function randomizeBatchNorms(model: LayersModel, seed: number): void {
  let k = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(
      layer.weights.map((w) => {
        const name = w.originalName;
        const [lo, hi] = name.endsWith('variance')
          ? [0.5, 2]
          : name.endsWith('gamma')
            ? [0.5, 1.5]
            : [-0.5, 0.5];
        return tf.tensor(
          values(
            w.shape.reduce((a, b) => a! * b!, 1)!,
            k++,
            lo,
            hi,
          ),
          w.shape as number[],
        );
      }),
    );
  }
}

function input(shape: [number, number, number], batch: number, seed: number): tf.Tensor4D {
  return tf.tensor4d(values(batch * shape[0] * shape[1] * shape[2], seed), [batch, ...shape]);
}

const SHAPES: Record<ArchitectureName, [number, number, number]> = {
  lenet: [28, 28, 1],
  'vgg-small': [16, 16, 3],
  resnet20: [12, 12, 3],
  'mobilenet-small': [16, 16, 3],
};

describe.each(ARCHITECTURES)('%s to ONNX', (arch: ArchitectureName) => {
  it.each(['nchw', 'nhwc'] as const)(
    'runs in ONNX Runtime with logits within 1e-4 of tfjs (%s)',
    async (layout) => {
      const model = buildArchitecture(arch, SHAPES[arch], 5, 3);
      randomizeBatchNorms(model, 11);
      const x = input(SHAPES[arch], 4, 5);
      const exported = layersToOnnx(model, { layout, exposeLogits: true });
      const check = await verifyExport(model, exported, x);
      expect(check.samples).toBe(4);
      expect(check.maxAbsDiffLogits).toBeLessThanOrEqual(1e-4);
      expect(check.maxAbsDiffOutput).toBeLessThanOrEqual(1e-5);
      expect(exported.inputShape).toEqual(
        layout === 'nchw' ? [SHAPES[arch][2], SHAPES[arch][0], SHAPES[arch][1]] : SHAPES[arch],
      );
      if (arch !== 'lenet') expect(exported.foldedBatchNorms).toBeGreaterThan(0);
      x.dispose();
      model.dispose();
    },
  );
});

describe('pruned and other models to ONNX', () => {
  it.each(['vgg-small', 'resnet20', 'mobilenet-small'] as ArchitectureName[])(
    'a structurally pruned %s (half the MACs) matches tfjs',
    async (arch) => {
      const model = buildArchitecture(arch, SHAPES[arch], 5, 3);
      randomizeBatchNorms(model, 4);
      const plan = await planPruning(model, {
        criterion: 'l1',
        scope: 'layer',
        target: { metric: 'macs', fraction: 0.5 },
      });
      const pruned = await applyPrunePlan(model, plan);
      expect(pruned.countParams()).toBeLessThan(model.countParams() * 0.8);
      const x = input(SHAPES[arch], 3, 8);
      const check = await verifyExport(pruned, layersToOnnx(pruned, { exposeLogits: true }), x);
      expect(check.maxAbsDiffLogits).toBeLessThanOrEqual(1e-4);
      x.dispose();
      model.dispose();
      pruned.dispose();
    },
  );

  it.each([
    ['sequential CNN (Flatten of 4×4 features)', sequentialCnn],
    ['residual net (Activation layers)', residualNet],
    ['depthwise net (depth multiplier 2)', () => depthwiseNet(3, 2)],
    ['concat net', concatNet],
  ] as [string, () => LayersModel][])('%s matches tfjs', async (_, build) => {
    const model = build();
    randomizeBatchNorms(model, 2);
    const shape = model.inputs[0]!.shape.slice(1) as [number, number, number];
    const x = input(shape, 3, 4);
    for (const layout of ['nchw', 'nhwc'] as const) {
      const check = await verifyExport(model, layersToOnnx(model, { layout, exposeLogits: true }), x);
      expect(Math.max(check.maxAbsDiffOutput, check.maxAbsDiffLogits ?? 0)).toBeLessThanOrEqual(1e-4);
    }
    x.dispose();
    model.dispose();
  });
});

describe('BatchNorm folding', () => {
  it('gives the same outputs as the unfolded graph', async () => {
    const model = buildArchitecture('resnet20', [8, 8, 3], 4, 1);
    randomizeBatchNorms(model, 3);
    const x = input([8, 8, 3], 3, 9);
    const folded = layersToOnnx(model, { exposeLogits: true });
    const unfolded = layersToOnnx(model, { exposeLogits: true, foldBatchNorm: false });
    // resnet20: every BatchNormalization follows a convolution directly.
    expect(folded.foldedBatchNorms).toBe(
      model.layers.filter((l) => l.getClassName() === 'BatchNormalization').length,
    );
    expect(unfolded.foldedBatchNorms).toBe(0);
    expect(folded.graph.nodes.some((n) => n.op === 'BatchNormalization')).toBe(false);
    expect(unfolded.graph.nodes.filter((n) => n.op === 'BatchNormalization').length).toBe(21);
    for (const exported of [folded, unfolded]) {
      expect((await verifyExport(model, exported, x)).maxAbsDiffLogits).toBeLessThanOrEqual(1e-4);
    }
    x.dispose();
    model.dispose();
  });

  it('keeps a BatchNormalization that follows an activation', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [6, 6, 2],
          filters: 3,
          kernelSize: 3,
          activation: 'relu',
          name: 'c',
        }),
        tfl.layers.batchNormalization({ name: 'bn' }),
        tfl.layers.flatten({ name: 'f' }),
        tfl.layers.dense({ units: 2, name: 'd' }),
      ],
    });
    randomizeBatchNorms(model, 5);
    const exported = layersToOnnx(model);
    expect(exported.foldedBatchNorms).toBe(0);
    const x = input([6, 6, 2], 2, 1);
    expect((await verifyExport(model, exported, x)).maxAbsDiffOutput).toBeLessThanOrEqual(1e-5);
    x.dispose();
    model.dispose();
  });
});

describe('unsupported layers', () => {
  it('are refused with the layer, its class and the file', () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, name: 'conv' }),
        tfl.layers.upSampling2d({ size: [2, 2], name: 'up' }),
      ],
    });
    expect(() => layersToOnnx(model, { source: '/models/m/model.json' })).toThrow(
      '/models/m/model.json: layer "up" (UpSampling2D) cannot be exported to ONNX: this layer type is not supported by the ONNX exporter',
    );
    model.dispose();
  });
});

describe('weights read beforehand', () => {
  it('are the values exported (a GPU backend cannot read synchronously)', async () => {
    const model = buildArchitecture('lenet', [28, 28, 1], 10, 1);
    const weightValues = await readWeightValues(model);
    expect(weightValues.size).toBe(model.weights.length);
    const asIs = layersToOnnx(model).graph.tensors ?? [];
    const read = layersToOnnx(model, { weightValues }).graph.tensors ?? [];
    expect(asIs.length).toBeGreaterThanOrEqual(8);
    expect(read.map((t) => [t.name, t.dims])).toEqual(asIs.map((t) => [t.name, t.dims]));
    expect(read.every((t, i) => t.data.every((v, j) => v === asIs[i]!.data[j]))).toBe(true);
    // The given values, not the variables', are what is written.
    const zeros = new Map([...weightValues].map(([w, v]) => [w, new Float32Array(v.length)]));
    const zeroed = layersToOnnx(model, { weightValues: zeros }).graph.tensors ?? [];
    expect(zeroed.filter((t) => t.data.some((v) => v !== 0)).map((t) => t.name)).toEqual([]);
    model.dispose();
  });
});
