/**
 * The wasm backend with Pollard's kernels computes the same gradients as the cpu backend
 * (tfjs's reference) on fresh random inputs, across strides, dilations, paddings, odd and
 * even sizes and channel counts, and trains a small CNN to the same loss.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { tf, tfl } from '../tf';
import { registerDilatedConvGradients, spreadFilter } from './dilated-conv-gradients';
import { GRADIENT_PROBES, findGradientFailures, runGradientProbe } from './gradient-coverage';
import { registerWasmBackend } from './wasm-backend';
import { MISSING_WASM_KERNELS } from './wasm-kernels';
import { randomArray, relativeError } from '../testing/numeric';

type Shape = number[];
type Backend = 'cpu' | 'wasm';

interface Inputs {
  shapes: Shape[];
  values: Float32Array[];
}

/**
 * Gradients of Σ(f(inputs) · dy) with respect to every input, computed on `backend` from
 * the same numbers (tensors are made afresh on that backend).
 */
async function gradients(
  backend: Backend,
  f: (...args: tf.Tensor[]) => tf.Tensor,
  inputs: Inputs,
  dySeed: number,
): Promise<Float32Array[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  expect(tf.getBackend()).toBe(backend);
  return tf.tidy(() => {
    const args = inputs.values.map((values, i) => tf.tensor(values, inputs.shapes[i]));
    const outShape = f(...args).shape;
    const dy = tf.tensor(
      randomArray(
        outShape.reduce((a, b) => a * b, 1),
        dySeed,
      ),
      outShape,
    );
    return tf
      .grads(f)(args, dy)
      .map((g) => g.dataSync() as Float32Array);
  });
}

async function expectSameGradients(f: (...args: tf.Tensor[]) => tf.Tensor, shapes: Shape[], seed: number) {
  const inputs: Inputs = {
    shapes,
    values: shapes.map((shape, i) =>
      randomArray(
        shape.reduce((a, b) => a * b, 1),
        seed * 31 + i,
      ),
    ),
  };
  const expected = await gradients('cpu', f, inputs, seed + 7);
  const actual = await gradients('wasm', f, inputs, seed + 7);
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const gradient = expected[i] as Float32Array;
    // A gradient that is all zeros would make the comparison vacuous.
    expect(gradient.some((v) => v !== 0)).toBe(true);
    expect(relativeError(actual[i] as Float32Array, gradient)).toBeLessThan(1e-4);
  }
}

interface ConvCase {
  stride: number;
  dilation: number;
  pad: 'same' | 'valid';
  size: number;
  kernel: number;
  channels: [number, number];
}

function label(c: ConvCase): string {
  return `stride ${c.stride}, dilation ${c.dilation}, ${c.pad}, ${c.size}×${c.size}, ${c.kernel}×${c.kernel}, channels ${c.channels.join('→')}`;
}

/** Strides {1, 2} × dilations {1, 2} (not both 2: tfjs forbids it) × paddings × sizes × kernels. */
function convCases(channelSets: [number, number][]): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const [stride, dilation] of [
    [1, 1],
    [2, 1],
    [1, 2],
  ] as const) {
    for (const pad of ['same', 'valid'] as const) {
      for (const size of [7, 8]) {
        for (const kernel of [2, 3]) {
          for (const channels of channelSets) cases.push({ stride, dilation, pad, size, kernel, channels });
        }
      }
    }
  }
  return cases;
}

beforeAll(async () => {
  await registerWasmBackend();
  registerDilatedConvGradients();
});

describe('wasm training kernels', () => {
  it('registers the kernels tfjs-backend-wasm lacks', async () => {
    await tf.setBackend('wasm');
    for (const name of MISSING_WASM_KERNELS) expect(tf.getKernel(name, 'wasm')).toBeDefined();
  });

  describe.each(
    convCases([
      [1, 3],
      [3, 4],
    ]),
  )('Conv2D gradients, %#', (c) => {
    it(label(c), async () => {
      const [cin, cout] = c.channels;
      await expectSameGradients(
        (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation),
        [
          [2, c.size, c.size, cin],
          [c.kernel, c.kernel, cin, cout],
        ],
        c.size * 100 + c.kernel * 10 + cin,
      );
    });
  });

  describe.each(
    convCases([
      [3, 1],
      [2, 2],
    ]),
  )('DepthwiseConv2D gradients, %#', (c) => {
    it(label(c), async () => {
      const [channels, multiplier] = c.channels;
      await expectSameGradients(
        (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation),
        [
          [2, c.size, c.size, channels],
          [c.kernel, c.kernel, channels, multiplier],
        ],
        c.size * 100 + c.kernel * 10 + channels,
      );
    });
  });

  describe.each(
    convCases([
      [3, 1],
      [2, 2],
    ]),
  )('SeparableConv2D gradients, %#', (c) => {
    it(label(c), async () => {
      const [channels, multiplier] = c.channels;
      await expectSameGradients(
        (x, depthwise, pointwise) =>
          tf.separableConv2d(
            x as tf.Tensor4D,
            depthwise as tf.Tensor4D,
            pointwise as tf.Tensor4D,
            c.stride,
            c.pad,
            c.dilation,
          ),
        [
          [2, c.size, c.size, channels],
          [c.kernel, c.kernel, channels, multiplier],
          [1, 1, channels * multiplier, 5],
        ],
        c.size * 100 + c.kernel * 10 + channels + 1,
      );
    });
  });
});

describe('Conv2D gradients, other strides and paddings', () => {
  it.each([
    { kernel: 1, stride: 2, pad: 'valid' as const, size: 7 },
    { kernel: 1, stride: 2, pad: 'same' as const, size: 8 },
    { kernel: 3, stride: 3, pad: 'same' as const, size: 10 },
    { kernel: 5, stride: 3, pad: 'valid' as const, size: 11 },
    { kernel: 3, stride: 2, pad: 1, size: 9 },
    {
      kernel: 3,
      stride: 2,
      pad: [
        [0, 0],
        [2, 0],
        [1, 2],
        [0, 0],
      ] as tf.backend_util.ExplicitPadding,
      size: 8,
    },
  ])('$kernel×$kernel stride $stride pad $pad on $size×$size', async (c) => {
    await expectSameGradients(
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad),
      [
        [2, c.size, c.size, 3],
        [c.kernel, c.kernel, 3, 4],
      ],
      c.size * 10 + c.kernel,
    );
  });
});

describe('gradients with padding wider than the filter (the fallback paths)', () => {
  const wide: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [3, 1],
    [1, 4],
    [0, 0],
  ];
  it.each([1, 2])('Conv2D and DepthwiseConv2D, stride %i', async (stride) => {
    await expectSameGradients(
      (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, wide),
      [
        [2, 7, 6, 2],
        [3, 3, 2, 3],
      ],
      70 + stride,
    );
    await expectSameGradients(
      (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, wide),
      [
        [2, 7, 6, 2],
        [3, 3, 2, 2],
      ],
      80 + stride,
    );
  });
});

describe('dilated convolution gradients', () => {
  // The reference differentiates through an explicitly spread filter (pad, reshape, slice),
  // so it shares none of the dilated gradient's code.
  it.each(['cpu', 'wasm'] as const)(
    'equal those of the undilated convolution with the spread filter on %s',
    async (backend) => {
      const x = randomArray(2 * 9 * 9 * 3, 11);
      const w = randomArray(3 * 3 * 3 * 2, 12);
      for (const pad of ['same', 'valid'] as const) {
        const conv = (f: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) =>
          gradients(
            backend,
            f as never,
            {
              shapes: [
                [2, 9, 9, 3],
                [3, 3, 3, 2],
              ],
              values: [x, w],
            },
            13,
          );
        const cases: [
          (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor,
          (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor,
        ][] = [
          [
            (a, b) => tf.conv2d(a, b, 1, pad, 'NHWC', 2),
            (a, b) => tf.conv2d(a, spreadFilter(b, [2, 2]), 1, pad),
          ],
          [
            (a, b) => tf.depthwiseConv2d(a, b, 1, pad, 'NHWC', 2),
            (a, b) => tf.depthwiseConv2d(a, spreadFilter(b, [2, 2]), 1, pad),
          ],
        ];
        for (const [dilated, spread] of cases) {
          const actual = await conv(dilated);
          const expected = await conv(spread);
          for (let i = 0; i < 2; i++) {
            expect(relativeError(actual[i] as Float32Array, expected[i] as Float32Array)).toBeLessThan(1e-5);
          }
        }
      }
    },
  );
});

/** A small CNN with every layer kind whose gradient the wasm kernels serve. */
function smallCnn(): tfl.Sequential {
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [12, 12, 2],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tfl.layers.batchNormalization(),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.depthwiseConv2d({
        kernelSize: 3,
        depthMultiplier: 2,
        padding: 'valid',
        activation: 'relu6',
      }),
      tfl.layers.separableConv2d({
        filters: 6,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'elu',
      }),
      tfl.layers.averagePooling2d({ poolSize: 2, padding: 'same' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 5, activation: 'softmax' }),
    ],
  });
}

async function trainLosses(backend: Backend, steps: number): Promise<number[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  const model = smallCnn();
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(randomArray(w.size, 500 + i), w.shape)));
  const optimizer = tf.train.adam(0.03);
  const xs = tf.tensor(randomArray(16 * 12 * 12 * 2, 600), [16, 12, 12, 2]);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => (i * 7) % 5),
      'int32',
    ),
    5,
  );
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const loss = optimizer.minimize(
      () =>
        tf.mean(
          tfl.metrics.categoricalCrossentropy(labels, model.apply(xs, { training: true }) as tf.Tensor),
        ) as tf.Scalar,
      true,
    );
    losses.push((await (loss as tf.Scalar).data())[0] as number);
    loss?.dispose();
  }
  tf.dispose([xs, labels]);
  optimizer.dispose();
  model.dispose();
  return losses;
}

describe('a dilated Conv2D layer with a linear activation', () => {
  // tfjs runs it through tf.fused.conv2d, whose own gradient refuses dilation; Pollard's layer
  // computes with plain ops. Forward against tfjs's fused op, gradients against the spread filter.
  it.each(['cpu', 'wasm'] as const)(
    'predicts as tfjs does and trains with correct gradients on %s',
    async (backend) => {
      expect(await tf.setBackend(backend)).toBe(true);
      for (const padding of ['same', 'valid'] as const) {
        const layer = tfl.layers.conv2d({ filters: 2, kernelSize: 3, dilationRate: 2, padding });
        layer.build([2, 9, 9, 3]);
        layer.setWeights([tf.tensor4d(randomArray(54, 21), [3, 3, 3, 2]), tf.tensor1d(randomArray(2, 22))]);
        const [kernel, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D];
        const x = tf.tensor4d(randomArray(2 * 9 * 9 * 3, 23), [2, 9, 9, 3]);
        const dy = randomArray(2 * 9 * 9 * 2, 24);
        const weighted = (y: tf.Tensor) => tf.sum(tf.mul(y, tf.tensor(dy.subarray(0, y.size), y.shape)));

        const predicted = layer.apply(x) as tf.Tensor;
        const fused = tf.fused.conv2d({ x, filter: kernel, strides: 1, pad: padding, dilations: 2, bias });
        expect(
          relativeError(predicted.dataSync() as Float32Array, fused.dataSync() as Float32Array),
        ).toBeLessThan(1e-6);

        const { grads } = tf.variableGrads(() => weighted(layer.apply(x) as tf.Tensor) as tf.Scalar);
        const expected = tf.grads((w: tf.Tensor, b: tf.Tensor) =>
          weighted(tf.add(tf.conv2d(x, spreadFilter(w as tf.Tensor4D, [2, 2]), 1, padding), b)),
        )([kernel, bias]);
        const kernelName = layer.weights[0]!.name;
        const biasName = layer.weights[1]!.name;
        expect(
          relativeError(
            grads[kernelName]!.dataSync() as Float32Array,
            expected[0]!.dataSync() as Float32Array,
          ),
        ).toBeLessThan(1e-5);
        expect(
          relativeError(grads[biasName]!.dataSync() as Float32Array, expected[1]!.dataSync() as Float32Array),
        ).toBeLessThan(1e-5);
        tf.dispose([kernel, bias, x, predicted, fused, expected, Object.values(grads)]);
      }
    },
  );
});

describe('a small CNN', () => {
  it('trains on wasm to the same losses as on cpu', async () => {
    const cpu = await trainLosses('cpu', 6);
    const wasm = await trainLosses('wasm', 6);
    // It learns at all, so equal losses mean equal training.
    expect(cpu[5]).toBeLessThan((cpu[0] as number) * 0.9);
    for (let i = 0; i < cpu.length; i++) {
      expect(Math.abs((wasm[i] as number) - (cpu[i] as number)) / (cpu[i] as number)).toBeLessThan(1e-4);
    }
  });
});

describe('layer coverage on wasm', () => {
  it('trains every layer probe, a linear dilated Conv2D included', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    expect(findGradientFailures()).toEqual([]);
  });
});

describe('replaced wasm kernels', () => {
  it.each([
    { pool: 2, stride: 2, pad: 'valid' as const, size: 8 },
    { pool: 2, stride: 2, pad: 'valid' as const, size: 7 },
    { pool: 2, stride: 2, pad: 'same' as const, size: 7 },
    { pool: 3, stride: 2, pad: 'same' as const, size: 7 },
    { pool: 3, stride: 1, pad: 'valid' as const, size: 6 },
  ])('MaxPoolGrad matches cpu, ties included: $pool×$pool stride $stride $pad on $size×$size', async (c) => {
    // Rounded to a few levels so that windows hold equal maxima (as after ReLU).
    const values = randomArray(2 * c.size * c.size * 3, c.size).map((v) => Math.round(v * 4) / 4);
    const shapes = [[2, c.size, c.size, 3]];
    const f = (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, c.pool, c.stride, c.pad);
    const expected = await gradients('cpu', f, { shapes, values: [values] }, 3);
    const actual = await gradients('wasm', f, { shapes, values: [values] }, 3);
    expect(relativeError(actual[0] as Float32Array, expected[0] as Float32Array)).toBeLessThan(1e-6);
  });

  it.each([
    { a: [5, 7], b: [7, 4], transposeA: false, transposeB: false },
    { a: [7, 5], b: [7, 4], transposeA: true, transposeB: false },
    { a: [5, 7], b: [4, 7], transposeA: false, transposeB: true },
    { a: [7, 5], b: [4, 7], transposeA: true, transposeB: true },
    { a: [1, 7, 5], b: [1, 7, 4], transposeA: true, transposeB: false },
    { a: [3, 7, 5], b: [3, 4, 7], transposeA: true, transposeB: true },
  ])('BatchMatMul matches cpu for $a × $b (transposeA $transposeA, transposeB $transposeB)', async (c) => {
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, c.transposeA, c.transposeB);
    const inputs = {
      shapes: [c.a, c.b],
      values: [c.a, c.b].map((shape, i) =>
        randomArray(
          shape.reduce((x, y) => x * y, 1),
          40 + i,
        ),
      ),
    };
    await tf.setBackend('cpu');
    const expectedShape = tf.tidy(() => f(tf.zeros(c.a), tf.zeros(c.b)).shape);
    await tf.setBackend('wasm');
    const actualShape = tf.tidy(() => f(tf.zeros(c.a), tf.zeros(c.b)).shape);
    expect(actualShape).toEqual(expectedShape);
    const expected = await gradients('cpu', f as never, inputs, 5);
    const actual = await gradients('wasm', f as never, inputs, 5);
    for (let i = 0; i < 2; i++) {
      expect(relativeError(actual[i] as Float32Array, expected[i] as Float32Array)).toBeLessThan(1e-5);
    }
  });

  it('Identity shares the data instead of copying it, and frees it with the last reference', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const heapBefore = backend.numDataIds();
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tf.clone(x); // the Identity kernel
    expect(y.dataId).toBe(x.dataId);
    expect(backend.numDataIds()).toBe(heapBefore + 1);
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    expect(backend.numDataIds()).toBe(heapBefore);
    // The tape's clones of saved tensors: gradients unchanged, no copies made.
    const init = tf.tensor1d([0.5, -1, 2]);
    const w = tf.variable(init);
    init.dispose();
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(tf.relu(w), w)));
    expect(Array.from(await grads[w.name]!.data())).toEqual([1, 0, 4]);
    tf.dispose([w, value, ...Object.values(grads)]);
    expect(backend.numDataIds()).toBe(heapBefore);
  });

  it('leave no tensors behind on the wasm heap', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const probes = GRADIENT_PROBES.filter(
      (p) => /Conv2D|MaxPooling|Dense/.test(p.name) && !/linear/.test(p.name),
    );
    expect(probes.length).toBeGreaterThan(8);
    const tensorsBefore = tf.memory().numTensors;
    const heapBefore = backend.numDataIds();
    for (const probe of probes) runGradientProbe(probe);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(backend.numDataIds()).toBe(heapBefore);
  });
});
