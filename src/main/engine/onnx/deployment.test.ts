/**
 * The compress job's ONNX Runtime figures: both models' accuracy in ONNX Runtime equals
 * TensorFlow.js's on the same split, an 8-bit run is deployed as int8 QDQ (smaller, with its
 * calibration recorded), and overlapping latency ranges read "no measurable difference".
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmBackend } from '../backend/wasm-backend';
import { firstSamples } from '../compress/job-data';
import { DEFAULT_NORMALIZATION, openDataset } from '../data';
import type { Dataset } from '../data';
import { buildArchitecture } from '../model/architectures';
import { tf } from '../tf';
import type { LayersModel } from '../tf';
import { latencyVerdict, measureOnnxDeployment } from './deployment';
import { layersToOnnx } from './layers-to-onnx';
import { quantizedActivations } from './quantize-qdq';

const SAMPLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../resources/samples/fashion-mnist-small',
);

function tfjsAccuracy(model: LayersModel, dataset: Dataset, count: number): number {
  return tf.tidy(() => {
    const [h, w, c] = dataset.shape;
    const x = tf.tensor4d(
      Float32Array.from(dataset.test!.images.subarray(0, count * h * w * c), (v) => v / 255),
      [count, h, w, c],
    );
    const predicted = tf.argMax(model.predict(x) as tf.Tensor, -1).dataSync();
    let hits = 0;
    for (let i = 0; i < count; i++) if (predicted[i] === dataset.test!.labels[i]) hits++;
    return hits / count;
  });
}

describe('measureOnnxDeployment', () => {
  let dataset: Dataset;
  beforeAll(async () => {
    await registerWasmBackend();
    await tf.setBackend('wasm');
    dataset = await openDataset(SAMPLE, { limit: 300 });
  });

  it('scores both models as TensorFlow.js does, and deploys an 8-bit run as int8', async () => {
    const original = buildArchitecture('vgg-small', [28, 28, 1], 10, 1);
    const compressed = buildArchitecture('vgg-small', [28, 28, 1], 10, 2);
    try {
      const evaluation = firstSamples(dataset.test!, 128);
      const input = {
        original,
        compressed,
        train: dataset.train,
        evaluation,
        evaluationSplit: 'test' as const,
        shape: dataset.shape,
        classes: 10,
        normalization: DEFAULT_NORMALIZATION,
      };
      const float = await measureOnnxDeployment({ ...input, int8: false });
      expect(float.runtime).toBe('deployed on ONNX Runtime (CPU)');
      expect(float.evaluation).toEqual({ split: 'test', samples: 128 });
      expect(float.before.accuracy).toBeCloseTo(tfjsAccuracy(original, dataset, 128), 6);
      expect(float.after.accuracy).toBeCloseTo(tfjsAccuracy(compressed, dataset, 128), 6);
      expect([float.before.format, float.after.format]).toEqual(['float32', 'float32']);
      expect(float.calibration).toBeUndefined();
      // Same architecture, same size.
      expect(float.after.sizeBytes).toBe(float.before.sizeBytes);

      const int8 = await measureOnnxDeployment({ ...input, int8: true });
      expect(int8.after.format).toBe('int8');
      expect(int8.calibration).toEqual({ samples: 256, method: 'minmax', fromQat: 0 });
      expect(int8.after.sizeBytes).toBeLessThan(0.3 * int8.before.sizeBytes);
      // A QAT run's learned ranges replace calibration for every layer output they cover.
      const qatRanges = Object.fromEntries(compressed.layers.map((l) => [l.name, { min: -4, max: 4 }]));
      const learned = await measureOnnxDeployment({ ...input, int8: true, qatRanges });
      expect(learned.calibration).toEqual({ samples: 0, method: 'minmax', fromQat: 11 });
      // One layer without a learned range: that tensor alone is calibrated, on the usual 256 samples.
      const partial = { ...qatRanges };
      const exported = layersToOnnx(compressed, { layout: 'nchw' });
      delete partial[exported.tensorLayers.get(quantizedActivations(exported.graph)[0]!)!];
      const mixed = await measureOnnxDeployment({ ...input, int8: true, qatRanges: partial });
      expect(mixed.calibration).toEqual({ samples: 256, method: 'minmax', fromQat: 10 });
      for (const key of ['batch1', 'batch32'] as const) {
        const [p25, p75] = int8.after.latencySpreadMs[key];
        expect(p25).toBeLessThanOrEqual(int8.after.latencyMs[key]);
        expect(p75).toBeGreaterThanOrEqual(int8.after.latencyMs[key]);
        expect(int8.speedup[key] === null).toBe(int8.verdict[key] === 'no measurable difference');
      }
    } finally {
      original.dispose();
      compressed.dispose();
    }
  });
});

describe('latencyVerdict', () => {
  it('calls overlapping interquartile ranges no measurable difference', () => {
    expect(latencyVerdict({ median: 1.1, spread: [1.0, 1.2] }, { median: 1.2, spread: [1.1, 1.3] })).toEqual({
      ratio: null,
      text: 'no measurable difference',
    });
    expect(latencyVerdict({ median: 2.1, spread: [2.0, 2.2] }, { median: 0.95, spread: [0.9, 1.0] })).toEqual(
      {
        ratio: 2.1 / 0.95,
        text: '2.21× faster',
      },
    );
    expect(
      latencyVerdict({ median: 1.05, spread: [1.0, 1.1] }, { median: 1.55, spread: [1.5, 1.6] }),
    ).toEqual({
      ratio: 1.05 / 1.55,
      text: '1.48× slower',
    });
  });
});
