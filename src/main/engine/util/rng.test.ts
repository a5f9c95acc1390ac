import { describe, expect, it } from 'vitest';
import { Rng } from './rng';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference C implementation for the state [1, 2, 3, 4]', () => {
    // Outputs of Vigna's xoshiro128starstar.c with s = {1, 2, 3, 4}.
    const rng = Rng.fromState([1, 2, 3, 4]);
    const outputs = Array.from({ length: 6 }, () => rng.nextUint32());
    expect(outputs).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const seqA = Array.from({ length: 100 }, () => a.next());
    const seqB = Array.from({ length: 100 }, () => b.next());
    const seqC = Array.from({ length: 100 }, () => c.next());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
  });

  it('continues identically from a saved state', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 1000; i++) rng.next();
    const saved = rng.state();
    const expected = Array.from({ length: 50 }, () => rng.nextInt(1000));
    const restored = Rng.fromState(JSON.parse(JSON.stringify(saved)) as number[]);
    expect(Array.from({ length: 50 }, () => restored.nextInt(1000))).toEqual(expected);
  });

  it('is roughly uniform: next() in [0, 1) and nextInt buckets within 5% of their mean', () => {
    const rng = new Rng(1);
    const buckets = new Array<number>(10).fill(0);
    let sum = 0;
    let min = 1;
    let max = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
      buckets[rng.nextInt(10)]! += 1;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.005);
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThan(n / 10 / 20);
  });

  it('refuses an all-zero or malformed state and a bad range', () => {
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(
      'Rng: a state is four uint32 words, not all zero; got [0, 0, 0, 0]',
    );
    expect(() => Rng.fromState([1, 2, 3])).toThrow('Rng: a state is four uint32 words');
    expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow('Rng: a state is four uint32 words');
    expect(() => new Rng(0).nextInt(0)).toThrow('Rng.nextInt: n must be an integer in 1..2^32, got 0');
  });
});
