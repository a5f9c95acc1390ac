/**
 * Tiny models for the compression tests: one of each topology the pruner must handle
 * (sequential, residual, depthwise/separable, concatenation) plus one with layers it cannot
 * reason about. Weights are filled from a seeded generator so every test run sees the same numbers,
 * with BatchNormalization statistics that are not the identity.
 */
import { tf, tfl } from '../tf';
import type { LayersModel, Tensor } from '../tf';
import { Rng } from '../util/rng';
import type { DatasetSplit } from '../data/types';
import type { DependencyGraph } from './graph';
import type { PrunePlan } from './pruner';
import { weightKey } from './slicing';

type SymbolicTensor = ReturnType<typeof tfl.input>;
type Applicable = { apply(input: SymbolicTensor | SymbolicTensor[]): unknown };

/** Overwrite every weight with seeded values (kernels ±, gamma ≈ 1, variance > 0). */
export function fillWeights(model: LayersModel, seed: number): void {
  const rng = new Rng(seed);
  const random = (): number => rng.next();
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((weight) => {
      const shape = weight.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const key = weightKey(weight.originalName);
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        const u = random();
        if (key === 'gamma') data[i] = 0.5 + u;
        else if (key === 'moving_variance') data[i] = 0.5 + u;
        else if (key === 'beta' || key === 'moving_mean' || key === 'bias') data[i] = (u - 0.5) * 0.2;
        else data[i] = (u - 0.5) * 0.8;
      }
      return tf.tensor(data, shape);
    });
    layer.setWeights(values);
    tf.dispose(values);
  }
}

function conv(
  filters: number,
  kernelSize: number,
  name: string,
  strides = 1,
  activation?: 'relu',
): Applicable {
  return tfl.layers.conv2d({ filters, kernelSize, strides, padding: 'same', name, activation });
}

function apply(layer: Applicable, input: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
  return layer.apply(input) as SymbolicTensor;
}

/** Conv → BN → pool → conv → BN → ReLU → Dropout → Flatten → Dense → Dense(softmax). */
export function sequentialCnn(seed = 1): LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: 'conv1',
      }),
      tfl.layers.batchNormalization({ name: 'bn1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
      tfl.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'conv2' }),
      tfl.layers.batchNormalization({ name: 'bn2' }),
      tfl.layers.reLU({ name: 'relu2' }),
      tfl.layers.dropout({ rate: 0.25, name: 'drop' }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ units: 10, activation: 'relu', name: 'fc1' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier' }),
    ],
  });
  fillWeights(model, seed);
  return model;
}

function residualBlock(x: SymbolicTensor, filters: number, name: string, strides = 1): SymbolicTensor {
  let y = apply(conv(filters, 3, `${name}_conv1`, strides), x);
  y = apply(tfl.layers.batchNormalization({ name: `${name}_bn1` }), y);
  y = apply(tfl.layers.activation({ activation: 'relu', name: `${name}_relu1` }), y);
  y = apply(conv(filters, 3, `${name}_conv2`), y);
  y = apply(tfl.layers.batchNormalization({ name: `${name}_bn2` }), y);
  let shortcut = x;
  if (strides !== 1) {
    shortcut = apply(conv(filters, 1, `${name}_proj`, strides), x);
    shortcut = apply(tfl.layers.batchNormalization({ name: `${name}_proj_bn` }), shortcut);
  }
  const sum = apply(tfl.layers.add({ name: `${name}_add` }), [y, shortcut]);
  return apply(tfl.layers.activation({ activation: 'relu', name: `${name}_out` }), sum);
}

/** A ResNet-20-shaped network in miniature: stem, two identity blocks, a projection block, GAP. */
export function residualNet(seed = 2): LayersModel {
  const input = tfl.input({ shape: [8, 8, 3], name: 'image' });
  let x = apply(conv(8, 3, 'stem'), input);
  x = apply(tfl.layers.batchNormalization({ name: 'stem_bn' }), x);
  x = apply(tfl.layers.activation({ activation: 'relu', name: 'stem_relu' }), x);
  x = residualBlock(x, 8, 'block1');
  x = residualBlock(x, 8, 'block2');
  x = residualBlock(x, 12, 'block3', 2);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'gap' }), x);
  const output = apply(tfl.layers.dense({ units: 4, activation: 'softmax', name: 'classifier' }), x);
  const model = tfl.model({ inputs: input, outputs: output, name: 'residual' });
  fillWeights(model, seed);
  return model;
}

/**
 * MobileNet-style: padding, strided depthwise, pointwise, depth multiplier 2, separable conv, GAP.
 * (A separable multiplier above 1 does not survive tfjs's own save: SeparableConv2D.getConfig
 * drops depth_multiplier.)
 */
export function depthwiseNet(seed = 3, separableMultiplier = 1): LayersModel {
  const input = tfl.input({ shape: [8, 8, 3], name: 'image' });
  let x = apply(conv(8, 3, 'stem', 1, 'relu'), input);
  x = apply(tfl.layers.zeroPadding2d({ padding: 1, name: 'pad' }), x);
  x = apply(tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, name: 'dw1' }), x);
  x = apply(tfl.layers.batchNormalization({ name: 'dw1_bn' }), x);
  x = apply(tfl.layers.activation({ activation: 'relu6', name: 'dw1_relu' }), x);
  x = apply(conv(12, 1, 'pw1'), x);
  x = apply(tfl.layers.batchNormalization({ name: 'pw1_bn' }), x);
  x = apply(tfl.layers.activation({ activation: 'relu', name: 'pw1_relu' }), x);
  x = apply(
    tfl.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, name: 'dw2' }),
    x,
  );
  x = apply(tfl.layers.activation({ activation: 'relu', name: 'dw2_relu' }), x);
  x = apply(
    tfl.layers.separableConv2d({
      filters: 10,
      kernelSize: 3,
      padding: 'same',
      depthMultiplier: separableMultiplier,
      name: 'sep',
    }),
    x,
  );
  x = apply(tfl.layers.batchNormalization({ name: 'sep_bn' }), x);
  x = apply(tfl.layers.activation({ activation: 'relu', name: 'sep_relu' }), x);
  x = apply(tfl.layers.globalAveragePooling2d({ name: 'gap' }), x);
  const output = apply(tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier' }), x);
  const model = tfl.model({ inputs: input, outputs: output, name: 'depthwise' });
  fillWeights(model, seed);
  return model;
}

/** Inception-style branches joined by Concatenate, then BN, conv, Flatten, Dense. */
export function concatNet(seed = 4): LayersModel {
  const input = tfl.input({ shape: [8, 8, 3], name: 'image' });
  const stem = apply(conv(6, 3, 'stem', 1, 'relu'), input);
  const a = apply(conv(4, 1, 'branch_a', 1, 'relu'), stem);
  const b = apply(conv(5, 3, 'branch_b', 1, 'relu'), stem);
  const c = apply(
    tfl.layers.maxPooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'branch_pool' }),
    stem,
  );
  let x = apply(tfl.layers.concatenate({ name: 'concat' }), [a, b, c]);
  x = apply(tfl.layers.batchNormalization({ name: 'concat_bn' }), x);
  x = apply(tfl.layers.activation({ activation: 'relu', name: 'concat_relu' }), x);
  x = apply(tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }), x);
  x = apply(conv(6, 3, 'head', 1, 'relu'), x);
  x = apply(tfl.layers.flatten({ name: 'flatten' }), x);
  const output = apply(tfl.layers.dense({ units: 3, activation: 'softmax', name: 'classifier' }), x);
  const model = tfl.model({ inputs: input, outputs: output, name: 'concat' });
  fillWeights(model, seed);
  return model;
}

/** A model with layers the pruner cannot reason about (Reshape, mid-network softmax). */
export function opaqueNet(seed = 5): LayersModel {
  const input = tfl.input({ shape: [6, 6, 2], name: 'image' });
  let x = apply(conv(4, 3, 'conv1', 1, 'relu'), input);
  x = apply(conv(6, 3, 'conv2', 1, 'relu'), x);
  x = apply(tfl.layers.reshape({ targetShape: [36, 6], name: 'reshape' }), x);
  x = apply(tfl.layers.dense({ units: 5, activation: 'relu', name: 'mix' }), x);
  x = apply(tfl.layers.activation({ activation: 'softmax', name: 'attention' }), x);
  x = apply(tfl.layers.flatten({ name: 'flatten' }), x);
  const output = apply(tfl.layers.dense({ units: 2, activation: 'softmax', name: 'classifier' }), x);
  const model = tfl.model({ inputs: input, outputs: output, name: 'opaque' });
  fillWeights(model, seed);
  return model;
}

/** A deterministic batch of inputs shaped for the model. */
export function sampleInputs(model: LayersModel, count: number, seed = 7): Tensor {
  const shape = (model.inputs[0]!.shape as (number | null)[]).slice(1) as number[];
  const size = count * shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(seed);
  const random = (): number => rng.next();
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = random() * 2 - 1;
  return tf.tensor(data, [count, ...shape]);
}

/**
 * Zero, in place, everything a removed channel contributes: the producer's filter and bias, the
 * BN scale and shift, and the depthwise bias at that position. After this the channels carry
 * exact zeros through ReLU, pooling, padding and additions, so removing them must change nothing.
 */
export function zeroRemovedChannels(graph: DependencyGraph, removed: Set<number>): void {
  for (const node of graph.nodes) {
    const positions = Array.from(node.outputMap.keys()).filter((p) =>
      removed.has(graph.unitOf(node.outputMap[p]!)),
    );
    if (positions.length === 0) continue;
    const zeroKeys =
      node.role === 'producer'
        ? [node.pruning?.outputKernel ?? 'kernel', 'bias']
        : node.role === 'channelwise'
          ? ['gamma', 'beta']
          : node.role === 'depthwise'
            ? ['bias']
            : [];
    for (const weight of node.layer.weights) {
      if (!zeroKeys.includes(weightKey(weight.originalName))) continue;
      const shape = weight.shape as number[];
      const channels = shape[shape.length - 1]!;
      const mask = new Float32Array(channels).fill(1);
      for (const p of positions) mask[p] = 0;
      const variable = weight.read() as tf.Variable;
      tf.tidy(() => variable.assign(tf.mul(variable, tf.tensor1d(mask))));
    }
  }
}

/** The unit roots a plan removes (for tests that act on the original model's channels). */
export function planRemovedUnits(graph: DependencyGraph, plan: PrunePlan): Set<number> {
  const removed = new Set<number>();
  for (const groupPlan of plan.groups)
    for (const i of groupPlan.removed) removed.add(graph.group(groupPlan.id).units[i]!);
  return removed;
}

/** Three classes of 8×8 images: a bright band in the top, middle or bottom rows, plus noise. */
export function bands(count: number, seed: number): DatasetSplit {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    labels[i] = label;
    for (let p = 0; p < 64; p++) {
      const row = Math.floor(p / 8);
      const inBand = Math.floor(row / 3) === label || (label === 2 && row >= 6);
      images[i * 64 + p] = Math.min(255, (inBand ? 150 : 20) + rng.nextInt(90));
    }
  }
  return { images, labels, count };
}
