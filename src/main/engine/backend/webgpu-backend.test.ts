/**
 * The webgpu backend (Dawn) computes the cpu backend's gradients for every training kernel
 * and every layer probe, trains Pollard's loop to the cpu backend's losses, evaluates, prunes
 * and recalibrates BN. It runs wherever Dawn finds an adapter; on machines without a GPU that
 * is Chromium's SwiftShader (software Vulkan; `apt-get install chromium libvulkan1`), which
 * `--backend webgpu` forces as the tests do here.
 *
 * Without an adapter the file skips and prints why, except in CI (CI=true) or with
 * POLLARD_REQUIRE_WEBGPU=1, where a missing adapter is a failure: CI installs SwiftShader.
 * SwiftShader is slow and compiles a shader per new shape, so shapes are small.
 */
import { describe, expect, it } from 'vitest';
import { trainingOptionsSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { MagnitudePruner } from '../compress/magnitude';
import type { DatasetSplit } from '../data/types';
import { createMemoryContext } from '../job/context';
import { tf, tfl } from '../tf';
import { recalibrateBatchNorm } from '../train/bn-recalibration';
import { evaluateModel } from '../train/evaluate';
import { trainModel } from '../train/loop';
import { Rng } from '../util/rng';
import { registerDilatedConvGradients } from './dilated-conv-gradients';
import { GRADIENT_PROBES, type GradientProbe } from './gradient-coverage';
import { registerWasmBackend } from './wasm-backend';
import { probeWebgpu } from './webgpu-rung';
import { randomArray, relativeError } from '../testing/numeric';

const required = process.env.CI === 'true' || process.env.POLLARD_REQUIRE_WEBGPU === '1';
const outcome = await probeWebgpu(true);
registerDilatedConvGradients();
if (!outcome.ok) {
  const message = `webgpu tests: ${outcome.reason}`;
  if (required) {
    describe('webgpu backend', () => {
      it('has an adapter (CI installs chromium, whose SwiftShader Dawn runs on)', () => {
        throw new Error(`${message} (CI=true or POLLARD_REQUIRE_WEBGPU=1: a missing adapter is a failure)`);
      });
    });
  } else {
    console.warn(`${message}: skipped (install chromium and libvulkan1 to run them on SwiftShader)`);
  }
}
const describeWebgpu = outcome.ok ? describe : describe.skip;

type Backend = 'cpu' | 'wasm' | 'webgpu';

function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i] as number) ** 2;
  return Math.sqrt(sum);
}

const TOLERANCE = 1e-3;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Gradients of Σ f(inputs)·dy for every input, on `backend`, read asynchronously. */
async function gradients(
  backend: Backend,
  f: (...args: tf.Tensor[]) => tf.Tensor,
  shapes: number[][],
  seed: number,
): Promise<Float32Array[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  const args = shapes.map((shape, i) => tf.tensor(randomArray(size(shape), seed * 31 + i), shape));
  const outShape = tf.tidy(() => f(...args).shape);
  const dy = tf.tensor(randomArray(size(outShape), seed + 7), outShape);
  const grads = tf.grads(f)(args, dy);
  const values = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
  tf.dispose([...args, dy, ...grads]);
  return values;
}

async function expectSameGradients(
  f: (...args: tf.Tensor[]) => tf.Tensor,
  shapes: number[][],
  seed: number,
  reference: Backend = 'cpu',
): Promise<void> {
  const expected = await gradients(reference, f, shapes, seed);
  const actual = await gradients('webgpu', f, shapes, seed);
  expect(actual.length).toBe(expected.length);
  expected.forEach((gradient, i) => {
    expect(gradient.some((v) => v !== 0)).toBe(true);
    expect(relativeError(actual[i] as Float32Array, gradient)).toBeLessThan(TOLERANCE);
  });
}

describeWebgpu('webgpu training kernels against cpu', () => {
  const convCases: {
    stride: number;
    dilation: number;
    pad: 'same' | 'valid';
    size: number;
    kernel: number;
  }[] = [
    { stride: 1, dilation: 1, pad: 'same', size: 7, kernel: 3 },
    { stride: 2, dilation: 1, pad: 'same', size: 8, kernel: 3 },
    { stride: 2, dilation: 1, pad: 'valid', size: 7, kernel: 2 },
    { stride: 1, dilation: 2, pad: 'same', size: 8, kernel: 3 },
    { stride: 1, dilation: 2, pad: 'valid', size: 7, kernel: 2 },
    { stride: 1, dilation: 1, pad: 'valid', size: 6, kernel: 1 },
  ];
  const label = (c: (typeof convCases)[number]) =>
    `stride ${c.stride}, dilation ${c.dilation}, ${c.pad}, ${c.size}×${c.size}, ${c.kernel}×${c.kernel}`;

  it.each(convCases.map((c) => [label(c), c] as const))(
    'Conv2D (Conv2DBackpropInput, Conv2DBackpropFilter): %s',
    async (_, c) => {
      await expectSameGradients(
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation),
        [
          [2, c.size, c.size, 3],
          [c.kernel, c.kernel, 3, 4],
        ],
        c.size * 100 + c.kernel * 10 + c.stride,
      );
    },
  );

  it.each(convCases.map((c) => [label(c), c] as const))(
    'DepthwiseConv2D (DepthwiseConv2dNativeBackpropInput, …Filter), multiplier 2: %s',
    async (_, c) => {
      await expectSameGradients(
        (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation),
        [
          [2, c.size, c.size, 2],
          [c.kernel, c.kernel, 2, 2],
        ],
        c.size * 100 + c.kernel * 10 + c.stride + 1,
      );
    },
  );

  it('Conv2D with explicit asymmetric padding', async () => {
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [2, 0],
      [1, 2],
      [0, 0],
    ];
    await expectSameGradients(
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, pad),
      [
        [2, 8, 8, 3],
        [3, 3, 3, 4],
      ],
      5,
    );
  });

  it.each([
    { pool: 2, stride: 2, pad: 'valid' as const, size: 8 },
    { pool: 3, stride: 2, pad: 'same' as const, size: 7 },
  ])('MaxPoolGrad and AvgPoolGrad: $pool×$pool stride $stride $pad on $size×$size', async (c) => {
    const shapes = [[2, c.size, c.size, 3]];
    await expectSameGradients((x) => tf.maxPool(x as tf.Tensor4D, c.pool, c.stride, c.pad), shapes, c.size);
    await expectSameGradients(
      (x) => tf.avgPool(x as tf.Tensor4D, c.pool, c.stride, c.pad),
      shapes,
      c.size + 1,
    );
  });

  it.each([
    { a: [5, 7], b: [7, 4], transposeA: false, transposeB: false },
    { a: [7, 5], b: [4, 7], transposeA: true, transposeB: true },
    { a: [3, 7, 5], b: [3, 7, 4], transposeA: true, transposeB: false },
  ])('BatchMatMul $a × $b (transposeA $transposeA, transposeB $transposeB)', async (c) => {
    await expectSameGradients(
      (a, b) => tf.matMul(a, b, c.transposeA, c.transposeB),
      [c.a, c.b],
      40 + c.a.length,
    );
  });

  it('the batch-normalisation gradient (moments, rsqrt, broadcasting) and the activations', async () => {
    await expectSameGradients(
      (x, gamma, beta) => {
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        return tf.batchNorm(x, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-3);
      },
      [[4, 5, 5, 3], [3], [3]],
      9,
    );
    await expectSameGradients(
      (x) => tf.add(tf.add(tf.relu6(x), tf.elu(x)), tf.mul(tf.sigmoid(x), tf.tanh(x))),
      [[4, 9]],
      10,
    );
  });

  it('AddN and Concat with more inputs than a shader can bind (Pollard’s AddN)', async () => {
    const results: Float32Array[][] = [];
    for (const backend of ['cpu', 'webgpu'] as const) {
      expect(await tf.setBackend(backend)).toBe(true);
      const parts = Array.from({ length: 30 }, (_, i) => tf.tensor(randomArray(6, 60 + i), [2, 3]));
      const before = tf.memory().numTensors;
      const sum = tf.addN(parts);
      const joined = tf.concat(parts, 1);
      expect(tf.memory().numTensors).toBe(before + 2);
      results.push([(await sum.data()) as Float32Array, (await joined.data()) as Float32Array]);
      tf.dispose([...parts, sum, joined]);
    }
    expect(relativeError(results[1]![0]!, results[0]![0]!)).toBeLessThan(1e-6);
    expect(results[1]![1]).toEqual(results[0]![1]);
  });

  it('ResizeNearestNeighborGrad (UpSampling2D), against wasm: cpu’s gradient is wrong here', async () => {
    // tfjs-backend-cpu 4.22's ResizeNearestNeighborGrad disagrees with finite differences on
    // these shapes; wasm's and webgpu's agree with them and with each other.
    await registerWasmBackend();
    await expectSameGradients(
      (x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [10, 12]),
      [[2, 5, 6, 3]],
      11,
      'wasm',
    );
  });
});

/** Gradients of one probe's loss for every trainable weight, from the same initial weights. */
async function probeGradients(
  backend: Backend,
  probe: GradientProbe,
  weights?: Float32Array[],
): Promise<{ weights: Float32Array[]; grads: Float32Array[]; loss: number }> {
  expect(await tf.setBackend(backend)).toBe(true);
  const model = probe.build();
  if (weights) {
    const values = model.getWeights().map((w, i) => tf.tensor(weights[i] as Float32Array, w.shape));
    model.setWeights(values);
    tf.dispose(values);
  }
  const initial = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
  const xs = tf.tensor(randomArray(4 * 9 * 9 * 3, 1), [4, 9, 9, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () =>
      tf.losses.softmaxCrossEntropy(labels, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar,
    variables,
  );
  const values = await Promise.all(variables.map(async (v) => (await grads[v.name]!.data()) as Float32Array));
  const loss = (await value.data())[0] as number;
  tf.dispose([xs, labels, value, ...Object.values(grads)]);
  model.dispose();
  return { weights: initial, grads: values, loss };
}

// Dropout draws differently per backend; UpSampling2D's cpu gradient is wrong (see above).
const comparable = GRADIENT_PROBES.filter((probe) => !/Dropout|UpSampling2D/.test(probe.name));

describeWebgpu('every layer probe on webgpu', () => {
  it.each(comparable.map((probe) => [probe.name, probe] as const))(
    '%s: loss and gradients equal cpu’s',
    async (_, probe) => {
      const cpu = await probeGradients('cpu', probe);
      const gpu = await probeGradients('webgpu', probe, cpu.weights);
      expect(Math.abs(gpu.loss - cpu.loss) / cpu.loss).toBeLessThan(TOLERANCE);
      // A weight whose gradient is zero in theory (a bias right before BatchNormalization)
      // holds rounding noise: measure against the largest gradient of the model there.
      const scale = Math.max(...cpu.grads.map(norm));
      cpu.grads.forEach((expected, i) => {
        expect(relativeError(gpu.grads[i] as Float32Array, expected, 1e-3 * scale)).toBeLessThan(TOLERANCE);
      });
    },
  );

  it.each(
    GRADIENT_PROBES.filter((probe) => /Dropout|UpSampling2D/.test(probe.name)).map(
      (p) => [p.name, p] as const,
    ),
  )('%s trains (finite loss and gradients)', async (_, probe) => {
    const gpu = await probeGradients('webgpu', probe);
    expect(Number.isFinite(gpu.loss)).toBe(true);
    for (const g of gpu.grads) expect(g.every(Number.isFinite)).toBe(true);
  });
});

const SHAPE: [number, number, number] = [8, 8, 1];

/** Class 0: bright top half; class 1: bright bottom half (as loop.test.ts), with noise. */
function halves(count: number, seed: number): DatasetSplit {
  const rng = new Rng(seed);
  const pixels = SHAPE[0] * SHAPE[1];
  const images = new Uint8Array(count * pixels);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = n % 2;
    for (let i = 0; i < pixels; i++) {
      const bright = (n % 2 === 0) === i < pixels / 2;
      images[n * pixels + i] = Math.floor((bright ? 150 : 20) + rng.next() * 100);
    }
  }
  return { images, labels, count };
}

/** Conv → BN → ReLU → pool → depthwise → dense: the layer kinds of the built-in architectures. */
function smallCnn(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: SHAPE,
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: init(1),
      }),
      tfl.layers.batchNormalization(),
      // ELU, not ReLU: ReLU's zeros tie in max pooling, where backends may route the
      // gradient to different (equally valid) positions.
      tfl.layers.activation({ activation: 'elu' }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: init(2) }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
}

async function trainAndEvaluate(backend: Backend) {
  expect(await tf.setBackend(backend)).toBe(true);
  const report: BackendReport = { used: backend, device: backend, rungs: [] };
  const ctx = createMemoryContext(report);
  const model = smallCnn();
  const train = halves(64, 1);
  const test = halves(32, 2);
  const started = performance.now();
  const outcome = await trainModel(
    model,
    { train, validation: test, shape: SHAPE, classes: 2 },
    {
      training: trainingOptionsSchema.parse({ epochs: 2, learningRate: 0.01, validationSplit: 0 }),
      batchSize: 16,
      seed: 3,
    },
    ctx,
  );
  const seconds = (performance.now() - started) / 1000;
  const evaluation = await evaluateModel(model, test, SHAPE, 2, {
    batchSize: 16,
    classNames: ['top', 'bottom'],
  });
  const recalibrated = await recalibrateBatchNorm(
    model,
    { split: train, shape: SHAPE, classes: 2, normalization: { scale: 1 / 255, offset: 0 } },
    { samples: 32, batchSize: 16 },
  );
  const pruner = new MagnitudePruner(model, { scope: 'layer' });
  await pruner.prune(0.5);
  const sparsity = await pruner.report();
  pruner.dispose();
  model.dispose();
  return { outcome, evaluation, recalibrated, sparsity, seconds };
}

describeWebgpu('Pollard on webgpu', () => {
  it('trains, evaluates, recalibrates BN and prunes as on cpu', async () => {
    const cpu = await trainAndEvaluate('cpu');
    const gpu = await trainAndEvaluate('webgpu');
    console.log(
      `small CNN, 2 epochs of 64 samples: cpu ${cpu.seconds.toFixed(2)} s, webgpu ${gpu.seconds.toFixed(2)} s`,
    );
    expect(gpu.outcome.history.length).toBe(2);
    // One step agrees to the gradient tolerance (the probes above); over 8 steps with BN the
    // forward's small differences on SwiftShader (its BN normalisation differs from cpu's by
    // about 2e-4 relative) compound, so the run is held to a few percent, and it must learn.
    const TRAINING_TOLERANCE = 0.05;
    gpu.outcome.history.forEach((epoch, i) => {
      const reference = cpu.outcome.history[i]!;
      expect(Math.abs(epoch.loss - reference.loss) / reference.loss).toBeLessThan(TRAINING_TOLERANCE);
      expect(epoch.valLoss).toBeDefined();
      expect(Math.abs(epoch.valLoss! - reference.valLoss!) / reference.valLoss!).toBeLessThan(
        TRAINING_TOLERANCE,
      );
    });
    expect(gpu.outcome.history[1]!.loss).toBeLessThan(gpu.outcome.history[0]!.loss);
    expect(Math.abs(gpu.evaluation.loss - cpu.evaluation.loss) / cpu.evaluation.loss).toBeLessThan(
      TRAINING_TOLERANCE,
    );
    expect(Math.abs(gpu.evaluation.accuracy - cpu.evaluation.accuracy)).toBeLessThanOrEqual(2 / 32);
    expect(gpu.recalibrated).toEqual({ layers: 1, samples: 32 });
    // Half of each kernel's weights, on both (which ones may differ with the weights).
    expect(gpu.sparsity.map((layer) => layer.sparsity)).toEqual(cpu.sparsity.map((layer) => layer.sparsity));
  });
});
