/**
 * Small TensorFlow.js conv models written for the Model and Method step specs, with fixed weights,
 * so the planner's numbers are the same on every run: conv1 (8 filters) → pool → conv2 (16) → fc (10).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

type Layer = { class_name: string; config: Record<string, unknown> };

const conv = (name: string, filters: number, extra: Record<string, unknown> = {}): Layer => ({
  class_name: 'Conv2D',
  config: {
    name,
    filters,
    kernel_size: [3, 3],
    strides: [1, 1],
    padding: 'valid',
    data_format: 'channels_last',
    dilation_rate: [1, 1],
    activation: 'relu',
    use_bias: true,
    kernel_initializer: { class_name: 'Zeros', config: {} },
    bias_initializer: { class_name: 'Zeros', config: {} },
    dtype: 'float32',
    trainable: true,
    ...extra,
  },
});

/** Channels of each layer, for the weight shapes. */
export const CONV_MODEL = { side: 28, conv1: 8, conv2: 16, classes: 10 } as const;

/** Writes model.json + weights.bin for an input of `side`×`side`×1 (model `name`) and returns the two paths. */
export function writeConvModel(dir: string, side: number = CONV_MODEL.side, name = `conv-${side}`): string[] {
  mkdirSync(dir, { recursive: true });
  const { conv1, conv2, classes } = CONV_MODEL;
  const flat = (((side - 2) >> 1) - 2) ** 2 * conv2;
  const layers: Layer[] = [
    conv('conv1', conv1, { batch_input_shape: [null, side, side, 1] }),
    {
      class_name: 'MaxPooling2D',
      config: { name: 'pool', pool_size: [2, 2], strides: [2, 2], padding: 'valid', trainable: true },
    },
    conv('conv2', conv2),
    { class_name: 'Flatten', config: { name: 'flatten', trainable: true } },
    {
      class_name: 'Dense',
      config: { name: 'fc', units: classes, activation: 'softmax', use_bias: true, trainable: true },
    },
  ];
  const shapes: [string, number[]][] = [
    ['conv1/kernel', [3, 3, 1, conv1]],
    ['conv1/bias', [conv1]],
    ['conv2/kernel', [3, 3, conv1, conv2]],
    ['conv2/bias', [conv2]],
    ['fc/kernel', [flat, classes]],
    ['fc/bias', [classes]],
  ];
  const total = shapes.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
  // Deterministic, distinct magnitudes, so L1 ranks every filter differently.
  const weights = new Float32Array(total);
  for (let i = 0; i < total; i++) weights[i] = (((i * 7919) % 401) - 200) / 2000;
  const manifest = {
    format: 'layers-model',
    generatedBy: 'pollard e2e',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name, layers },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [
      {
        paths: ['weights.bin'],
        weights: shapes.map(([name, shape]) => ({ name, shape, dtype: 'float32' })),
      },
    ],
  };
  const files = [path.join(dir, 'model.json'), path.join(dir, 'weights.bin')];
  writeFileSync(files[0]!, JSON.stringify(manifest));
  writeFileSync(files[1]!, Buffer.from(weights.buffer));
  return files;
}
