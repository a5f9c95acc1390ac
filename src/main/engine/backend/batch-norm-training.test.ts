/**
 * The training-mode BatchNormalization (closed-form backward) computes the same output,
 * gradients (x, gamma, beta) and moving statistics as tfjs-layers' own training path (the
 * reference, run on the cpu backend), on cpu and wasm, for rank-2, rank-3 and rank-4 inputs,
 * and leaks no tensors.
 */
import { BATCH_NORM_FORWARD_KERNEL } from './batch-norm-forward-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, tfl } from '../tf';
import { BATCH_NORM_GRAD_KERNEL, batchNormGradWasmConfig } from './batch-norm-grad-wasm';
import { normalizeBatchInTraining, registerBatchNormTraining } from './batch-norm-training';
import { registerWasmBackend } from './wasm-backend';
import { randomArray, relativeError } from '../testing/numeric';

type Backend = 'cpu' | 'wasm';
type Call = (this: unknown, inputs: tf.Tensor, kwargs: Record<string, unknown>) => tf.Tensor;

interface LayerVariable {
  read(): tf.Tensor;
  write(value: tf.Tensor): void;
}
interface BatchNormLayer extends tfl.layers.Layer {
  gamma: LayerVariable;
  beta: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}

function variableOf(weight: LayerVariable): tf.Variable {
  return (weight as unknown as { val: tf.Variable }).val;
}

/** tfjs-layers' own BatchNormalization.call, captured before Pollard patches it. */
let tfjsCall: Call;

beforeAll(async () => {
  const registered = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization;
  tfjsCall = (registered?.[0] as unknown as { prototype: { call: Call } }).prototype.call;
  await registerWasmBackend();
  registerBatchNormTraining();
  registerBatchNormTraining(); // idempotent
});

interface Case {
  shape: number[];
  seed: number;
  /** The activations' mean (default 0.7; their spread is ~0.87). */
  offset?: number;
}

interface StepResult {
  output: Float32Array;
  /** dL/dx, dL/dγ, dL/dβ for L = Σ y·w with fixed random w. */
  grads: Float32Array[];
  movingMean: Float32Array;
  movingVariance: Float32Array;
}

/**
 * One training-mode call of a fresh BatchNormalization layer (momentum 0.9, random γ, β and
 * moving statistics) on `backend`, under `call` (the patched layer's, or tfjs-layers' own).
 */
async function trainingStep(
  backend: Backend,
  { shape, seed, offset = 0.7 }: Case,
  call?: Call,
): Promise<StepResult> {
  expect(await tf.setBackend(backend)).toBe(true);
  const channels = shape[shape.length - 1] as number;
  const size = shape.reduce((a, b) => a * b, 1);
  const layer = tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 }) as unknown as BatchNormLayer;
  layer.build(shape);
  const initial = [
    tf.tensor1d(randomArray(channels, seed + 1, 1, 1)),
    tf.tensor1d(randomArray(channels, seed + 2)),
    tf.tensor1d(randomArray(channels, seed + 3)),
    tf.tensor1d(randomArray(channels, seed + 4, 1, 1)),
  ];
  layer.setWeights(initial);
  tf.dispose(initial);
  // Activations away from zero mean and unit variance, as after a convolution.
  const x = tf.variable(tf.tensor(randomArray(size, seed, 3, offset), shape));
  const w = tf.tensor(randomArray(size, seed + 5), shape);
  const before = tf.memory().numTensors;
  let output: Float32Array | undefined;
  const variables = [x, variableOf(layer.gamma), variableOf(layer.beta)];
  const { value, grads } = tf.variableGrads(() => {
    const y = call
      ? call.call(layer, x, { training: true })
      : (layer.apply(x, { training: true }) as tf.Tensor);
    output = y.dataSync() as Float32Array;
    return tf.sum(tf.mul(y, w));
  }, variables);
  const gradients = variables.map((v) => grads[v.name]?.dataSync() as Float32Array);
  value.dispose();
  tf.dispose(Object.values(grads));
  // Moving statistics are rewritten in place: the count stays the same.
  expect(tf.memory().numTensors).toBe(before);
  const result: StepResult = {
    output: output as Float32Array,
    grads: gradients,
    movingMean: layer.movingMean.read().dataSync() as Float32Array,
    movingVariance: layer.movingVariance.read().dataSync() as Float32Array,
  };
  x.dispose();
  w.dispose();
  // Called directly (not applied), the layer is not disposable as a whole: free its weights.
  for (const variable of layer.weights) variable.dispose();
  return result;
}

function expectClose(actual: Float32Array, expected: Float32Array, tolerance = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  // A vector of zeros would make the comparison vacuous.
  expect(expected.some((v) => v !== 0)).toBe(true);
  expect(relativeError(actual, expected)).toBeLessThan(tolerance);
}

function expectSameStep(actual: StepResult, expected: StepResult): void {
  expectClose(actual.output, expected.output);
  for (let i = 0; i < 3; i++) expectClose(actual.grads[i] as Float32Array, expected.grads[i] as Float32Array);
  expectClose(actual.movingMean, expected.movingMean);
  expectClose(actual.movingVariance, expected.movingVariance);
}

const CASES: Case[] = [
  { shape: [4, 5, 6, 3], seed: 11 },
  { shape: [2, 7, 7, 16], seed: 12 },
  { shape: [3, 9, 5], seed: 13 },
  { shape: [16, 7], seed: 14 },
  { shape: [64, 1], seed: 15 },
  { shape: [8, 4, 4, 6], seed: 16, offset: 10 },
];

describe('training-mode BatchNormalization', () => {
  describe.each(CASES)('input $shape', (c) => {
    it.each(['cpu', 'wasm'] as const)('on %s equals tfjs-layers on cpu', async (backend) => {
      const expected = await trainingStep('cpu', c, tfjsCall);
      const actual = await trainingStep(backend, c);
      expectSameStep(actual, expected);
    });
  });

  it('the tf-op gradient (no wasm kernel) equals the wasm kernel on wasm', async () => {
    const c = { shape: [3, 4, 4, 8], seed: 21 };
    const withKernel = await trainingStep('wasm', c);
    tf.unregisterKernel(BATCH_NORM_GRAD_KERNEL, 'wasm');
    try {
      expectSameStep(await trainingStep('wasm', c), withKernel);
    } finally {
      tf.registerKernel(batchNormGradWasmConfig);
    }
  });

  it('runs the fused kernels on wasm, without Tile or Mean', async () => {
    const c = { shape: [2, 4, 4, 8], seed: 25 };
    const profile = await tf.profile(async () => {
      await trainingStep('wasm', c);
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain(BATCH_NORM_GRAD_KERNEL);
    expect(names).toContain(BATCH_NORM_FORWARD_KERNEL);
    expect(names).not.toContain('Tile');
    expect(names).not.toContain('Mean');
  });

  it('patches the layer only in training mode', async () => {
    await tf.setBackend('cpu');
    const layer = tfl.layers.batchNormalization({}) as unknown as BatchNormLayer;
    const x = tf.tensor(randomArray(2 * 3 * 3 * 4, 31, 2, 0.5), [2, 3, 3, 4]);
    const patched = layer.apply(x, { training: false }) as tf.Tensor;
    const original = tfjsCall.call(layer, x, { training: false });
    expectClose(patched.dataSync() as Float32Array, original.dataSync() as Float32Array, 1e-7);
    tf.dispose([x, patched, original]);
    for (const variable of layer.weights) variable.dispose();
  });

  it.each(['cpu', 'wasm'] as const)('leaks nothing without a gradient tape on %s', async (backend) => {
    await tf.setBackend(backend);
    const x = tf.tensor(randomArray(2 * 3 * 3 * 4, 41, 2, 0.5), [2, 3, 3, 4]);
    const gamma = tf.ones([4]);
    const beta = tf.zeros([4]);
    const before = tf.memory().numTensors;
    const outputs = normalizeBatchInTraining(x, gamma, beta, 1e-3);
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(outputs.map((t) => t.shape)).toEqual([[2, 3, 3, 4], [4], [4]]);
    tf.dispose(outputs);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gamma, beta]);
  });

  it('trains a small BN network to the same weights on cpu and wasm', async () => {
    const run = async (backend: Backend) => {
      await tf.setBackend(backend);
      const model = tfl.sequential({
        layers: [
          tfl.layers.conv2d({
            inputShape: [6, 6, 2],
            filters: 4,
            kernelSize: 3,
            kernelInitializer: 'glorotNormal',
          }),
          tfl.layers.batchNormalization({}),
          tfl.layers.reLU(),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 3, kernelInitializer: 'glorotNormal' }),
        ],
      });
      model.setWeights(
        model
          .getWeights()
          .map((w, i) => tf.tensor(randomArray(w.size, 50 + i, 0.5, i === 2 ? 1 : 0), w.shape)),
      );
      const xs = tf.tensor(randomArray(8 * 6 * 6 * 2, 61, 2), [8, 6, 6, 2]);
      const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await model.trainOnBatch(xs, ys);
      expect(tf.memory().numTensors).toBe(before);
      const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
      tf.dispose([xs, ys]);
      model.dispose();
      return weights;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    for (let i = 0; i < cpu.length; i++) expectClose(wasm[i] as Float32Array, cpu[i] as Float32Array, 1e-3);
  });
});
