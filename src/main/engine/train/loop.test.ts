import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trainingOptionsSchema, type TrainingOptions } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import type { DatasetSplit } from '../data/types';
import { createMemoryContext } from '../job/context';
import { describeEachBackend } from '../testing/backends';
import { type LayersModel, tf, tfl } from '../tf';
import { Rng } from '../util/rng';
import { listCheckpoints } from './checkpoint';
import { evaluateModel } from './evaluate';
import { trainModel, type TrainData } from './loop';

const backend: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
const SHAPE: [number, number, number] = [6, 6, 1];

/** Class 0: bright top half; class 1: bright bottom half; both with noise. */
function halvesDataset(count: number, seed: number): DatasetSplit {
  const rng = new Rng(seed);
  const pixels = SHAPE[0] * SHAPE[1];
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    labels[n] = label;
    for (let i = 0; i < pixels; i++) {
      const top = i < pixels / 2;
      const bright = (label === 0) === top;
      images[n * pixels + i] = Math.floor((bright ? 150 : 20) + rng.next() * 100);
    }
  }
  return { images, labels, count };
}

function smallCnn(seed: number): LayersModel {
  const model = tfl.sequential({ name: 'small_cnn' });
  model.add(
    tfl.layers.conv2d({
      inputShape: SHAPE,
      filters: 3,
      kernelSize: 3,
      activation: 'relu',
      name: 'conv',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
  );
  model.add(tfl.layers.flatten({ name: 'flatten' }));
  model.add(
    tfl.layers.dense({
      units: 2,
      activation: 'softmax',
      name: 'classifier',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return model;
}

const training = (overrides: Partial<TrainingOptions> = {}): TrainingOptions =>
  trainingOptionsSchema.parse({ epochs: 3, learningRate: 0.01, validationSplit: 0, ...overrides });

async function weightsOf(model: LayersModel): Promise<number[][]> {
  return Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
}

let tmp: string;
const data: TrainData = {
  train: halvesDataset(96, 1),
  validation: halvesDataset(32, 2),
  shape: SHAPE,
  classes: 2,
};

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-loop-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

await describeEachBackend('trainModel', (backendName) => {
  it('learns a separable problem, reports epochs, and leaks no tensors', async () => {
    const model = smallCnn(3);
    const ctx = createMemoryContext(backend);
    const before = tf.memory().numTensors;
    const outcome = await trainModel(model, data, { training: training(), batchSize: 16, seed: 7 }, ctx);
    const evaluation = await evaluateModel(model, data.validation!, SHAPE, 2, {
      batchSize: 16,
      classNames: ['top', 'bottom'],
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(outcome.epochsCompleted).toBe(3);
    expect(outcome.history[2]!.loss).toBeLessThan(outcome.history[0]!.loss);
    expect(outcome.history[2]!.valAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(evaluation.accuracy).toBe(outcome.history[2]!.valAccuracy);
    const epochs = ctx.events.filter((e) => e.type === 'epoch');
    expect(epochs.map((e) => (e.type === 'epoch' ? e.epoch : 0))).toEqual([1, 2, 3]);
    const lastBatch = ctx.events.filter((e) => e.type === 'batch').at(-1);
    expect(lastBatch).toMatchObject({ epoch: 3, batch: 6, batches: 6 });
    model.dispose();
  });

  it('cancels at a batch boundary and resumes to the same weights as an uninterrupted run', async () => {
    const uninterrupted = smallCnn(5);
    await trainModel(
      uninterrupted,
      data,
      { training: training(), batchSize: 16, seed: 11 },
      createMemoryContext(backend),
    );
    const expected = await weightsOf(uninterrupted);

    const dir = path.join(tmp, `cancel-${backendName}`);
    const first = smallCnn(5);
    const controller = new AbortController();
    const ctx = createMemoryContext(backend, controller);
    const emit = ctx.emit;
    ctx.emit = (event) => {
      emit(event);
      // Cancel in the middle of the second epoch.
      if (event.type === 'batch' && event.epoch === 2 && event.batch === 3) controller.abort();
    };
    const options = {
      training: training(),
      batchSize: 16,
      seed: 11,
      checkpointDir: dir,
      batchEventIntervalMs: 0,
    };
    await expect(trainModel(first, data, options, ctx)).rejects.toThrow('cancelled by the user');
    const generations = (await listCheckpoints(dir)).map((d) => path.basename(d));
    expect(generations).toEqual(['ckpt-000001-000003', 'ckpt-000001-000000']);

    const resumed = smallCnn(99); // different initial weights: everything must come from the checkpoint
    const outcome = await trainModel(
      resumed,
      data,
      { ...options, resume: true },
      createMemoryContext(backend),
    );
    expect(outcome.resumedFrom).toMatchObject({ epoch: 1, batch: 3 });
    expect(outcome.epochsCompleted).toBe(3);
    const actual = await weightsOf(resumed);
    for (let i = 0; i < expected.length; i++) {
      for (let j = 0; j < expected[i]!.length; j++) expect(actual[i]![j]).toBeCloseTo(expected[i]![j]!, 5);
    }
    [uninterrupted, first, resumed].forEach((m) => m.dispose());
  });

  it('falls back to the previous checkpoint generation when the newest is corrupt', async () => {
    const dir = path.join(tmp, `corrupt-${backendName}`);
    const model = smallCnn(8);
    await trainModel(
      model,
      data,
      { training: training({ epochs: 2 }), batchSize: 32, seed: 1, checkpointDir: dir },
      createMemoryContext(backend),
    );
    const [newest, previous] = await listCheckpoints(dir);
    const weightsFile = path.join(newest!, 'weights.bin');
    const bytes = await fs.readFile(weightsFile);
    bytes[0] = bytes[0]! ^ 0xff;
    await fs.writeFile(weightsFile, bytes);

    const resumed = smallCnn(8);
    const ctx = createMemoryContext(backend);
    const outcome = await trainModel(
      resumed,
      data,
      { training: training({ epochs: 2 }), batchSize: 32, seed: 1, checkpointDir: dir, resume: true },
      ctx,
    );
    expect(outcome.resumedFrom?.checkpoint).toBe(previous);
    expect(outcome.resumedFrom?.epoch).toBe(1);
    const warning = ctx.events.find((e) => e.type === 'log' && e.level === 'warn');
    expect(warning).toMatchObject({
      message: `skipped checkpoint ${newest}: ${weightsFile}: SHA-256 mismatch (corrupt)`,
    });
    model.dispose();
    resumed.dispose();
  });

  it('stops within one batch on a non-finite loss and keeps the last good weights', async () => {
    // Linear logits and an absurd learning rate: the logits overflow float32 within a few steps.
    const model = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: SHAPE }), tfl.layers.dense({ units: 2, name: 'logits' })],
    });
    let good: number[][] = [];
    let stepsSeen = 0;
    const ctx = createMemoryContext(backend);
    const run = trainModel(
      model,
      data,
      {
        training: training({ learningRate: 3e38, optimizer: 'sgd', momentum: 0 }),
        batchSize: 16,
        seed: 2,
        hooks: {
          afterStep: async (m) => {
            stepsSeen += 1;
            // Asynchronous reads: webgpu cannot read synchronously in Node.
            good = await weightsOf(m);
          },
        },
      },
      ctx,
    );
    await expect(run).rejects.toThrow(
      /^training stopped at epoch 1, batch \d+: (the loss became (NaN|Infinity)|a gradient became NaN or Inf); the weights of the last good batch were kept\. Try a lower learning rate\.$/,
    );
    const kept = await weightsOf(model);
    expect(kept.flat().every(Number.isFinite)).toBe(true);
    expect(stepsSeen).toBeGreaterThan(0);
    expect(kept).toEqual(good);
    model.dispose();
  });

  it('re-estimates BatchNormalization statistics before validation, so inference mode does not trail training', async () => {
    const bnCnn = (): LayersModel => {
      const input = tfl.input({ shape: SHAPE });
      const conv = tfl.layers
        .conv2d({
          filters: 3,
          kernelSize: 3,
          name: 'conv',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }),
        })
        .apply(input) as ReturnType<typeof tfl.input>;
      const bn = tfl.layers.batchNormalization({ name: 'bn' }).apply(conv) as ReturnType<typeof tfl.input>;
      const flat = tfl.layers.flatten().apply(bn) as ReturnType<typeof tfl.input>;
      const out = tfl.layers
        .dense({
          units: 2,
          activation: 'softmax',
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }),
        })
        .apply(flat) as ReturnType<typeof tfl.input>;
      return tfl.model({ inputs: input, outputs: out });
    };
    const movingMean = async (model: LayersModel): Promise<number[]> =>
      Array.from(await model.getLayer('bn').getWeights()[2]!.data());
    /** Per-channel mean of the conv output over all 96 training samples, from the final weights. */
    const populationMean = async (model: LayersModel): Promise<number[]> => {
      const mean = tf.tidy(() => {
        const x = tf.div(tf.tensor4d(data.train.images, [96, ...SHAPE], 'float32'), 255);
        const y = model.getLayer('conv').apply(x) as tf.Tensor4D;
        return tf.mean(y, [0, 1, 2]);
      });
      const values = Array.from(await mean.data());
      mean.dispose();
      return values;
    };
    const options = { training: training({ epochs: 1 }), batchSize: 16, seed: 3 };

    const stale = bnCnn();
    await trainModel(stale, data, { ...options, bnRecalibrationSamples: 0 }, createMemoryContext(backend));
    const fresh = bnCnn();
    await trainModel(fresh, data, options, createMemoryContext(backend));

    // Six steps of momentum 0.99 move the moving mean only 1 − 0.99⁶ ≈ 6% of the way.
    const target = await populationMean(stale);
    (await movingMean(stale)).forEach((m, c) => {
      expect(Math.abs(m)).toBeLessThan(0.1 * Math.abs(target[c]!) + 1e-3);
    });
    // Re-estimated from all 96 training samples (the default takes up to 128).
    const expected = await populationMean(fresh);
    (await movingMean(fresh)).forEach((m, c) => expect(m).toBeCloseTo(expected[c]!, 4));
    stale.dispose();
    fresh.dispose();
  });

  it('refuses a dataset whose shape does not fit the model', async () => {
    const model = smallCnn(1);
    const wrong: TrainData = { ...data, shape: [5, 5, 1] };
    await expect(
      trainModel(model, wrong, { training: training(), batchSize: 8, seed: 1 }, createMemoryContext(backend)),
    ).rejects.toThrow(
      'the model "small_cnn" expects inputs of shape [6, 6, 1] but the dataset has [5, 5, 1]',
    );
    model.dispose();
  });
});

await describeEachBackend('evaluateModel', () => {
  it('counts a confusion matrix, per-class accuracy and top-5 exactly', async () => {
    // A fixed linear classifier on 1×1×1 "images": class = pixel value bucket, with one deliberate error.
    const model = tfl.sequential();
    model.add(tfl.layers.flatten({ inputShape: [1, 1, 1] }));
    model.add(tfl.layers.dense({ units: 6, activation: 'softmax', useBias: true }));
    // logits_k = x·w_k + b_k with x in [0,1]: class 0 wins for dark pixels, class 1 for bright ones.
    model.layers[1]!.setWeights([tf.tensor2d([[0, 10, 0, 0, 0, 0]]), tf.tensor1d([5, 0, 1, 2, 3, 4])]);
    const images = new Uint8Array([0, 0, 255, 255, 255, 0]);
    const labels = new Uint8Array([0, 0, 1, 1, 0, 2]);
    const result = await evaluateModel(model, { images, labels, count: 6 }, [1, 1, 1], 6, {
      batchSize: 4,
      classNames: ['a', 'b', 'c', 'd', 'e', 'f'],
    });
    expect(result.accuracy).toBeCloseTo(4 / 6, 10);
    expect(result.confusion[0]).toEqual([2, 1, 0, 0, 0, 0]);
    expect(result.confusion[1]).toEqual([0, 2, 0, 0, 0, 0]);
    expect(result.confusion[2]).toEqual([1, 0, 0, 0, 0, 0]);
    expect(result.perClassAccuracy.slice(0, 3)).toEqual([2 / 3, 1, 0]);
    expect(result.top5).toBe(1);
    model.dispose();
  });
});
