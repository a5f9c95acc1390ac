import { describe, expect, it } from 'vitest';
import { AXIS_UNITS, niceAxis, niceStep, wrapLabel } from './ticks';

const ticksOf = (max: number, unit: ReturnType<(typeof AXIS_UNITS)[keyof typeof AXIS_UNITS]>): string[] => {
  const axis = niceAxis(max, unit);
  const labels: string[] = [];
  for (let v = 0; v <= axis.max + axis.stepSize / 2; v += axis.stepSize) labels.push(axis.label(v));
  return labels;
};

describe('nice ticks', () => {
  it('steps by 1, 2 or 5 × 10ⁿ', () => {
    expect([0.07, 0.3, 0.31, 1, 1.2, 2.5, 4, 6, 61.15, 180, 0].map(niceStep)).toEqual([
      0.1, 0.5, 0.5, 1, 2, 5, 5, 10, 100, 200, 1,
    ]);
  });

  it('labels file sizes in KiB steps, not 97.7/195.3/293.0 KiB', () => {
    // The fixture's sizes: 250,471 bytes before, 29,315 after (244.6 KiB at most).
    expect(ticksOf(250_471, AXIS_UNITS.bytes(250_471))).toEqual(['0 KiB', '100 KiB', '200 KiB', '300 KiB']);
    expect(ticksOf(3 * 1024 ** 2, AXIS_UNITS.bytes(3 * 1024 ** 2))).toEqual([
      '0 MiB',
      '1 MiB',
      '2 MiB',
      '3 MiB',
    ]);
    expect(ticksOf(1.6 * 1024 ** 2, AXIS_UNITS.bytes(1.6 * 1024 ** 2))).toEqual([
      '0.0 MiB',
      '0.5 MiB',
      '1.0 MiB',
      '1.5 MiB',
      '2.0 MiB',
    ]);
    expect(ticksOf(900, AXIS_UNITS.bytes(900))).toEqual(['0 B', '500 B', '1000 B']);
  });

  it('labels counts, milliseconds, energy and accuracy in their units', () => {
    expect(ticksOf(358_440, AXIS_UNITS.count(358_440))).toEqual(['0 k', '100 k', '200 k', '300 k', '400 k']);
    expect(ticksOf(6, AXIS_UNITS.ms())).toEqual(['0 ms', '2 ms', '4 ms', '6 ms']);
    expect(ticksOf(0.5, AXIS_UNITS.joules(0.5))).toEqual(['0 mJ', '200 mJ', '400 mJ', '600 mJ']);
    expect(ticksOf(0.864, AXIS_UNITS.fraction())).toEqual(['0%', '50%', '100%']);
  });

  it('wraps a long category label into lines that fit', () => {
    expect(wrapLabel('per 1,000 samples')).toEqual(['per 1,000', 'samples']);
    expect(wrapLabel('batch 32')).toBe('batch 32');
  });
});
