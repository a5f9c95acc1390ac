import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadFashionMnistClass } from '../../../../scripts/lib/fashion-mnist-source';
import { FASHION_MNIST_CLASSES } from './class-names';
import { describeDataset } from './describe';
import { openDataset } from './registry';

const SAMPLE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../../resources/samples/fashion-mnist-small',
);

describe('the bundled Fashion-MNIST sample', () => {
  it('opens as 10,000 training and 2,000 test images, class-balanced and interleaved', async () => {
    const dataset = await openDataset(SAMPLE);
    const info = describeDataset(dataset);
    expect(info.format).toBe('idx');
    expect(info.shape).toEqual([28, 28, 1]);
    expect(info.classNames).toEqual(FASHION_MNIST_CLASSES);
    expect(info.train.count).toBe(12_000);
    expect(info.train.perClass).toEqual(new Array(10).fill(1200));
    expect(info.test?.count).toBe(2000);
    expect(info.test?.perClass).toEqual(new Array(10).fill(200));
    expect(Array.from(dataset.train.labels.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    expect(dataset.notes).toContain('Fashion-MNIST class names (the folder is named like Fashion-MNIST).');
  });

  it('follows the documented split rule: class c image i at train i×10+c, image 6000+i at test i×10+c', async () => {
    const dataset = await openDataset(SAMPLE);
    const { images, count, dropped } = await loadFashionMnistClass(3);
    expect(count).toBe(7000);
    expect(dropped).toBe(0);
    const image = (pixels: Uint8Array, index: number): number[] =>
      Array.from(pixels.subarray(index * 784, (index + 1) * 784));
    expect(image(dataset.train.images, 5 * 10 + 3)).toEqual(image(images, 5));
    expect(image(dataset.test!.images, 7 * 10 + 3)).toEqual(image(images, 6007));
  });

  it('matches the SHA-256 sums its README records', async () => {
    const readme = await fs.readFile(path.join(SAMPLE, 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `([^`]+\.gz)` \| [\d,]+ \| `([0-9a-f]{64})` \|$/gm)];
    expect(rows.map((row) => row[1])).toEqual([
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
    ]);
    for (const [, name, sum] of rows) {
      const bytes = await fs.readFile(path.join(SAMPLE, name!));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(sum);
    }
  });
});
