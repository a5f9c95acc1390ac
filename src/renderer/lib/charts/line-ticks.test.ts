import { describe, expect, it } from 'vitest';
import { AXIS_UNITS, lineAxes, type NiceRange, niceRange, tickValues } from './ticks';

const labels = (axis: NiceRange): string[] => tickValues(axis).map(axis.label);
/** Points from x = `from` to `to` (fractional epochs) whose y runs from `yFrom` to `yTo`. */
const curve = (from: number, to: number, yFrom: number, yTo: number, n = 50): { x: number; y: number }[] =>
  Array.from({ length: n }, (_, i) => ({
    x: from + ((to - from) * i) / (n - 1),
    y: yFrom + ((yTo - yFrom) * i) / (n - 1),
  }));

describe('line chart ticks', () => {
  it('steps a loss of 0.31–2.30 by 0.5 from 0', () => {
    const { y } = lineAxes(curve(0.01, 3, 2.3, 0.31));
    expect(tickValues(y)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(labels(y)).toEqual(['0.0', '0.5', '1.0', '1.5', '2.0', '2.5']);
  });

  it('starts a loss that stays high at a whole step, not at 0', () => {
    const { y } = lineAxes(curve(0, 1, 1.92, 1.46));
    expect(tickValues(y)).toEqual([1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2]);
    expect(labels(y)).toEqual(['1.4', '1.5', '1.6', '1.7', '1.8', '1.9', '2.0']);
  });

  it('shows a 0–1 accuracy axis in percent steps of 20', () => {
    const { y } = lineAxes(curve(0, 3, 0.1, 0.97), { yMin: 0, yMax: 1 });
    expect(tickValues(y)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(labels(y)).toEqual(['0%', '20%', '40%', '60%', '80%', '100%']);
    // A lower chart (160 px) still steps by 20 %, a 260 px one too.
    expect(labels(lineAxes([], { yMin: 0, yMax: 1, height: 160 }).y)).toEqual([
      '0%',
      '20%',
      '40%',
      '60%',
      '80%',
      '100%',
    ]);
    expect(tickValues(lineAxes([], { yMin: 0, yMax: 1, height: 260 }).y)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('labels power in whole watts on a low chart', () => {
    const { y } = lineAxes(curve(0, 2, 12.3, 45.6), { height: 140 });
    expect(labels(y)).toEqual(['10', '20', '30', '40', '50']);
  });

  it('puts x ticks on whole epochs only', () => {
    expect(tickValues(lineAxes(curve(0.01, 3, 1, 0)).x)).toEqual([0, 1, 2, 3]);
    // During the first epoch: 0 and 1, never 0.1, 0.2 …
    expect(tickValues(lineAxes(curve(0.02, 0.4, 1, 0)).x)).toEqual([0, 1]);
    expect(labels(lineAxes(curve(0.02, 0.4, 1, 0)).x)).toEqual(['0', '1']);
    expect(tickValues(lineAxes(curve(0.1, 12, 1, 0)).x)).toEqual([0, 2, 4, 6, 8, 10, 12]);
    expect(tickValues(lineAxes(curve(0.1, 30, 1, 0)).x)).toEqual([0, 5, 10, 15, 20, 25, 30]);
    expect(tickValues(lineAxes(curve(0.5, 200, 1, 0)).x)).toEqual([0, 50, 100, 150, 200]);
    // A resumed run's x starts later: the axis starts at the whole step below.
    expect(tickValues(lineAxes(curve(2.3, 7.9, 1, 0)).x)).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it('draws an axis before the first point and around a single one', () => {
    const empty = lineAxes([]);
    expect(tickValues(empty.x)).toEqual([0, 1]);
    expect(tickValues(empty.y)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const one = lineAxes([{ x: 0.05, y: 2.3 }]);
    expect(tickValues(one.x)).toEqual([0, 1]);
    expect(tickValues(one.y)).toEqual([2, 2.5]);
  });

  it('keeps the bar charts’ 0-based axes', () => {
    const range = niceRange(0, 250_471, AXIS_UNITS.bytes(250_471));
    expect(labels(range)).toEqual(['0 KiB', '100 KiB', '200 KiB', '300 KiB']);
  });
});
