import { describe, expect, it } from 'vitest';
import { tf } from '../tf';
import { Rng } from '../util/rng';
import { batchCount, makeBatch, shuffledOrder, splitValidation } from './pipeline';
import type { DatasetSplit } from './types';

/** A split whose sample i is filled with its own id in two bytes (i >> 8, i & 255, ...). */
function taggedSplit(labels: number[], sampleBytes: number): DatasetSplit {
  const images = new Uint8Array(labels.length * sampleBytes);
  for (let i = 0; i < labels.length; i++) {
    for (let k = 0; k < sampleBytes; k++) images[i * sampleBytes + k] = k % 2 === 0 ? i >> 8 : i & 255;
  }
  return { images, labels: Uint8Array.from(labels), count: labels.length };
}

function idOf(split: DatasetSplit, i: number, sampleBytes: number): number {
  return split.images[i * sampleBytes]! * 256 + split.images[i * sampleBytes + 1]!;
}

/** An Rng stand-in that replays fixed draws, to aim the augmentation at known crops. */
function scriptedRng(ints: number[], floats: number[]): Rng {
  return {
    nextInt: () => ints.shift()!,
    next: () => floats.shift()!,
  } as unknown as Rng;
}

describe('batchCount and shuffledOrder', () => {
  it('counts the last partial batch', () => {
    expect(batchCount(100, 32)).toBe(4);
    expect(batchCount(96, 32)).toBe(3);
    expect(batchCount(0, 32)).toBe(0);
    expect(() => batchCount(10, 0)).toThrow('batchCount: batch size must be a positive integer, got 0');
  });

  it('returns a seeded permutation', () => {
    const a = shuffledOrder(1000, new Rng(3));
    const b = shuffledOrder(1000, new Rng(3));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // A shuffle that left most elements in place would be broken.
    expect(Array.from(a).filter((v, i) => v === i).length).toBeLessThan(10);
    expect(Array.from(shuffledOrder(1000, new Rng(4)))).not.toEqual(Array.from(a));
  });
});

describe('makeBatch', () => {
  it('normalises pixel / 255 * scale + offset and one-hot encodes labels', () => {
    const split: DatasetSplit = {
      images: Uint8Array.from([0, 51, 255, 102, 204, 255, 10, 20, 30]),
      labels: Uint8Array.from([2, 0, 1]),
      count: 3,
    };
    const before = tf.memory().numTensors;
    const batch = makeBatch(split, [1, 3, 1], [2, 0], 4, { normalization: { scale: 2, offset: -1 } });
    expect(batch.size).toBe(2);
    expect(batch.x.shape).toEqual([2, 1, 3, 1]);
    expect(batch.x.dtype).toBe('float32');
    const x = Array.from(batch.x.dataSync());
    const expected = [10, 20, 30, 0, 51, 255].map((v) => (v / 255) * 2 - 1);
    x.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
    expect(Array.from(batch.y.dataSync())).toEqual([0, 1, 0, 0, 0, 0, 1, 0]);
    expect(Array.from(batch.labels)).toEqual([1, 2]);
    tf.dispose([batch.x, batch.y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('defaults to pixel / 255', () => {
    const split: DatasetSplit = {
      images: Uint8Array.from([255, 0]),
      labels: Uint8Array.from([0, 1]),
      count: 2,
    };
    const batch = makeBatch(split, [1, 1, 1], [0, 1], 2, {});
    expect(Array.from(batch.x.dataSync())).toEqual([1, 0]);
    tf.dispose([batch.x, batch.y]);
  });

  it('crops with zero padding and flips a hand-made 3×3 image exactly', () => {
    // 1 2 3 / 4 5 6 / 7 8 9, two channels: the second is the first + 100.
    const pixels: number[] = [];
    for (let v = 1; v <= 9; v++) pixels.push(v, v + 100);
    const split: DatasetSplit = { images: Uint8Array.from(pixels), labels: Uint8Array.from([0]), count: 1 };
    const run = (ints: number[], floats: number[]): number[] => {
      const batch = makeBatch(split, [3, 3, 2], [0], 1, {
        normalization: { scale: 255, offset: 0 },
        augment: { rng: scriptedRng(ints, floats), padding: 1, flip: true },
      });
      const values = Array.from(batch.x.dataSync()).map((v) => Math.round(v));
      tf.dispose([batch.x, batch.y]);
      return values.filter((_, i) => i % 2 === 0);
    };
    // Offsets drawn in [0, 2p]: 1 = no shift.
    expect(run([1, 1], [0.9])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // x offset 2, y offset 2: the window moves right and down by one pixel.
    expect(run([2, 2], [0.9])).toEqual([5, 6, 0, 8, 9, 0, 0, 0, 0]);
    // x offset 0, y offset 1: the window moves left by one pixel.
    expect(run([0, 1], [0.9])).toEqual([0, 1, 2, 0, 4, 5, 0, 7, 8]);
    // No shift, flip (coin < 0.5).
    expect(run([1, 1], [0.1])).toEqual([3, 2, 1, 6, 5, 4, 9, 8, 7]);
    // Crop up-left (x 0, y 0), then flip the crop.
    expect(run([0, 0], [0.2])).toEqual([0, 0, 0, 2, 1, 0, 5, 4, 0]);
    // The second channel follows the first.
    const batch = makeBatch(split, [3, 3, 2], [0], 1, {
      normalization: { scale: 255, offset: 0 },
      augment: { rng: scriptedRng([1, 1], [0.1]), padding: 1, flip: true },
    });
    expect(Array.from(batch.x.dataSync()).slice(0, 4).map(Math.round)).toEqual([3, 103, 2, 102]);
    tf.dispose([batch.x, batch.y]);
  });

  it('pads with the normalised value of pixel 0', () => {
    const split: DatasetSplit = { images: Uint8Array.from([255]), labels: Uint8Array.from([0]), count: 1 };
    const batch = makeBatch(split, [1, 1, 1], [0], 1, {
      normalization: { scale: 2, offset: -1 },
      augment: { rng: scriptedRng([0, 1], []), padding: 1, flip: false },
    });
    expect(Array.from(batch.x.dataSync())).toEqual([-1]);
    tf.dispose([batch.x, batch.y]);
  });

  it('augments deterministically for a seed, and differently for another seed', () => {
    const split = taggedSplit(
      Array.from({ length: 8 }, (_, i) => i % 3),
      8 * 8 * 3,
    );
    for (let i = 0; i < split.images.length; i++) split.images[i] = (i * 37) % 251;
    const draw = (seed: number): number[] => {
      const batch = makeBatch(split, [8, 8, 3], [0, 1, 2, 3, 4, 5, 6, 7], 3, {
        augment: { rng: new Rng(seed), padding: 2, flip: true },
      });
      const values = Array.from(batch.x.dataSync());
      tf.dispose([batch.x, batch.y]);
      return values;
    };
    const a = draw(11);
    expect(draw(11)).toEqual(a);
    expect(draw(12)).not.toEqual(a);
    const plain = makeBatch(split, [8, 8, 3], [0, 1, 2, 3, 4, 5, 6, 7], 3);
    expect(Array.from(plain.x.dataSync())).not.toEqual(a);
    tf.dispose([plain.x, plain.y]);
  });

  it('refuses indices outside the split and labels beyond the class count', () => {
    const split: DatasetSplit = {
      images: Uint8Array.from([1, 2]),
      labels: Uint8Array.from([0, 5]),
      count: 2,
    };
    expect(() => makeBatch(split, [1, 1, 1], [2], 6)).toThrow('makeBatch: index 2 is outside 0..1');
    expect(() => makeBatch(split, [1, 1, 1], [1], 5)).toThrow(
      'makeBatch: sample 1 has label 5, but there are 5 classes',
    );
    expect(() => makeBatch(split, [2, 1, 1], [0], 6)).toThrow(
      'makeBatch: the split holds 2 bytes, not 2 × 2×1×1',
    );
  });
});

describe('splitValidation', () => {
  // 10 classes with 10, 20, ..., 100 samples, interleaved.
  const labels: number[] = [];
  for (let round = 0; round < 100; round++) {
    for (let c = 0; c < 10; c++) if (round < (c + 1) * 10) labels.push(c);
  }
  const sampleBytes = 4;
  const split = taggedSplit(labels, sampleBytes);

  it('holds out round(fraction × count) of every class, disjoint, covering the split', () => {
    const { train, validation } = splitValidation(split, 0.15, 5);
    expect(train.count + validation.count).toBe(550);
    const perClass = (s: DatasetSplit): number[] => {
      const counts = new Array<number>(10).fill(0);
      for (let i = 0; i < s.count; i++) counts[s.labels[i]!]! += 1;
      return counts;
    };
    // round(0.15 × 10) = 2 (1.5 rounds up), round(0.15 × 20) = 3, ...
    expect(perClass(validation)).toEqual([2, 3, 5, 6, 8, 9, 11, 12, 14, 15]);
    expect(validation.count).toBe(85);
    expect(perClass(train)).toEqual([8, 17, 25, 34, 42, 51, 59, 68, 76, 85]);
    const trainIds = Array.from({ length: train.count }, (_, i) => idOf(train, i, sampleBytes));
    const validationIds = Array.from({ length: validation.count }, (_, i) =>
      idOf(validation, i, sampleBytes),
    );
    const all = new Set([...trainIds, ...validationIds]);
    expect(all.size).toBe(550);
    // Labels travel with their images, and the original order is kept.
    for (let i = 0; i < train.count; i++) expect(train.labels[i]).toBe(labels[trainIds[i]!]);
    expect(trainIds).toEqual([...trainIds].sort((a, b) => a - b));
    expect(train.images.length).toBe(train.count * sampleBytes);
  });

  it('is seeded: the same seed holds out the same samples, another seed others', () => {
    const ids = (seed: number): number[] => {
      const { validation } = splitValidation(split, 0.1, seed);
      return Array.from({ length: validation.count }, (_, i) => idOf(validation, i, sampleBytes));
    };
    expect(ids(1)).toEqual(ids(1));
    expect(ids(1)).not.toEqual(ids(2));
  });

  it('holds out nothing for fraction 0 and refuses fractions outside [0, 1)', () => {
    const { train, validation } = splitValidation(split, 0, 1);
    expect(validation.count).toBe(0);
    expect(train.count).toBe(550);
    expect(() => splitValidation(split, 1, 1)).toThrow('splitValidation: fraction must be in [0, 1), got 1');
  });
});
