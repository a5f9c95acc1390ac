/**
 * Writing the CIFAR binary format: used by scripts (Fashion-MNIST as a CIFAR-10-shaped set for
 * the ResNet-20 target) and by tests to make fixtures byte by byte.
 */
import path from 'node:path';
import type { DatasetFormat } from '../../../shared/types';
import { writeFileAtomic } from '../../util/atomic';
import { CIFAR_PIXEL_BYTES, CIFAR_SIDE } from './cifar';
import type { DatasetSplit } from './types';

type CifarFormat = Extract<DatasetFormat, 'cifar-10' | 'cifar-100'>;

/**
 * Records for samples [start, end) of an NHWC 32×32×3 split: label byte(s), then the R, G and B
 * planes. CIFAR-100 records carry `coarse[i]` (default 0) before the fine label.
 */
export function encodeCifarRecords(
  split: DatasetSplit,
  format: CifarFormat,
  range: { start?: number; end?: number; coarse?: ArrayLike<number> } = {},
): Uint8Array {
  const start = range.start ?? 0;
  const end = range.end ?? split.count;
  const labelBytes = format === 'cifar-10' ? 1 : 2;
  const recordBytes = labelBytes + CIFAR_PIXEL_BYTES;
  if (split.images.length !== split.count * CIFAR_PIXEL_BYTES) {
    throw new RangeError(`encodeCifarRecords: images are not ${split.count} × 32×32×3`);
  }
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  const out = new Uint8Array((end - start) * recordBytes);
  for (let i = start; i < end; i++) {
    const record = (i - start) * recordBytes;
    if (format === 'cifar-100') out[record] = range.coarse?.[i] ?? 0;
    out[record + labelBytes - 1] = split.labels[i]!;
    const pixels = record + labelBytes;
    const source = i * CIFAR_PIXEL_BYTES;
    for (let p = 0; p < plane; p++) {
      out[pixels + p] = split.images[source + p * 3]!;
      out[pixels + plane + p] = split.images[source + p * 3 + 1]!;
      out[pixels + 2 * plane + p] = split.images[source + p * 3 + 2]!;
    }
  }
  return out;
}

/**
 * Write a CIFAR-10 folder: the training split spread evenly over `data_batch_1..N.bin`
 * (N = `batches`, default 5, as the official set), `test_batch.bin`, and `batches.meta.txt`.
 * Returns the paths written.
 */
export async function writeCifar10(
  dir: string,
  train: DatasetSplit,
  test: DatasetSplit | undefined,
  classNames: string[],
  options: { batches?: number } = {},
): Promise<string[]> {
  const batches = options.batches ?? 5;
  const written: string[] = [];
  for (let b = 0; b < batches; b++) {
    const start = Math.floor((b * train.count) / batches);
    const end = Math.floor(((b + 1) * train.count) / batches);
    const file = path.join(dir, `data_batch_${b + 1}.bin`);
    await writeFileAtomic(file, encodeCifarRecords(train, 'cifar-10', { start, end }));
    written.push(file);
  }
  if (test) {
    const file = path.join(dir, 'test_batch.bin');
    await writeFileAtomic(file, encodeCifarRecords(test, 'cifar-10'));
    written.push(file);
  }
  const meta = path.join(dir, 'batches.meta.txt');
  // The official file ends with blank lines too.
  await writeFileAtomic(meta, classNames.join('\n') + '\n\n');
  written.push(meta);
  return written;
}
