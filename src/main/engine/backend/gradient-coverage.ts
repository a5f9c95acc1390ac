/**
 * Which layers Pollard's models use can run forward and be trained on the current backend:
 * each probe builds a tiny model with one layer kind, runs it in training mode, takes
 * gradients of a softmax cross-entropy loss for every weight and applies an optimizer step.
 * A probe that throws names the kernel or limitation in its message ("Kernel 'X' not
 * registered for backend 'wasm'", or tfjs-core's own refusal).
 */
import { tf, tfl } from '../tf';

export interface GradientProbe {
  name: string;
  /** Builds the model; input is always [4, 9, 9, 3] with 3 classes out. */
  build: () => tfl.LayersModel;
  optimizer?: 'adam' | 'sgd-momentum' | 'rmsprop';
}

export interface ProbeFailure {
  probe: string;
  message: string;
}

const INPUT: [number, number, number] = [9, 9, 3];

/**
 * A model `input → dense stem → layers… → [flatten] → dense(3)`, so every probe ends in the
 * same loss. The trainable stem makes the probed layers compute input gradients too (the
 * first layer of a model never needs them). Layers are made per build: a layer instance
 * belongs to one model.
 */
function chain(layers: () => tfl.layers.Layer[]): () => tfl.LayersModel {
  return () => {
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ inputShape: INPUT, units: 3 }));
    for (const layer of layers()) model.add(layer);
    if ((model.outputs[0]?.shape.length ?? 0) > 2) model.add(tfl.layers.flatten());
    model.add(tfl.layers.dense({ units: 3 }));
    return model;
  };
}

/** Two branches joined by a merge layer (Add, Concatenate, Multiply). */
function merged(merge: (inputs: tfl.SymbolicTensor[]) => tfl.SymbolicTensor): () => tfl.LayersModel {
  return () => {
    const input = tfl.input({ shape: INPUT });
    const left = tfl.layers
      .conv2d({ filters: 4, kernelSize: 3, padding: 'same' })
      .apply(input) as tfl.SymbolicTensor;
    const right = tfl.layers.conv2d({ filters: 4, kernelSize: 1 }).apply(input) as tfl.SymbolicTensor;
    const joined = merge([left, right]);
    const flat = tfl.layers.flatten().apply(joined) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 3 }).apply(flat) as tfl.SymbolicTensor;
    return tfl.model({ inputs: input, outputs: output });
  };
}

const conv = (config: Partial<Parameters<typeof tfl.layers.conv2d>[0]> = {}) =>
  tfl.layers.conv2d({ filters: 4, kernelSize: 3, ...config });

export const GRADIENT_PROBES: readonly GradientProbe[] = [
  { name: 'Conv2D same stride 1', build: chain(() => [conv({ padding: 'same' })]) },
  { name: 'Conv2D valid stride 2', build: chain(() => [conv({ strides: 2 })]) },
  { name: 'Conv2D 1×1', build: chain(() => [conv({ kernelSize: 1 })]) },
  { name: 'Conv2D dilation 2 + relu', build: chain(() => [conv({ dilationRate: 2, activation: 'relu' })]) },
  { name: 'Conv2D dilation 2, linear', build: chain(() => [conv({ dilationRate: 2 })]) },
  {
    name: 'DepthwiseConv2D stride 1',
    build: chain(() => [tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' })]),
  },
  {
    name: 'DepthwiseConv2D stride 2, multiplier 2',
    build: chain(() => [tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, depthMultiplier: 2 })]),
  },
  {
    name: 'SeparableConv2D',
    build: chain(() => [tfl.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'same' })]),
  },
  {
    name: 'SeparableConv2D dilation 2',
    build: chain(() => [tfl.layers.separableConv2d({ filters: 5, kernelSize: 3, dilationRate: 2 })]),
  },
  {
    name: 'Conv2DTranspose',
    build: chain(() => [tfl.layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2 })]),
  },
  {
    name: 'Dense',
    build: chain(() => [tfl.layers.flatten(), tfl.layers.dense({ units: 8, activation: 'relu' })]),
  },
  { name: 'BatchNormalization', build: chain(() => [conv(), tfl.layers.batchNormalization()]) },
  { name: 'MaxPooling2D', build: chain(() => [tfl.layers.maxPooling2d({ poolSize: 2 })]) },
  {
    name: 'MaxPooling2D 3×3 stride 2 same',
    build: chain(() => [tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })]),
  },
  { name: 'AveragePooling2D', build: chain(() => [tfl.layers.averagePooling2d({ poolSize: 2 })]) },
  { name: 'GlobalAveragePooling2D', build: chain(() => [conv(), tfl.layers.globalAveragePooling2d({})]) },
  { name: 'GlobalMaxPooling2D', build: chain(() => [conv(), tfl.layers.globalMaxPooling2d({})]) },
  ...(
    [
      'relu',
      'relu6',
      'sigmoid',
      'tanh',
      'softmax',
      'elu',
      'selu',
      'swish',
      'mish',
      'gelu',
      'softplus',
      'hardSigmoid',
    ] as const
  ).map((activation): GradientProbe => ({
    name: `activation ${activation}`,
    build: chain(() => [conv({ activation })]),
  })),
  { name: 'LeakyReLU', build: chain(() => [conv(), tfl.layers.leakyReLU()]) },
  { name: 'PReLU', build: chain(() => [conv(), tfl.layers.prelu()]) },
  { name: 'Dropout', build: chain(() => [conv(), tfl.layers.dropout({ rate: 0.5 })]) },
  {
    name: 'SpatialDropout1D',
    build: chain(() => [
      tfl.layers.reshape({ targetShape: [81, 3] }),
      tfl.layers.spatialDropout1d({ rate: 0.5 }),
    ]),
  },
  { name: 'Add', build: merged((inputs) => tfl.layers.add().apply(inputs) as tfl.SymbolicTensor) },
  {
    name: 'Concatenate',
    build: merged((inputs) => tfl.layers.concatenate().apply(inputs) as tfl.SymbolicTensor),
  },
  { name: 'Multiply', build: merged((inputs) => tfl.layers.multiply().apply(inputs) as tfl.SymbolicTensor) },
  { name: 'ZeroPadding2D', build: chain(() => [tfl.layers.zeroPadding2d({ padding: [1, 2] }), conv()]) },
  {
    name: 'Reshape',
    build: chain(() => [tfl.layers.reshape({ targetShape: [27, 9] }), tfl.layers.dense({ units: 4 })]),
  },
  { name: 'UpSampling2D', build: chain(() => [tfl.layers.upSampling2d({ size: [2, 2] }), conv()]) },
  { name: 'optimizer SGD momentum', build: chain(() => [conv()]), optimizer: 'sgd-momentum' },
  { name: 'optimizer RMSProp', build: chain(() => [conv()]), optimizer: 'rmsprop' },
];

function makeOptimizer(kind: GradientProbe['optimizer']): tf.Optimizer {
  if (kind === 'sgd-momentum') return tf.train.momentum(0.01, 0.9);
  if (kind === 'rmsprop') return tf.train.rmsprop(0.01);
  return tf.train.adam(0.01);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** Runs one probe on the current backend: forward, gradients, one optimizer step. */
export function runGradientProbe(probe: GradientProbe): void {
  const model = probe.build();
  const optimizer = makeOptimizer(probe.optimizer);
  try {
    tf.tidy(() => {
      const xs = tf.randomUniform([4, ...INPUT], -1, 1, 'float32', 1);
      const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
      const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.apply(xs, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
      }, variables);
      optimizer.applyGradients(grads as Parameters<typeof optimizer.applyGradients>[0]);
      const loss = value.dataSync()[0] as number;
      if (!Number.isFinite(loss)) throw new Error(`loss is ${loss}`);
    });
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * The kernels a probe runs (forward and backward), found by profiling it on a backend that
 * has them all (cpu); ops that are not kernels (custom-gradient wrappers) are left out.
 */
export async function kernelsUsedBy(probe: GradientProbe, reference = 'cpu'): Promise<string[]> {
  const previous = tf.getBackend();
  await tf.setBackend(reference);
  try {
    const info = await tf.profile(() => runGradientProbe(probe));
    const names = new Set(info.kernels.map((kernel) => kernel.name));
    return [...names].filter((name) => tf.getKernel(name, reference) !== undefined).sort();
  } finally {
    await tf.setBackend(previous);
  }
}

/** Every probe that fails on the current backend, with the first line of its error. */
export function findGradientFailures(probes: readonly GradientProbe[] = GRADIENT_PROBES): ProbeFailure[] {
  const failures: ProbeFailure[] = [];
  for (const probe of probes) {
    try {
      runGradientProbe(probe);
    } catch (error) {
      failures.push({ probe: probe.name, message: firstLine(error) });
    }
  }
  return failures;
}
