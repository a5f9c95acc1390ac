/**
 * Writing IDX files (the MNIST layout): used to build the bundled sample and benchmark sets,
 * and by tests to make fixtures byte by byte.
 */
import path from 'node:path';
import { writeFileAtomic } from '../../util/atomic';
import { gzipDeterministic } from './deterministic-gzip';
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC } from './idx';
import type { DatasetSplit } from './types';

/** An IDX image file: magic 0x00000803, count, rows, cols (big-endian), then the pixels. */
export function encodeIdxImages(images: Uint8Array, count: number, rows: number, cols: number): Buffer {
  if (images.length !== count * rows * cols) {
    throw new RangeError(`encodeIdxImages: ${images.length} bytes is not ${count} × ${rows}×${cols}`);
  }
  const out = Buffer.alloc(16 + images.length);
  out.writeUInt32BE(IDX_IMAGES_MAGIC, 0);
  out.writeUInt32BE(count, 4);
  out.writeUInt32BE(rows, 8);
  out.writeUInt32BE(cols, 12);
  out.set(images, 16);
  return out;
}

/** An IDX label file: magic 0x00000801, count (big-endian), then one byte per label. */
export function encodeIdxLabels(labels: ArrayLike<number>): Buffer {
  const out = Buffer.alloc(8 + labels.length);
  out.writeUInt32BE(IDX_LABELS_MAGIC, 0);
  out.writeUInt32BE(labels.length, 4);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!(Number.isInteger(label) && label >= 0 && label <= 255)) {
      throw new RangeError(`encodeIdxLabels: label ${label} at ${i} does not fit in a byte`);
    }
    out[8 + i] = label;
  }
  return out;
}

/**
 * Write `<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]` into `dir`
 * (gzip: deterministic, see deterministic-gzip.ts). Returns the two paths.
 */
export async function writeIdx(
  dir: string,
  prefix: 'train' | 't10k',
  split: DatasetSplit,
  shape: [number, number, number],
  options: { gzip?: boolean } = {},
): Promise<[string, string]> {
  const [rows, cols, channels] = shape;
  if (channels !== 1) throw new RangeError(`writeIdx: IDX images have 1 channel, not ${channels}`);
  const suffix = options.gzip ? '.gz' : '';
  const pack = (bytes: Uint8Array): Uint8Array => (options.gzip ? gzipDeterministic(bytes) : bytes);
  const imagesFile = path.join(dir, `${prefix}-images-idx3-ubyte${suffix}`);
  const labelsFile = path.join(dir, `${prefix}-labels-idx1-ubyte${suffix}`);
  await writeFileAtomic(imagesFile, pack(encodeIdxImages(split.images, split.count, rows, cols)));
  await writeFileAtomic(labelsFile, pack(encodeIdxLabels(split.labels)));
  return [imagesFile, labelsFile];
}
