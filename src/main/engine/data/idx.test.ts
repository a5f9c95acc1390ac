import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollardError } from '../../../shared/errors';
import { describeDataset } from './describe';
import { encodeIdxImages, encodeIdxLabels, writeIdx } from './idx-writer';
import { openDataset } from './registry';
import type { DatasetSplit } from './types';

let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-idx-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** `count` 4×3 images whose pixel k of image i is (i * 13 + k) % 256, labels i % 10. */
function makeSplit(count: number): DatasetSplit {
  const images = new Uint8Array(count * 12);
  for (let i = 0; i < images.length; i++) images[i] = (Math.floor(i / 12) * 13 + (i % 12)) % 256;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count };
}

async function folder(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

async function expectError(promise: Promise<unknown>, code: string, message: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PollardError);
  expect((error as PollardError).message).toBe(message);
  expect((error as PollardError).code).toBe(code);
}

/** A header-only-valid pair: images header + labels as given. */
async function writePair(
  dir: string,
  images: Uint8Array,
  labels: Uint8Array,
  gz = false,
): Promise<[string, string]> {
  const suffix = gz ? '.gz' : '';
  const imagesFile = path.join(dir, `train-images-idx3-ubyte${suffix}`);
  const labelsFile = path.join(dir, `train-labels-idx1-ubyte${suffix}`);
  await fs.writeFile(imagesFile, gz ? gzipSync(images) : images);
  await fs.writeFile(labelsFile, gz ? gzipSync(labels) : labels);
  return [imagesFile, labelsFile];
}

describe('IDX importer', () => {
  it('opens a folder with a raw training pair and a gzip test pair, pixels and labels intact', async () => {
    const dir = await folder('digits');
    const train = makeSplit(30);
    const test = makeSplit(7);
    await writeIdx(dir, 'train', train, [4, 3, 1]);
    await writeIdx(dir, 't10k', test, [4, 3, 1], { gzip: true });
    const dataset = await openDataset(dir);
    expect(dataset.format).toBe('idx');
    expect(dataset.shape).toEqual([4, 3, 1]);
    expect(dataset.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(dataset.train.count).toBe(30);
    expect(Array.from(dataset.train.images)).toEqual(Array.from(train.images));
    expect(Array.from(dataset.train.labels)).toEqual(Array.from(train.labels));
    expect(dataset.test?.count).toBe(7);
    expect(Array.from(dataset.test!.images)).toEqual(Array.from(test.images));
    const info = describeDataset(dataset);
    expect(info.train.perClass).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    expect(info.test?.perClass).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(dataset.notes).toContain(
      'Classes named by label number 0..9 (no classes.txt beside the files, and the folder is not named like Fashion-MNIST or KMNIST).',
    );
  });

  it('uses Fashion-MNIST names for a folder named like Fashion-MNIST, and classes.txt over that', async () => {
    const fashion = await folder('FashionMNIST/raw');
    await writeIdx(fashion, 'train', makeSplit(10), [4, 3, 1], { gzip: true });
    const dataset = await openDataset(fashion);
    expect(dataset.classNames[0]).toBe('T-shirt/top');
    expect(dataset.classNames[9]).toBe('Ankle boot');

    const named = await folder('fashion-named');
    await writeIdx(named, 'train', makeSplit(10), [4, 3, 1]);
    await fs.writeFile(path.join(named, 'classes.txt'), 'a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n');
    expect((await openDataset(named)).classNames).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']);

    await fs.writeFile(path.join(named, 'classes.txt'), 'a\nb\nc\n');
    await expectError(
      openDataset(named),
      'bad-input',
      `${path.join(named, 'train-labels-idx1-ubyte')}: record 3 has label 3; the classes are 0..2`,
    );
  });

  it('opens one file of a pair, finding its partner beside it, as the training split', async () => {
    const dir = await folder('single');
    await writeIdx(dir, 't10k', makeSplit(5), [4, 3, 1], { gzip: true });
    const fromImages = await openDataset(path.join(dir, 't10k-images-idx3-ubyte.gz'));
    expect(fromImages.train.count).toBe(5);
    expect(fromImages.test).toBeUndefined();
    const fromLabels = await openDataset(path.join(dir, 't10k-labels-idx1-ubyte.gz'));
    expect(Array.from(fromLabels.train.labels)).toEqual([0, 1, 2, 3, 4]);

    const lonely = await folder('lonely');
    await fs.copyFile(
      path.join(dir, 't10k-images-idx3-ubyte.gz'),
      path.join(lonely, 't10k-images-idx3-ubyte.gz'),
    );
    await expectError(
      openDataset(path.join(lonely, 't10k-images-idx3-ubyte.gz')),
      'bad-input',
      `${path.join(lonely, 't10k-images-idx3-ubyte.gz')}: no matching labels file beside it (expected t10k-labels-idx1-ubyte or t10k-labels-idx1-ubyte.gz)`,
    );
  });

  it('keeps the first N samples of each split with a limit', async () => {
    const dir = await folder('limited');
    const train = makeSplit(30);
    await writeIdx(dir, 'train', train, [4, 3, 1], { gzip: true });
    await writeIdx(dir, 't10k', makeSplit(7), [4, 3, 1]);
    const dataset = await openDataset(dir, { limit: 5 });
    expect(dataset.train.count).toBe(5);
    expect(dataset.train.images.length).toBe(60);
    expect(Array.from(dataset.train.images)).toEqual(Array.from(train.images.subarray(0, 60)));
    expect(dataset.test?.count).toBe(5);
    expect(dataset.notes).toContain('Limited to the first 5 samples of each split.');
  });

  it('refuses a bad magic number', async () => {
    const dir = await folder('bad-magic');
    const images = encodeIdxImages(makeSplit(2).images, 2, 4, 3);
    images[3] = 0x01; // 0x00000801: a label file's magic
    const [imagesFile] = await writePair(dir, images, encodeIdxLabels([0, 1]));
    await expectError(
      openDataset(dir),
      'bad-input',
      `${imagesFile}: bad magic number 0x00000801: an IDX image file starts with 0x00000803 (2051)`,
    );
  });

  it('refuses a bad magic number in the label file', async () => {
    const dir = await folder('bad-label-magic');
    const labels = encodeIdxLabels([0, 1]);
    labels.writeUInt32BE(0x12345678, 0);
    const [, labelsFile] = await writePair(dir, encodeIdxImages(makeSplit(2).images, 2, 4, 3), labels, true);
    await expectError(
      openDataset(dir),
      'bad-input',
      `${labelsFile}: bad magic number 0x12345678: an IDX label file starts with 0x00000801 (2049)`,
    );
  });

  it('refuses element types other than unsigned byte as unsupported, naming the type code', async () => {
    const dir = await folder('float');
    const images = encodeIdxImages(makeSplit(2).images, 2, 4, 3);
    images[2] = 0x0d;
    const [imagesFile] = await writePair(dir, images, encodeIdxLabels([0, 1]));
    await expectError(
      openDataset(dir),
      'unsupported',
      `${imagesFile}: IDX type code 0x0D (32-bit float) is not supported; only 0x08 (unsigned byte) is`,
    );
    images[2] = 0x42;
    await fs.writeFile(imagesFile, images);
    await expectError(
      openDataset(dir),
      'unsupported',
      `${imagesFile}: IDX type code 0x42 is not supported; only 0x08 (unsigned byte) is`,
    );
  });

  it('refuses image and label counts that differ, before reading the pixels', async () => {
    const dir = await folder('count');
    const [, labelsFile] = await writePair(
      dir,
      encodeIdxImages(makeSplit(3).images, 3, 4, 3),
      encodeIdxLabels([0, 1]),
      true,
    );
    await expectError(
      openDataset(dir),
      'bad-input',
      `${labelsFile}: 2 labels, but train-images-idx3-ubyte.gz has 3 images`,
    );
  });

  it('refuses truncated and over-long files, raw and gzip', async () => {
    const dir = await folder('truncated');
    const images = encodeIdxImages(makeSplit(3).images, 3, 4, 3);
    const [imagesFile] = await writePair(
      dir,
      images.subarray(0, images.length - 5),
      encodeIdxLabels([0, 1, 2]),
    );
    await expectError(
      openDataset(dir),
      'bad-input',
      `${imagesFile}: truncated: the header implies 52 bytes (16-byte header + 3 images of 4×3 bytes), but the file has 47`,
    );
    await fs.writeFile(imagesFile, Buffer.concat([images, Buffer.alloc(1)]));
    await expectError(
      openDataset(dir),
      'bad-input',
      `${imagesFile}: longer than its header implies: 52 bytes (16-byte header + 3 images of 4×3 bytes), but the file has 53`,
    );

    const gzDir = await folder('truncated-gz');
    const [gzImages] = await writePair(gzDir, images.subarray(0, 40), encodeIdxLabels([0, 1, 2]), true);
    await expectError(
      openDataset(gzDir),
      'bad-input',
      `${gzImages}: truncated: the header implies 52 bytes (16-byte header + 3 images of 4×3 bytes), but the file inflates to 40`,
    );
    // A gzip stream cut short is its own kind of damage.
    const whole = gzipSync(images);
    await fs.writeFile(gzImages, whole.subarray(0, whole.length - 12));
    await expectError(
      openDataset(gzDir),
      'bad-input',
      `${gzImages}: truncated gzip data (unexpected end of file)`,
    );
    const tinyHeader = await folder('tiny');
    const [tinyFile] = await writePair(tinyHeader, Uint8Array.from([0, 0, 8, 3, 0, 0]), encodeIdxLabels([0]));
    await expectError(
      openDataset(tinyHeader),
      'bad-input',
      `${tinyFile}: truncated: 6 bytes, shorter than the 16-byte IDX header`,
    );
  });

  it('stops inflating a gzip bomb as soon as it passes the length its header implies', async () => {
    const dir = await folder('bomb');
    // The header says one 28×28 image (800 bytes); the stream inflates to 4 GiB of zeros
    // (256 concatenated gzip members of 16 MiB each, about 4 MB on disk).
    const header = encodeIdxImages(new Uint8Array(784), 1, 28, 28).subarray(0, 16);
    const zeros = gzipSync(Buffer.alloc(16 << 20));
    const bomb = Buffer.concat([gzipSync(header), ...new Array<Buffer>(256).fill(zeros)]);
    expect(bomb.length).toBeLessThan(5_000_000);
    const imagesFile = path.join(dir, 'train-images-idx3-ubyte.gz');
    await fs.writeFile(imagesFile, bomb);
    await fs.writeFile(path.join(dir, 'train-labels-idx1-ubyte'), encodeIdxLabels([0]));
    const started = performance.now();
    await expectError(
      openDataset(dir),
      'bad-input',
      `${imagesFile}: longer than its header implies: 800 bytes (16-byte header + 1 images of 28×28 bytes), but it inflates to more than 800`,
    );
    // Inflating all 4 GiB takes well over ten seconds here.
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('refuses a dataset over the memory cap before allocating it', async () => {
    const dir = await folder('huge');
    // Header: 1,000,000 images of 1000×1000: a terabyte, in a 40-byte file.
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x803, 0);
    header.writeUInt32BE(1_000_000, 4);
    header.writeUInt32BE(1000, 8);
    header.writeUInt32BE(1000, 12);
    const labels = Buffer.alloc(8);
    labels.writeUInt32BE(0x801, 0);
    labels.writeUInt32BE(1_000_000, 4);
    const [imagesFile] = await writePair(dir, header, labels);
    await expectError(
      openDataset(dir),
      'bad-input',
      `${imagesFile}: the dataset needs 1,000,000,000,000 bytes of pixels, over the limit of 2,147,483,648; use a limit on the number of samples`,
    );
  });

  it('says what it expected when nothing matches', async () => {
    const dir = await folder('nothing');
    await fs.writeFile(path.join(dir, 'readme.md'), 'hello');
    await expectError(
      openDataset(dir),
      'bad-input',
      `${dir}: not a recognised dataset: expected IDX files (train-images-idx3-ubyte[.gz] ...), CIFAR binary batches (.bin or .tar.gz) or a folder of class folders of images`,
    );
    await expectError(
      openDataset(path.join(dir, 'missing')),
      'io',
      `${path.join(dir, 'missing')}: no such file or folder`,
    );
    await expect(openDataset(dir, { limit: 0 })).rejects.toThrow('limit must be a positive integer, got 0');
  });
});
