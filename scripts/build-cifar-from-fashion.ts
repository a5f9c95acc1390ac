/**
 * Writes Fashion-MNIST in the exact CIFAR-10 binary format, for the ResNet-20 target (a
 * CIFAR-shaped network on data that can be had offline): every 28×28 image zero-padded by 2
 * pixels to 32×32 and replicated to 3 channels; `data_batch_1..5.bin`, `test_batch.bin` and
 * `batches.meta.txt` with the Fashion-MNIST class names. `--train N` / `--test N` take the first
 * N images of the interleaved splits (scripts/lib/fashion-mnist-source.ts), so they stay
 * class-balanced; defaults: all 60,000 and 10,000.
 *
 *   tsx scripts/build-cifar-from-fashion.ts --out <dir> [--train N] [--test N]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CIFAR_PIXEL_BYTES, CIFAR_SIDE } from '../src/main/engine/data/cifar';
import { writeCifar10 } from '../src/main/engine/data/cifar-writer';
import { FASHION_MNIST_CLASSES } from '../src/main/engine/data/class-names';
import type { DatasetSplit } from '../src/main/engine/data/types';
import { fail, positiveInteger, scriptArgs } from './lib/cli-args';
import {
  FASHION_CLASSES,
  FASHION_PIXELS,
  FASHION_SIDE,
  TEST_POOL_PER_CLASS,
  TRAIN_POOL_PER_CLASS,
  fashionMnistSplits,
} from './lib/fashion-mnist-source';

const USAGE = 'tsx scripts/build-cifar-from-fashion.ts --out <dir> [--train N] [--test N]';
const PAD = (CIFAR_SIDE - FASHION_SIDE) / 2;

/** The first `count` samples of a 28×28×1 split as 32×32×3 (zero border, gray replicated). */
function toCifarShape(split: DatasetSplit, count: number): DatasetSplit {
  const images = new Uint8Array(count * CIFAR_PIXEL_BYTES);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < FASHION_SIDE; y++) {
      for (let x = 0; x < FASHION_SIDE; x++) {
        const value = split.images[i * FASHION_PIXELS + y * FASHION_SIDE + x]!;
        const out = i * CIFAR_PIXEL_BYTES + ((y + PAD) * CIFAR_SIDE + (x + PAD)) * 3;
        images[out] = value;
        images[out + 1] = value;
        images[out + 2] = value;
      }
    }
  }
  return { images, labels: split.labels.slice(0, count), count };
}

async function main(): Promise<void> {
  const args = scriptArgs(USAGE, {
    out: { type: 'string' },
    train: { type: 'string' },
    test: { type: 'string' },
  });
  if (args.out === undefined) fail(`--out <dir> is required\nusage: ${USAGE}`);
  const trainCount = positiveInteger('train', args.train, TRAIN_POOL_PER_CLASS * FASHION_CLASSES);
  const testCount = positiveInteger('test', args.test, TEST_POOL_PER_CLASS * FASHION_CLASSES);
  if (trainCount > TRAIN_POOL_PER_CLASS * FASHION_CLASSES)
    fail(`--train is at most 60000, got ${trainCount}`);
  if (testCount > TEST_POOL_PER_CLASS * FASHION_CLASSES) fail(`--test is at most 10000, got ${testCount}`);
  const out = path.resolve(args.out);
  await fs.mkdir(out, { recursive: true });
  const { train, test } = await fashionMnistSplits(
    Math.ceil(trainCount / FASHION_CLASSES),
    Math.ceil(testCount / FASHION_CLASSES),
  );
  await writeCifar10(
    out,
    toCifarShape(train, trainCount),
    toCifarShape(test, testCount),
    FASHION_MNIST_CLASSES,
  );
  process.stdout.write(
    `wrote ${trainCount} training and ${testCount} test images (CIFAR-10 format) to ${out}\n`,
  );
}

await main();
