import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollardError } from '../../../shared/errors';
import { describeDataset } from './describe';
import { previewImages } from './preview';
import { openDataset } from './registry';

let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-images-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function expectError(promise: Promise<unknown>, code: string, message: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PollardError);
  expect((error as PollardError).message).toBe(message);
  expect((error as PollardError).code).toBe(code);
}

/** Solid-colour (or patterned) image files; channels 1 are written as true grayscale. */
async function writeImage(
  file: string,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  fill: (x: number, y: number, c: number) => number,
  format: 'png' | 'jpeg' | 'webp' = 'png',
): Promise<void> {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = fill(x, y, c);
    }
  }
  await fs.mkdir(path.dirname(file), { recursive: true });
  let image = sharp(raw, { raw: { width, height, channels } });
  if (channels === 1) image = image.toColourspace('b-w');
  const encoded =
    format === 'png'
      ? image.png()
      : format === 'jpeg'
        ? image.jpeg({ quality: 95 })
        : image.webp({ lossless: true });
  await fs.writeFile(file, await encoded.toBuffer());
}

/** CRC-32 as PNG chunks use it. */
function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A valid-looking PNG of a few hundred bytes that declares width × height pixels. */
function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1000))),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

describe('image-folder importer', () => {
  it('reads class folders: sorted classes, interleaved samples, exact RGB pixels, ignored files noted', async () => {
    const root = path.join(tmp, 'basic');
    for (let i = 0; i < 3; i++)
      await writeImage(
        path.join(root, 'cat', `${i}.png`),
        4,
        2,
        3,
        (x, y, c) => 10 * i + x + 4 * y + 100 * c,
      );
    for (let i = 0; i < 2; i++) {
      await writeImage(path.join(root, 'Dog', `${i}.webp`), 4, 2, 3, (x, y, c) => 200 + i + c);
    }
    await fs.writeFile(path.join(root, 'cat', 'notes.txt'), 'not an image');
    await fs.writeFile(path.join(root, 'cat', '.DS_Store'), 'hidden');
    await fs.writeFile(path.join(root, 'README.md'), 'about');
    const dataset = await openDataset(root);
    expect(dataset.format).toBe('image-folder');
    // Code-point order: upper case before lower case.
    expect(dataset.classNames).toEqual(['Dog', 'cat']);
    expect(dataset.shape).toEqual([2, 4, 3]);
    expect(Array.from(dataset.train.labels)).toEqual([0, 1, 0, 1, 1]);
    // Sample 1 is cat/0.png: pixel (x=1, y=1), channel 2 = 0 + 1 + 4 + 200.
    expect(dataset.train.images[24 + (1 * 4 + 1) * 3 + 2]).toBe(205);
    // Sample 4 is cat/2.png, pixel (0, 0): 20, 120, 220.
    expect(Array.from(dataset.train.images.subarray(96, 99))).toEqual([20, 120, 220]);
    expect(Array.from(dataset.train.images.subarray(0, 3))).toEqual([200, 201, 202]);
    expect(describeDataset(dataset).train.perClass).toEqual([2, 3]);
    expect(dataset.notes).toContain(
      'Ignored 1 files that are not .png, .jpg, .jpeg or .webp (cat/notes.txt).',
    );
    expect(dataset.notes).toContain('Ignored 1 files beside the class folders (README.md).');
    expect(dataset.notes).toContain('3 channels (RGB): not every image is grayscale.');

    const limited = await openDataset(root, { limit: 3 });
    expect(Array.from(limited.train.labels)).toEqual([0, 1, 0]);
  });

  it('keeps one channel when every image is grayscale, and renders previews as PNG', async () => {
    const root = path.join(tmp, 'gray');
    for (const [label, name] of ['a', 'b'].entries()) {
      for (let i = 0; i < 2; i++) {
        await writeImage(
          path.join(root, name, `${i}.png`),
          3,
          3,
          1,
          (x, y) => 100 * label + 10 * i + x + 3 * y,
        );
      }
    }
    await writeImage(path.join(root, 'b', 'x.jpg'), 3, 3, 1, () => 128, 'jpeg');
    const dataset = await openDataset(root);
    expect(dataset.shape).toEqual([3, 3, 1]);
    expect(dataset.notes).toContain('1 channel: every image is grayscale.');
    expect(Array.from(dataset.train.images.subarray(9, 18))).toEqual([
      100, 101, 102, 103, 104, 105, 106, 107, 108,
    ]);
    expect(Math.abs(dataset.train.images[4 * 9]! - 128)).toBeLessThanOrEqual(2);

    const forced = await openDataset(root, { channels: 3 });
    expect(forced.shape).toEqual([3, 3, 3]);
    expect(Array.from(forced.train.images.subarray(27, 33))).toEqual([100, 100, 100, 101, 101, 101]);

    const previews = await previewImages(dataset, 1);
    expect(previews.map((p) => [p.label, p.width, p.height, p.channels])).toEqual([
      [0, 3, 3, 1],
      [1, 3, 3, 1],
    ]);
    const decoded = await sharp(Buffer.from(previews[1]!.pngBase64, 'base64'))
      .toColourspace('b-w')
      .raw()
      .toBuffer();
    expect(Array.from(decoded)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108]);
  });

  it('uses train/ and val/ folders as splits', async () => {
    const root = path.join(tmp, 'splits');
    await writeImage(path.join(root, 'train', 'x', '0.png'), 2, 2, 3, () => 1);
    await writeImage(path.join(root, 'train', 'y', '0.png'), 2, 2, 3, () => 2);
    await writeImage(path.join(root, 'val', 'y', '0.png'), 2, 2, 3, () => 3);
    const dataset = await openDataset(root);
    expect(dataset.classNames).toEqual(['x', 'y']);
    expect(dataset.train.count).toBe(2);
    expect(dataset.test?.count).toBe(1);
    expect(Array.from(dataset.test!.labels)).toEqual([1]);
    expect(dataset.notes).toContain('Splits from folders: training from train/, test from val/.');

    await writeImage(path.join(root, 'val', 'z', '0.png'), 2, 2, 3, () => 3);
    await expectError(
      openDataset(root),
      'bad-input',
      `${path.join(root, 'val', 'z')}: class "z" has no folder in the training split`,
    );
  });

  it('sizes mixed images to the most common size, scaling to cover and center-cropping', async () => {
    const root = path.join(tmp, 'mixed');
    await writeImage(path.join(root, 'a', '0.png'), 4, 4, 3, () => 50);
    await writeImage(path.join(root, 'a', '1.png'), 4, 4, 3, () => 60);
    // 8×4, white in columns 2..5 and black outside them.
    await writeImage(path.join(root, 'b', '0.png'), 8, 4, 3, (x) => (x >= 2 && x < 6 ? 255 : 0));
    const dataset = await openDataset(root);
    expect(dataset.shape).toEqual([4, 4, 3]);
    expect(dataset.notes).toContain('Images sized 4×4, the most common size in the set.');
    expect(dataset.notes).toContain('1 images of other sizes were scaled to cover 4×4 and center-cropped.');
    // b/0.png is sample 1: 8×4 already covers 4×4 at scale 1, so the center crop keeps x = 2..5: all white.
    const sample = Array.from(dataset.train.images.subarray(48, 96));
    expect(sample.every((v) => v === 255)).toBe(true);

    const requested = await openDataset(root, { size: [2, 2] });
    expect(requested.shape).toEqual([2, 2, 3]);
    expect(requested.notes).toContain('Images sized 2×2 as requested.');
    expect(requested.notes).toContain('3 images of other sizes were scaled to cover 2×2 and center-cropped.');
    expect(Array.from(requested.train.images.subarray(0, 12)).every((v) => v === 50)).toBe(true);
  });

  it('flattens transparency onto black', async () => {
    const root = path.join(tmp, 'alpha');
    await writeImage(path.join(root, 'a', '0.png'), 1, 1, 4, (_x, _y, c) => [255, 0, 0, 128][c]!);
    await writeImage(path.join(root, 'b', '0.png'), 1, 1, 3, () => 9);
    const dataset = await openDataset(root);
    expect(Array.from(dataset.train.images.subarray(0, 3))).toEqual([128, 0, 0]);
    expect(dataset.notes).toContain('Transparency was flattened onto black and the alpha channel dropped.');
  });

  it('refuses a corrupt image, naming it', async () => {
    const root = path.join(tmp, 'corrupt');
    await writeImage(path.join(root, 'a', '0.png'), 2, 2, 3, () => 1);
    const bad = path.join(root, 'a', '1.png');
    await fs.writeFile(bad, 'this is not a PNG');
    await expectError(
      openDataset(root),
      'bad-input',
      `${bad}: is not a PNG, JPEG or WebP file (judged by its first bytes)`,
    );
    // A PNG signature followed by garbage.
    const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await fs.writeFile(bad, Buffer.concat([signature, Buffer.alloc(40, 7)]));
    await expectError(
      openDataset(root),
      'bad-input',
      `${bad}: cannot be read as an image (Input file has corrupt header)`,
    );
    // A good header with the pixel data cut off fails when decoded.
    const big = await sharp(
      Buffer.alloc(64 * 64 * 3, 7).map((_, i) => (i * 31) % 256),
      {
        raw: { width: 64, height: 64, channels: 3 },
      },
    )
      .png({ compressionLevel: 0 })
      .toBuffer();
    await fs.writeFile(bad, big.subarray(0, 2000));
    const error = await openDataset(root).then(
      () => undefined,
      (e: unknown) => e as PollardError,
    );
    expect(error?.code).toBe('bad-input');
    expect(error?.message).toMatch(
      new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot be decoded \\(.+\\)$`),
    );
  });

  it('refuses a PNG that declares a huge size, from its header', async () => {
    const root = path.join(tmp, 'bomb');
    await writeImage(path.join(root, 'a', '0.png'), 2, 2, 3, () => 1);
    const bomb = path.join(root, 'a', '1.png');
    await fs.writeFile(bomb, pngDeclaring(100_000, 100_000));
    await expectError(
      openDataset(root),
      'bad-input',
      `${bomb}: declares 100,000×100,000 pixels, over the limit of 67,108,864; refusing a possible decompression bomb`,
    );
  });

  it('refuses files in another format under an image name (SVG as .png)', async () => {
    const root = path.join(tmp, 'svg');
    await writeImage(path.join(root, 'a', '0.png'), 2, 2, 3, () => 1);
    const svg = path.join(root, 'a', '1.png');
    await fs.writeFile(
      svg,
      '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"><rect width="2" height="2"/></svg>',
    );
    await expectError(
      openDataset(root),
      'bad-input',
      `${svg}: is not a PNG, JPEG or WebP file (judged by its first bytes)`,
    );
  });

  it('refuses symbolic links leading out of the folder, and follows those inside it', async () => {
    const root = path.join(tmp, 'links');
    const outside = path.join(tmp, 'outside.png');
    await writeImage(outside, 2, 2, 3, () => 1);
    await writeImage(path.join(root, 'a', '0.png'), 2, 2, 3, () => 5);
    await writeImage(path.join(root, 'b', '0.png'), 2, 2, 3, () => 6);
    await fs.symlink(path.join(root, 'a', '0.png'), path.join(root, 'b', 'inside.png'));
    expect((await openDataset(root)).train.count).toBe(3);
    const link = path.join(root, 'a', 'escape.png');
    await fs.symlink(outside, link);
    await expectError(
      openDataset(root),
      'bad-input',
      `${link}: symbolic link leads outside the dataset folder (to ${await fs.realpath(outside)}); refusing it`,
    );
    await fs.rm(link);
    const folderLink = path.join(root, 'c');
    await fs.symlink(tmp, folderLink);
    await expectError(
      openDataset(root),
      'bad-input',
      `${folderLink}: symbolic link leads outside the dataset folder (to ${await fs.realpath(tmp)}); refusing it`,
    );
  });

  it('refuses an empty class folder', async () => {
    const root = path.join(tmp, 'empty');
    await writeImage(path.join(root, 'a', '0.png'), 2, 2, 3, () => 1);
    await fs.mkdir(path.join(root, 'b'));
    await fs.writeFile(path.join(root, 'b', 'readme.txt'), 'no images here');
    await expectError(
      openDataset(root),
      'bad-input',
      `${path.join(root, 'b')}: class folder holds no images (.png, .jpg, .jpeg or .webp)`,
    );
  });

  it('checks the total size against the memory cap before decoding', async () => {
    const root = path.join(tmp, 'cap');
    await writeImage(path.join(root, 'a', '0.png'), 10, 10, 3, () => 1);
    await writeImage(path.join(root, 'b', '0.png'), 10, 10, 3, () => 2);
    await expectError(
      openDataset(root, { maxBytes: 500 }),
      'bad-input',
      `${root}: 2 images of 10×10×3 need 600 bytes, over the limit of 500; use a limit on the number of samples or a smaller size`,
    );
  });
});
