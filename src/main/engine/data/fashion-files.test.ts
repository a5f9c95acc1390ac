import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_FILE_SIZES, isFashionMnistFiles } from './class-names';
import { openDataset } from './registry';

const SAMPLE = path.resolve(import.meta.dirname, '../../../../resources/samples/fashion-mnist-small');
const NAMES = Object.keys(FASHION_MNIST_FILE_SIZES);

describe('Fashion-MNIST files recognised by name and size', () => {
  it('knows the official download and the bundled sample, not MNIST', async () => {
    const sample = await Promise.all(
      NAMES.map(async (name) => ({ name, bytes: (await fs.stat(path.join(SAMPLE, name))).size })),
    );
    expect(sample.map((f) => f.bytes)).toEqual([5_346_190, 74, 886_046, 53]);
    expect(isFashionMnistFiles(sample)).toBe(true);
    const official = NAMES.map((name) => ({ name, bytes: FASHION_MNIST_FILE_SIZES[name]![0]! }));
    expect(isFashionMnistFiles(official)).toBe(true);
    // MNIST's official gzip files: same names, other sizes.
    const mnist = [9_912_422, 28_881, 1_648_877, 4_542].map((bytes, i) => ({ name: NAMES[i]!, bytes }));
    expect(isFashionMnistFiles(mnist)).toBe(false);
    expect(isFashionMnistFiles(sample.filter((f) => f.name.includes('labels')))).toBe(false);
    expect(isFashionMnistFiles([{ name: 'train-images-idx3-ubyte', bytes: 47_040_016 }])).toBe(false);
  });

  it('names the classes of the sample dropped into an upload folder of any name', async () => {
    const upload = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-upload-'));
    for (const name of NAMES) await fs.copyFile(path.join(SAMPLE, name), path.join(upload, name));
    const dataset = await openDataset(upload, { limit: 20 });
    expect(dataset.classNames).toEqual(FASHION_MNIST_CLASSES);
    expect(dataset.notes).toContain(
      "Fashion-MNIST class names (the files have Fashion-MNIST's names and sizes).",
    );
    // One file given (its partner beside it) is recognised the same way.
    const one = await openDataset(path.join(upload, 't10k-images-idx3-ubyte.gz'), { limit: 20 });
    expect(one.classNames).toEqual(FASHION_MNIST_CLASSES);
  });
});
