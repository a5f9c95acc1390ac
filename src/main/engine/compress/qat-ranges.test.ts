import { describe, expect, it } from 'vitest';
import { tf, tfl } from '../tf';
import { ActivationRangeObserver, recordedRanges } from './qat-ranges';

/** input [2] → Dense(2) with kernel [[1, 0], [0, 2]] → ReLU. */
function tiny() {
  const input = tfl.input({ shape: [2], name: 'x' });
  const dense = tfl.layers.dense({ units: 2, useBias: false, name: 'dense' });
  const out = tfl.layers.reLU({ name: 'relu' }).apply(dense.apply(input)) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out });
  dense.setWeights([tf.tensor2d([1, 0, 0, 2], [2, 2])]);
  return model;
}

describe('QAT activation ranges', () => {
  it('keeps a moving average of each layer output’s min and max (constant 0.01), one batch in `every`', async () => {
    const observer = new ActivationRangeObserver(tiny(), 2);
    expect(await observer.observe(tf.tensor2d([1, -2, 3, 0], [2, 2]))).toBe(true);
    expect(observer.toJSON()).toEqual({
      x: { min: -2, max: 3 },
      dense: { min: -4, max: 3 },
      relu: { min: 0, max: 3 },
    });
    // Skipped: one batch in two.
    expect(await observer.observe(tf.tensor2d([100, -100, 0, 0], [2, 2]))).toBe(false);
    expect(await observer.observe(tf.tensor2d([5, 1, -1, -1], [2, 2]))).toBe(true);
    const r = observer.toJSON();
    // x: (−1, 5) → −2 + 0.01·(−1 + 2), 3 + 0.01·(5 − 3); dense: (−2, 5); relu: (0, 5).
    expect(r.x!.min).toBeCloseTo(-1.99, 12);
    expect(r.x!.max).toBeCloseTo(3.02, 12);
    expect(r.dense!.min).toBeCloseTo(-3.98, 12);
    expect(r.dense!.max).toBeCloseTo(3.02, 12);
    expect(r.relu).toEqual({ min: 0, max: expect.closeTo(3.02, 12) as number });
    expect(observer.state().seen).toBe(3);
  });

  it('restores from a checkpoint’s state and refuses malformed ranges', async () => {
    const observer = new ActivationRangeObserver(tiny(), 1);
    observer.restore({ ranges: { relu: { min: 0, max: 10 } }, seen: 7 });
    await observer.observe(tf.tensor2d([1, 1], [1, 2]));
    expect(observer.toJSON().relu!.max).toBeCloseTo(10 + 0.01 * (2 - 10), 12);
    expect(observer.state().seen).toBe(8);
    expect(recordedRanges({ a: { min: 1, max: 0 } })).toBeUndefined();
    expect(recordedRanges({ a: { min: 0, max: 'x' } })).toBeUndefined();
    expect(recordedRanges([])).toBeUndefined();
    expect(recordedRanges({ a: { min: -1, max: 2 } })).toEqual({ a: { min: -1, max: 2 } });
  });
});
