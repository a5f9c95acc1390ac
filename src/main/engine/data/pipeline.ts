/**
 * The batch pipeline: seeded shuffling, a stratified validation split, and `makeBatch`, which
 * turns the uint8 NHWC pixels of a few samples into one normalised float32 tensor (with optional
 * random-crop + flip augmentation) and a one-hot label tensor. It runs once per training step,
 * so it is written as plain typed-array loops; no per-pixel tensor ops.
 */
import { tf } from '../tf';
import { Rng } from '../util/rng';
import type { InputScaling } from '../../../shared/jobs';
import { normalizationTables, sourceChannel } from './input-scaling';
import type { DatasetSplit } from './types';

/** x = pixel / 255 * scale + offset (per channel where `channels` is set; input-scaling.ts). */
export interface Normalization {
  scale: number;
  offset: number;
  /** Per-channel scale and offset, in the model's channel order (ImageNet mean/std, caffe). */
  channels?: { scale: number[]; offset: number[] };
  /** The model reads the image's channels in reverse order (caffe's BGR). */
  reverseChannels?: boolean;
  /** The named input scaling this came from, for records and exports. */
  scaling?: InputScaling;
}

export const DEFAULT_NORMALIZATION: Normalization = { scale: 1, offset: 0 };

export interface Batch {
  /** float32 NHWC, normalised. */
  x: tf.Tensor4D;
  /** One-hot float32, [size, classes]. */
  y: tf.Tensor2D;
  labels: Int32Array;
  size: number;
}

export interface AugmentOptions {
  rng: Rng;
  /** Random crop of the image zero-padded by this many pixels on every side. */
  padding: number;
  /** Horizontal flip with probability 0.5. */
  flip: boolean;
}

export interface MakeBatchOptions {
  normalization?: Normalization;
  augment?: AugmentOptions;
}

/** Number of batches in one pass, the last (partial) batch included. */
export function batchCount(count: number, batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchCount: batch size must be a positive integer, got ${batchSize}`);
  }
  return Math.ceil(count / batchSize);
}

/** A uniformly random permutation of 0..count-1 (Fisher–Yates driven by `rng`). */
export function shuffledOrder(count: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** A new split holding copies of the samples at `indices` (in that order). */
export function gatherSplit(split: DatasetSplit, indices: ArrayLike<number>): DatasetSplit {
  const sampleBytes = split.count === 0 ? 0 : split.images.length / split.count;
  const images = new Uint8Array(indices.length * sampleBytes);
  const labels =
    split.labels instanceof Uint16Array ? new Uint16Array(indices.length) : new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (!(index >= 0 && index < split.count)) {
      throw new RangeError(`gatherSplit: index ${index} is outside 0..${split.count - 1}`);
    }
    images.set(split.images.subarray(index * sampleBytes, (index + 1) * sampleBytes), i * sampleBytes);
    labels[i] = split.labels[index]!;
  }
  return { images, labels, count: indices.length };
}

/**
 * Hold out `fraction` of `split` for validation, stratified: every class gives
 * round(fraction × its count) samples, chosen by a seeded shuffle of that class's indices, so the
 * class balance of both parts follows the original. Both parts keep the original sample order and
 * own copies of just their samples; the original split can then be dropped.
 */
export function splitValidation(
  split: DatasetSplit,
  fraction: number,
  seed: number,
): { train: DatasetSplit; validation: DatasetSplit } {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`splitValidation: fraction must be in [0, 1), got ${fraction}`);
  }
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i]!;
    let members = byClass.get(label);
    if (members === undefined) byClass.set(label, (members = []));
    members.push(i);
  }
  const inValidation = new Uint8Array(split.count);
  // Classes in label order so the draws do not depend on which class appears first.
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  for (const label of classes) {
    const members = byClass.get(label)!;
    const take = Math.round(members.length * fraction);
    const order = shuffledOrder(members.length, classRng(seed, label));
    for (let k = 0; k < take; k++) inValidation[members[order[k]!]!] = 1;
  }
  const trainIndices: number[] = [];
  const validationIndices: number[] = [];
  for (let i = 0; i < split.count; i++) (inValidation[i] ? validationIndices : trainIndices).push(i);
  return { train: gatherSplit(split, trainIndices), validation: gatherSplit(split, validationIndices) };
}

/**
 * One generator per class, derived from the seed and the label, so adding or removing samples of
 * one class does not change which samples of another class are held out.
 */
function classRng(seed: number, label: number): Rng {
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(label + 1, 0x85ebca6b)) >>> 0);
}

/**
 * Gather the samples at `indices` into one batch. With `augment`, every sample draws, in this
 * order, a crop offset x ∈ [0, 2p], a crop offset y ∈ [0, 2p], and (if `flip`) a coin from
 * `augment.rng`. Crop first, then flip (torchvision's RandomCrop → RandomHorizontalFlip): output
 * pixel (row, col) is source pixel (row + y − p, c + x − p) with c = col, or width − 1 − col when
 * flipped; where that falls outside the image it is pixel value 0 before normalisation, as when a
 * uint8 image is zero-padded and then cropped.
 */
export function makeBatch(
  split: DatasetSplit,
  shape: [number, number, number],
  indices: ArrayLike<number>,
  classes: number,
  options: MakeBatchOptions = {},
): Batch {
  const [height, width, channels] = shape;
  const sampleBytes = height * width * channels;
  if (split.count > 0 && split.images.length !== split.count * sampleBytes) {
    throw new RangeError(
      `makeBatch: the split holds ${split.images.length} bytes, not ${split.count} × ${height}×${width}×${channels}`,
    );
  }
  const size = indices.length;
  const normalization = options.normalization ?? DEFAULT_NORMALIZATION;
  const tables = normalizationTables(normalization, channels);
  const from = Array.from({ length: channels }, (_, c) => sourceChannel(normalization, c, channels));
  const pixels = new Float32Array(size * sampleBytes);
  const oneHot = new Float32Array(size * classes);
  const labels = new Int32Array(size);
  const augment = options.augment;
  const padding = augment?.padding ?? 0;
  if (!Number.isInteger(padding) || padding < 0) {
    throw new RangeError(`makeBatch: padding must be a non-negative integer, got ${padding}`);
  }
  const rowBytes = width * channels;
  const images = split.images;

  for (let i = 0; i < size; i++) {
    const index = indices[i]!;
    if (!(index >= 0 && index < split.count && Number.isInteger(index))) {
      throw new RangeError(`makeBatch: index ${index} is outside 0..${split.count - 1}`);
    }
    const label = split.labels[index]!;
    if (label >= classes) {
      throw new RangeError(`makeBatch: sample ${index} has label ${label}, but there are ${classes} classes`);
    }
    labels[i] = label;
    oneHot[i * classes + label] = 1;

    const source = index * sampleBytes;
    const target = i * sampleBytes;
    if (augment === undefined) {
      // One channel at a time, its table and source offset hoisted out of the pixel loop.
      for (let ch = 0; ch < channels; ch++) {
        const table = tables[ch]!;
        const read = source + from[ch]!;
        const write = target + ch;
        for (let p = 0; p < sampleBytes; p += channels) pixels[write + p] = table[images[read + p]!]!;
      }
      continue;
    }
    const shiftX = augment.rng.nextInt(2 * padding + 1) - padding;
    const shiftY = augment.rng.nextInt(2 * padding + 1) - padding;
    const flip = augment.flip && augment.rng.next() < 0.5;

    for (let row = 0; row < height; row++) {
      const sourceRow = row + shiftY;
      const targetRow = target + row * rowBytes;
      if (sourceRow < 0 || sourceRow >= height) {
        for (let k = 0; k < rowBytes; k++) pixels[targetRow + k] = tables[k % channels]![0]!;
        continue;
      }
      const sourceRowStart = source + sourceRow * rowBytes;
      for (let col = 0; col < width; col++) {
        const sourceCol = (flip ? width - 1 - col : col) + shiftX;
        const out = targetRow + col * channels;
        if (sourceCol < 0 || sourceCol >= width) {
          for (let ch = 0; ch < channels; ch++) pixels[out + ch] = tables[ch]![0]!;
        } else {
          const at = sourceRowStart + sourceCol * channels;
          for (let ch = 0; ch < channels; ch++) pixels[out + ch] = tables[ch]![images[at + from[ch]!]!]!;
        }
      }
    }
  }

  return {
    x: tf.tensor4d(pixels, [size, height, width, channels], 'float32'),
    y: tf.tensor2d(oneHot, [size, classes], 'float32'),
    labels,
    size,
  };
}
