import { describe, expect, it } from 'vitest';
import { quantile, spread, summariseFigures } from './stats';

describe('stats', () => {
  it('computes median, quartiles and range like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(spread([5, 1, 3])).toEqual({ values: [5, 1, 3], median: 3, min: 1, max: 5, q1: 2, q3: 4 });
    expect(spread([])).toEqual({ values: [], median: null, min: null, max: null, q1: null, q3: null });
  });

  it('summarises figures of one label, counts missing ones, and refuses to mix labels', () => {
    const counter = (joules: number | null) =>
      joules === null
        ? { joules, label: 'unavailable' as const, source: 'RAPL', reason: 'counter unreadable' }
        : { joules, label: 'measured:counter' as const, source: 'RAPL' };
    expect(summariseFigures([counter(10), counter(30), counter(20)])).toMatchObject({
      label: 'measured:counter',
      median: 20,
      min: 10,
      max: 30,
    });
    expect(summariseFigures([counter(10), counter(null)])).toMatchObject({
      label: 'measured:counter',
      median: 10,
      reason: '1 of 2 unavailable: counter unreadable',
    });
    expect(summariseFigures([counter(null)])).toMatchObject({
      label: 'unavailable',
      median: null,
      reason: 'counter unreadable',
    });
    expect(
      summariseFigures([counter(10), { joules: 5, label: 'modelled:tdp-load', source: 'TDP' }]),
    ).toMatchObject({
      label: 'unavailable',
      median: null,
      reason:
        'figures obtained differently (measured:counter, modelled:tdp-load) are not summarised together',
    });
  });
});
