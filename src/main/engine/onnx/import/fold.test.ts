import { describe, expect, it } from 'vitest';
import { tf } from '../../tf';
import { transposeValues } from './fold';

describe('transposeValues', () => {
  it('permutes axes as tf.transpose does, for every permutation of a 2×3×4 constant', () => {
    const dims = [2, 3, 4];
    const data = Float32Array.from({ length: 24 }, (_, i) => i);
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      const expected = tf.tidy(() => tf.transpose(tf.tensor(data, dims), order).dataSync());
      expect([...transposeValues(data, dims, order)]).toEqual([...expected]);
    }
  });

  it('gives exact values for a 2×3 matrix and leaves a vector as it is', () => {
    expect([...transposeValues(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0])]).toEqual([
      1, 4, 2, 5, 3, 6,
    ]);
    expect([...transposeValues(Float32Array.from([7, 8]), [2], [0])]).toEqual([7, 8]);
  });
});
