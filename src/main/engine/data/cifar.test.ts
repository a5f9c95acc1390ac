import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollardError } from '../../../shared/errors';
import { CIFAR100_CLASSES, CIFAR10_CLASSES } from './class-names';
import { encodeCifarRecords, writeCifar10 } from './cifar-writer';
import { describeDataset } from './describe';
import { openDataset } from './registry';
import type { DatasetSplit } from './types';

let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-cifar-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** NHWC 32×32×3 samples whose pixel values encode (sample, position, channel). */
function makeSplit(count: number, classes = 10, seed = 0): DatasetSplit {
  const images = new Uint8Array(count * 3072);
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) images[i * 3072 + p * 3 + c] = (i * 7 + p * 3 + c * 101 + seed) % 256;
    }
  }
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 3 + seed) % classes);
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

async function tarGz(
  entries: { name: string; data: Uint8Array | string; type?: 'file' | 'symlink'; linkname?: string }[],
): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    const data = typeof entry.data === 'string' ? Buffer.from(entry.data) : Buffer.from(entry.data);
    if (entry.type === 'symlink') pack.entry({ name: entry.name, type: 'symlink', linkname: entry.linkname });
    else pack.entry({ name: entry.name, size: data.length }, data);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

/** A minimal ustar header for a regular file. */
function ustarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(size.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return header;
}

describe('CIFAR importer', () => {
  it('reads a CIFAR-10 folder: planar records become NHWC, batches in order, names from batches.meta.txt', async () => {
    const dir = await folder('cifar10');
    const train = makeSplit(9);
    const test = makeSplit(4, 10, 5);
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    await writeCifar10(dir, train, test, names, { batches: 3 });
    const dataset = await openDataset(dir);
    expect(dataset.format).toBe('cifar-10');
    expect(dataset.shape).toEqual([32, 32, 3]);
    expect(dataset.classNames).toEqual(names);
    expect(dataset.train.count).toBe(9);
    expect(Array.from(dataset.train.images)).toEqual(Array.from(train.images));
    expect(Array.from(dataset.train.labels)).toEqual(Array.from(train.labels));
    expect(Array.from(dataset.test!.images)).toEqual(Array.from(test.images));
    expect(dataset.notes).toContain(
      'CIFAR-10 binary: training split from data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, test split from test_batch.bin; channel-planar pixels converted to NHWC.',
    );
    // Labels (3i) mod 10 for i = 0..8 miss class 7.
    expect(describeDataset(dataset).train.perClass).toEqual([1, 1, 1, 1, 1, 1, 1, 0, 1, 1]);
  });

  it('reads planar bytes written by hand: R, G, B planes of 1,024 bytes each', async () => {
    const dir = await folder('by-hand');
    const record = new Uint8Array(3073);
    record[0] = 7;
    record[1] = 11; // R of pixel (0, 0)
    record[1 + 1024] = 22; // G of pixel (0, 0)
    record[1 + 2048] = 33; // B of pixel (0, 0)
    record[1 + 33] = 44; // R of pixel (1, 1)
    record[1 + 2048 + 1023] = 55; // B of pixel (31, 31)
    await fs.writeFile(path.join(dir, 'data_batch_1.bin'), record);
    const dataset = await openDataset(path.join(dir, 'data_batch_1.bin'));
    const image = dataset.train.images;
    expect(Array.from(image.subarray(0, 3))).toEqual([11, 22, 33]);
    expect(image[33 * 3]).toBe(44);
    expect(image[1023 * 3 + 2]).toBe(55);
    expect(Array.from(dataset.train.labels)).toEqual([7]);
    expect(dataset.classNames).toEqual(CIFAR10_CLASSES);
  });

  it('finds the folder the official archive unpacks into, and decides a renamed .bin by its size', async () => {
    const parent = await folder('unpacked');
    const inner = path.join(parent, 'cifar-10-batches-bin');
    await fs.mkdir(inner);
    await writeCifar10(inner, makeSplit(5), makeSplit(2), CIFAR10_CLASSES);
    const dataset = await openDataset(parent);
    expect(dataset.train.count).toBe(5);
    expect(dataset.test?.count).toBe(2);

    const renamed = path.join(parent, 'mine.bin');
    await fs.writeFile(renamed, encodeCifarRecords(makeSplit(3, 100), 'cifar-100'));
    const hundred = await openDataset(renamed);
    expect(hundred.format).toBe('cifar-100');
    expect(hundred.train.count).toBe(3);
  });

  it('reads the official tar.gz directly, with a limit across batches in batch order', async () => {
    const train = makeSplit(12);
    const test = makeSplit(6, 10, 9);
    const batch = (start: number, end: number): Uint8Array =>
      encodeCifarRecords(train, 'cifar-10', { start, end });
    const archive = path.join(tmp, 'cifar-10-binary.tar.gz');
    // Batches deliberately out of order in the archive.
    await fs.writeFile(
      archive,
      await tarGz([
        { name: 'cifar-10-batches-bin/batches.meta.txt', data: CIFAR10_CLASSES.join('\n') + '\n\n' },
        { name: 'cifar-10-batches-bin/data_batch_2.bin', data: batch(4, 8) },
        { name: 'cifar-10-batches-bin/readme.html', data: '<p>hello</p>' },
        { name: 'cifar-10-batches-bin/data_batch_1.bin', data: batch(0, 4) },
        { name: 'cifar-10-batches-bin/test_batch.bin', data: encodeCifarRecords(test, 'cifar-10') },
        { name: 'cifar-10-batches-bin/data_batch_3.bin', data: batch(8, 12) },
      ]),
    );
    const dataset = await openDataset(archive);
    expect(dataset.train.count).toBe(12);
    expect(Array.from(dataset.train.images)).toEqual(Array.from(train.images));
    expect(Array.from(dataset.test!.labels)).toEqual(Array.from(test.labels));
    expect(dataset.notes).toContain('Class names from batches.meta.txt.');

    const limited = await openDataset(archive, { limit: 6 });
    expect(limited.train.count).toBe(6);
    expect(Array.from(limited.train.images)).toEqual(Array.from(train.images.subarray(0, 6 * 3072)));
    expect(limited.test?.count).toBe(6);
  });

  it('reads CIFAR-100 with fine labels and fine_label_names.txt', async () => {
    const dir = await folder('cifar100');
    const train = makeSplit(5, 100);
    train.labels.set([99, 0, 57, 3, 42]);
    const coarse = [19, 0, 4, 2, 10];
    await fs.writeFile(path.join(dir, 'train.bin'), encodeCifarRecords(train, 'cifar-100', { coarse }));
    await fs.writeFile(path.join(dir, 'test.bin'), encodeCifarRecords(makeSplit(2, 100), 'cifar-100'));
    let dataset = await openDataset(dir);
    expect(dataset.format).toBe('cifar-100');
    expect(dataset.classNames).toEqual(CIFAR100_CLASSES);
    expect(dataset.classNames).toHaveLength(100);
    expect(Array.from(dataset.train.labels)).toEqual([99, 0, 57, 3, 42]);
    expect(Array.from(dataset.train.images)).toEqual(Array.from(train.images));

    const names = Array.from({ length: 100 }, (_, i) => `class${i}`);
    await fs.writeFile(path.join(dir, 'fine_label_names.txt'), names.join('\n') + '\n');
    dataset = await openDataset(dir);
    expect(dataset.classNames[99]).toBe('class99');
    await fs.writeFile(path.join(dir, 'fine_label_names.txt'), names.slice(0, 20).join('\n'));
    await expectError(
      openDataset(dir),
      'bad-input',
      `${path.join(dir, 'fine_label_names.txt')}: names 20 classes; CIFAR-100 has 100`,
    );
  });

  it('refuses a file whose size is not a whole number of records', async () => {
    const dir = await folder('bad-size');
    const file = path.join(dir, 'data_batch_1.bin');
    await fs.writeFile(file, new Uint8Array(3073 * 2 + 100));
    await expectError(
      openDataset(dir),
      'bad-input',
      `${file}: size 6,246 bytes is not a multiple of 3,073 (a CIFAR-10 record is 1 label byte + 3,072 pixel bytes)`,
    );
    const cifar100 = path.join(dir, 'train.bin');
    await fs.writeFile(cifar100, new Uint8Array(3073));
    await expectError(
      openDataset(cifar100),
      'bad-input',
      `${cifar100}: size 3,073 bytes is not a multiple of 3,074 (a CIFAR-100 record is a coarse and a fine label byte + 3,072 pixel bytes)`,
    );
  });

  it('refuses a label over 9, or over 99 for CIFAR-100, naming the file and record', async () => {
    const dir = await folder('bad-label');
    const records = encodeCifarRecords(makeSplit(4), 'cifar-10');
    records[2 * 3073] = 12;
    const file = path.join(dir, 'data_batch_1.bin');
    await fs.writeFile(file, records);
    await expectError(
      openDataset(dir),
      'bad-input',
      `${file}: record 2 has label 12; CIFAR-10 labels are 0..9`,
    );

    const fine = encodeCifarRecords(makeSplit(4, 100), 'cifar-100');
    fine[3 * 3074 + 1] = 120;
    const train100 = path.join(dir, 'train.bin');
    await fs.writeFile(train100, fine);
    await expectError(
      openDataset(train100),
      'bad-input',
      `${train100}: record 3 has fine label 120; CIFAR-100 fine labels are 0..99`,
    );
    fine[3 * 3074 + 1] = 5;
    fine[1 * 3074] = 20;
    await fs.writeFile(train100, fine);
    await expectError(
      openDataset(train100),
      'bad-input',
      `${train100}: record 1 has coarse label 20; CIFAR-100 coarse labels are 0..19`,
    );
  });

  it('refuses archives with entries that climb out of them, and names bad entries inside', async () => {
    const batch = encodeCifarRecords(makeSplit(2), 'cifar-10');
    const traversal = path.join(tmp, 'traversal.tar.gz');
    await fs.writeFile(
      traversal,
      await tarGz([
        { name: 'cifar-10-batches-bin/data_batch_1.bin', data: batch },
        { name: '../../evil/data_batch_2.bin', data: batch },
      ]),
    );
    await expectError(
      openDataset(traversal),
      'bad-input',
      `${traversal}: archive entry "../../evil/data_batch_2.bin" points outside the archive; refusing the archive`,
    );
    const link = path.join(tmp, 'link.tar.gz');
    await fs.writeFile(
      link,
      await tarGz([{ name: 'cifar-10-batches-bin/x', data: '', type: 'symlink', linkname: '/etc/passwd' }]),
    );
    await expectError(
      openDataset(link),
      'bad-input',
      `${link}: archive entry "cifar-10-batches-bin/x" links to "/etc/passwd", outside the archive; refusing the archive`,
    );

    const badEntry = path.join(tmp, 'bad-entry.tar.gz');
    const labelled = Uint8Array.from(batch);
    labelled[3073] = 10;
    await fs.writeFile(
      badEntry,
      await tarGz([{ name: 'cifar-10-batches-bin/data_batch_1.bin', data: labelled }]),
    );
    await expectError(
      openDataset(badEntry),
      'bad-input',
      `${badEntry}:cifar-10-batches-bin/data_batch_1.bin: record 1 has label 10; CIFAR-10 labels are 0..9`,
    );
    await fs.writeFile(badEntry, await tarGz([{ name: 'test_batch.bin', data: batch.subarray(0, 5000) }]));
    await expectError(
      openDataset(badEntry),
      'bad-input',
      `${badEntry}:test_batch.bin: size 5,000 bytes is not a multiple of 3,073 (a CIFAR-10 record is 1 label byte + 3,072 pixel bytes)`,
    );
    await fs.writeFile(badEntry, await tarGz([{ name: 'notes.txt', data: 'nothing here' }]));
    await expectError(
      openDataset(badEntry),
      'bad-input',
      `${badEntry}: holds no CIFAR batches (expected data_batch_1.bin ... test_batch.bin, or train.bin and test.bin)`,
    );
  });

  it('stops a gzip bomb inside an archive at the cap', async () => {
    const bomb = path.join(tmp, 'bomb.tar.gz');
    // One entry of 32 MiB of zeros, skipped by the reader; the cap is maxBytes + 16 MiB of slack.
    // Built from concatenated gzip members (they inflate to one stream) to keep the test fast.
    const zeros = gzipSync(Buffer.alloc(16 << 20));
    await fs.writeFile(
      bomb,
      Buffer.concat([
        gzipSync(ustarHeader('padding.bin', 32 << 20)),
        ...new Array<Buffer>(2).fill(zeros),
        gzipSync(Buffer.alloc(1024)),
      ]),
    );
    await expectError(
      openDataset(bomb, { maxBytes: 3072 }),
      'bad-input',
      `${bomb}: inflates to more than 16,780,288 bytes, over the limit`,
    );
    // And the pixel budget applies to what is kept.
    const archive = path.join(tmp, 'budget.tar.gz');
    await fs.writeFile(
      archive,
      await tarGz([{ name: 'data_batch_1.bin', data: encodeCifarRecords(makeSplit(2), 'cifar-10') }]),
    );
    await expectError(
      openDataset(archive, { maxBytes: 3072 }),
      'bad-input',
      `${archive}: the dataset needs 6,144 bytes of pixels, over the limit of 3,072; use a limit on the number of samples`,
    );
  });
});
