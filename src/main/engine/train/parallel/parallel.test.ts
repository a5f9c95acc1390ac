/**
 * Data-parallel replicas and micro-batches give the whole batch's gradient: for a network
 * without BatchNormalization (whose statistics are per micro-batch by design), the weights
 * after training on 2 replicas, or on micro-batches, equal those of one pass per batch to float
 * rounding, on the cpu backend and on wasm; a seed and a thread count give bit-identical weights;
 * a NaN or Inf stops a run on replicas as on one; nothing leaks.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type JobEventBody, trainingOptionsSchema } from '../../../../shared/jobs';
import type { BackendReport } from '../../../../shared/types';
import type { DatasetSplit } from '../../data/types';
import { createMemoryContext } from '../../job/context';
import { type LayersModel, tf, tfl } from '../../tf';
import { Rng } from '../../util/rng';
import { trainModel, type TrainData } from '../loop';
import { fitGpuMicroBatch, fitMicroBatch, isWasmAbort } from '../memory-estimate';
import { microBatches, partition, replicaCount } from './partition';
import { acquireThread, endIdleThreads, idleThreadCount, releaseThread } from './replica-threads';
import { registerWasmBackend } from '../../backend/wasm-backend';
import { MIN_NATIVE_MACS, setNativeKernelMinMacs } from '../../backend/native-conv';
import { MIN_SPLIT_MACS, setSplitMinMacs } from '../../backend/native-parts';
import { helperPartCount } from '../../backend/ort-helpers';
import { setKernelThreads } from '../../backend/threads';

const backend: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
const SHAPE: [number, number, number] = [8, 8, 1];

function randomSplit(count: number, seed: number): DatasetSplit {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = n % 3;
    for (let i = 0; i < 64; i++)
      images[n * 64 + i] = Math.floor(rng.next() * 128 + (i % 3 === labels[n] ? 100 : 0));
  }
  return { images, labels, count };
}

function convNet(): LayersModel {
  return tfl.sequential({
    name: 'conv_net',
    layers: [
      tfl.layers.conv2d({
        inputShape: SHAPE,
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.flatten(),
      tfl.layers.dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
}

const data: TrainData = { train: randomSplit(70, 3), shape: SHAPE, classes: 3 };
const training = trainingOptionsSchema.parse({ epochs: 2, learningRate: 0.01, validationSplit: 0 });

async function trainWith(
  threads: number,
  on: 'cpu' | 'wasm' = 'cpu',
  replicas = threads,
): Promise<{
  weights: Float32Array[];
  replicas: number;
  micro: number;
  kernelThreads: number;
  events: JobEventBody[];
}> {
  if (on === 'wasm') await registerWasmBackend();
  expect(await tf.setBackend(on)).toBe(true);
  const model = convNet();
  const ctx = createMemoryContext(
    on === 'cpu' ? backend : { used: 'wasm', device: 'WebAssembly', rungs: [] },
  );
  const outcome = await trainModel(model, data, { training, batchSize: 32, seed: 5, threads, replicas }, ctx);
  const weights = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
  model.dispose();
  return {
    weights,
    replicas: outcome.parallelism.replicas,
    micro: outcome.parallelism.microBatch,
    kernelThreads: outcome.parallelism.kernelThreads,
    events: ctx.events,
  };
}

function maxRelativeDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((values, i) => {
    const other = b[i]!;
    let diff = 0;
    let norm = 0;
    for (let j = 0; j < values.length; j++) {
      diff += (values[j]! - other[j]!) ** 2;
      norm += other[j]! ** 2;
    }
    worst = Math.max(worst, Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-12));
  });
  return worst;
}

describe('partition', () => {
  it('divides a batch into near-equal contiguous slices, larger first, dropping empty ones', () => {
    expect(partition(64, 2)).toEqual([
      { start: 0, size: 32 },
      { start: 32, size: 32 },
    ]);
    expect(partition(7, 3)).toEqual([
      { start: 0, size: 3 },
      { start: 3, size: 2 },
      { start: 5, size: 2 },
    ]);
    expect(partition(2, 4)).toEqual([
      { start: 0, size: 1 },
      { start: 1, size: 1 },
    ]);
    expect(microBatches({ start: 32, size: 32 }, 12)).toEqual([
      { start: 32, size: 12 },
      { start: 44, size: 12 },
      { start: 56, size: 8 },
    ]);
    expect(replicaCount(16, 64)).toBe(8);
    expect(replicaCount(2, 64)).toBe(2);
    expect(replicaCount(4, 8)).toBe(1);
    // LeNet (416,520 MACs a sample) and a 100 K-MAC MLP get one replica; MobileNet-small (6.77 M)
    // two on 2 threads and four on 16; ResNet-20 (40.8 M) one per thread, down to slices of 8.
    expect(replicaCount(2, 64, 416_520)).toBe(1);
    expect(replicaCount(16, 64, 416_520)).toBe(1);
    expect(replicaCount(16, 64, 100_000)).toBe(1);
    expect(replicaCount(2, 64, 6_765_056)).toBe(2);
    expect(replicaCount(16, 64, 6_765_056)).toBe(4);
    expect(replicaCount(16, 64, 40.8e6)).toBe(8);
    expect(replicaCount(16, 64, 3.2e6)).toBe(2);
  });
});

describe('data-parallel training', () => {
  afterEach(() => {
    delete process.env.POLLARD_MEMORY_BUDGET_MB;
  });
  afterAll(endIdleThreads);

  it('2 replicas give the weights of 1 to float rounding, bit-identical run to run, with no leaked tensors', async () => {
    const before = tf.memory().numTensors;
    const single = await trainWith(1);
    const first = await trainWith(2);
    const second = await trainWith(2);
    expect(tf.memory().numTensors).toBe(before);
    expect(single.replicas).toBe(1);
    expect(first.replicas).toBe(2);
    expect(first.micro).toBe(16);
    expect(maxRelativeDifference(first.weights, single.weights)).toBeLessThan(1e-5);
    expect(maxRelativeDifference(first.weights, single.weights)).toBeGreaterThan(0);
    expect(second.weights).toEqual(first.weights);
  });

  it("on wasm too (the replicas' gradients summed by Pollard's kernel), and a NaN in any replica stops the run", async () => {
    const before = tf.memory().numTensors;
    const single = await trainWith(1, 'wasm');
    const first = await trainWith(2, 'wasm');
    const second = await trainWith(2, 'wasm');
    expect(tf.memory().numTensors).toBe(before);
    expect(first.replicas).toBe(2);
    expect(maxRelativeDifference(first.weights, single.weights)).toBeLessThan(1e-5);
    expect(maxRelativeDifference(first.weights, single.weights)).toBeGreaterThan(0);
    expect(second.weights).toEqual(first.weights);

    const model = convNet();
    const ctx = createMemoryContext({ used: 'wasm', device: 'WebAssembly', rungs: [] });
    const diverging = trainingOptionsSchema.parse({
      epochs: 2,
      learningRate: 3e38,
      optimizer: 'sgd',
      momentum: 0,
      validationSplit: 0,
    });
    await expect(
      trainModel(model, data, { training: diverging, batchSize: 32, seed: 5, threads: 2, replicas: 2 }, ctx),
    ).rejects.toThrow(
      /^training stopped at epoch \d+, batch \d+: (the loss became (NaN|Infinity)|a gradient became NaN or Inf); the weights of the last good batch were kept\. Try a lower learning rate\.$/,
    );
    const kept = await Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
    expect(kept.flat().every(Number.isFinite)).toBe(true);
    model.dispose();
    await tf.setBackend('cpu');
  });

  it('one replica on two kernel threads cuts its native kernels across a helper thread: the weights of one thread to float rounding, bit-identical run to run', async () => {
    // conv_net's convolution is small: send it to ORT and cut it however small.
    setNativeKernelMinMacs(0);
    setSplitMinMacs(0);
    try {
      const single = await trainWith(1, 'wasm');
      const before = helperPartCount();
      const first = await trainWith(2, 'wasm', 1);
      const parts = helperPartCount() - before;
      const second = await trainWith(2, 'wasm', 1);
      expect(first.replicas).toBe(1);
      expect(first.kernelThreads).toBe(2);
      // 2 epochs of 3 batches (32, 32, 6): the forward pass and dW each sent a part to the
      // helper (the first layer computes no dx).
      expect(parts).toBe(2 * 3 * 2);
      expect(first.events).toContainEqual({
        type: 'log',
        level: 'info',
        message:
          'training on 2 threads: one replica, its large native kernels cut along the batch across them',
      });
      expect(maxRelativeDifference(first.weights, single.weights)).toBeLessThan(1e-5);
      expect(second.weights).toEqual(first.weights);
    } finally {
      setNativeKernelMinMacs(MIN_NATIVE_MACS);
      setSplitMinMacs(MIN_SPLIT_MACS);
      setKernelThreads(1);
      await tf.setBackend('cpu');
    }
  });

  it('a run takes the thread the previous run released, and a fresh thread computes alike', async () => {
    await endIdleThreads();
    const fresh = await trainWith(2);
    expect(idleThreadCount()).toBe(1);
    const warm = await trainWith(2);
    expect(idleThreadCount()).toBe(1);
    expect(warm.weights).toEqual(fresh.weights);
    await endIdleThreads();
    expect(idleThreadCount()).toBe(0);
    const again = await trainWith(2);
    expect(again.weights).toEqual(fresh.weights);
  });

  it('ends a thread released in the middle of a request instead of keeping it', async () => {
    await endIdleThreads();
    const thread = acquireThread('cpu', 1);
    const model = convNet();
    const buffer = (bytes: number) => new SharedArrayBuffer(bytes);
    const init = thread.init({
      type: 'init',
      rank: 1,
      backend: 'cpu',
      topology: model.toJSON(null, false),
      weights: model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] })),
      trainable: model.trainableWeights.map((w) => model.weights.indexOf(w)),
      kind: 'probabilities',
      classes: 3,
      sampleShape: SHAPE,
      maxSlice: 1,
      params: buffer(4 * model.countParams()),
      input: buffer(4 * 64),
      labels: buffer(4),
      grads: buffer(4 * model.countParams()),
      outputs: buffer(4 * 3),
      kernelThreads: 1,
      warmupSize: 1,
    });
    model.dispose();
    const rejected = expect(init).rejects.toThrow('replica 1 was closed');
    await releaseThread(thread);
    expect(idleThreadCount()).toBe(0);
    await rejected;
  });

  it('cancels and resumes on 2 replicas to the weights of an uninterrupted 2-replica run', async () => {
    const uninterrupted = await trainWith(2);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-parallel-'));
    try {
      const controller = new AbortController();
      const ctx = createMemoryContext(backend, controller);
      const emit = ctx.emit;
      ctx.emit = (event) => {
        emit(event);
        if (event.type === 'batch' && event.epoch === 2 && event.batch === 1) controller.abort();
      };
      const options = {
        training,
        batchSize: 32,
        seed: 5,
        threads: 2,
        replicas: 2,
        checkpointDir: dir,
        batchEventIntervalMs: 0,
      };
      const first = convNet();
      await expect(trainModel(first, data, options, ctx)).rejects.toThrow('cancelled by the user');
      first.dispose();
      const resumed = convNet();
      const outcome = await trainModel(
        resumed,
        data,
        { ...options, resume: true },
        createMemoryContext(backend),
      );
      expect(outcome.resumedFrom).toMatchObject({ epoch: 1, batch: 1 });
      expect(outcome.parallelism.replicas).toBe(2);
      const weights = await Promise.all(
        resumed.getWeights().map(async (w) => (await w.data()) as Float32Array),
      );
      resumed.dispose();
      expect(maxRelativeDifference(weights, uninterrupted.weights)).toBeLessThan(1e-6);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('micro-batches with gradient accumulation give the weights of whole batches when memory is short', async () => {
    const whole = await trainWith(1);
    // conv_net: 3.7 KiB of weights and optimizer state, 2.0 KiB of activations per sample, so
    // 0.02 MiB fits 8 samples a pass.
    process.env.POLLARD_MEMORY_BUDGET_MB = '0.02';
    const model = convNet();
    const ctx = createMemoryContext(backend);
    const outcome = await trainModel(model, data, { training, batchSize: 32, seed: 5, threads: 1 }, ctx);
    const weights = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
    model.dispose();
    expect(outcome.parallelism.microBatch).toBe(8);
    expect(ctx.events).toContainEqual({
      type: 'log',
      level: 'info',
      message: `training on 1 thread; micro-batches of ${outcome.parallelism.microBatch} with gradient accumulation, so that a step fits in memory`,
    });
    expect(maxRelativeDifference(weights, whole.weights)).toBeLessThan(1e-5);
  });

  it('refuses, before training, a model that cannot train even one sample within the budget', async () => {
    await tf.setBackend('cpu');
    const model = convNet();
    expect(() => fitMicroBatch(model, 32, 4096)).toThrow(
      'the model "conv_net" needs about 5.7 KiB to train on one sample (3.7 KiB for weights, gradients and optimizer state, 2.0 KiB per sample for activations), more than the 4.0 KiB the backend can use (WebAssembly memory is at most 4 GiB; POLLARD_MEMORY_BUDGET_MB sets the budget)',
    );
    process.env.POLLARD_MEMORY_BUDGET_MB = '0.004';
    await expect(
      trainModel(model, data, { training, batchSize: 32, seed: 5 }, createMemoryContext(backend)),
    ).rejects.toMatchObject({ code: 'oom' });
    model.dispose();
  });

  it('sizes GPU micro-batches by the largest activation against the adapter binding limit', async () => {
    await tf.setBackend('cpu');
    const model = convNet();
    // The largest output of conv_net is the conv's (or flatten's) 4×4×4 = 64 floats = 256 bytes a sample.
    expect(fitGpuMicroBatch(model, 32, 1024, 1024 ** 3)).toBe(4);
    expect(fitGpuMicroBatch(model, 32, 1024 ** 2, 1024 ** 3)).toBe(32);
    expect(() => fitGpuMicroBatch(model, 32, 100, 1024 ** 3)).toThrow(
      `the model "conv_net" has a layer output of 0.3 KiB per sample, more than the GPU adapter's largest storage buffer binding (0.1 KiB)`,
    );
    model.dispose();
  });

  it('recognises WebAssembly aborts', () => {
    expect(isWasmAbort(new Error('Aborted(). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(isWasmAbort(new WebAssembly.RuntimeError('memory access out of bounds'))).toBe(true);
    expect(isWasmAbort(new Error('the model has 2 outputs'))).toBe(false);
  });
});
