/**
 * Axis ticks a person reads at a glance: steps of 1, 2 or 5 × 10ⁿ in the unit the axis shows
 * (100 KiB, not 97.7 KiB = 100,000 bytes), and the fewest decimals those steps need.
 */

/** How an axis shows its values: base values are divided by `divisor` and written with `suffix`. */
export interface AxisUnit {
  divisor: number;
  suffix: string;
}

export interface NiceAxis {
  /** The axis end, in base units (a whole number of steps). */
  max: number;
  /** The step between ticks, in base units. */
  stepSize: number;
  /** A tick's label, e.g. "200 KiB". */
  label: (value: number) => string;
}

/** The smallest 1, 2 or 5 × 10ⁿ at least `rough`. */
export function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const factor of [1, 2, 5, 10]) {
    const step = factor * power;
    // Tolerate float error: 0.30000000000000004 is 0.3.
    if (step >= rough * (1 - 1e-9)) return step;
  }
  return 10 * power;
}

/** Decimals a step needs in its unit: 0.5 → 1, 0.25 → 2, 20 → 0. */
function decimalsOf(step: number): number {
  for (let digits = 0; digits < 10; digits++) {
    if (Math.abs(Math.round(step * 10 ** digits) - step * 10 ** digits) < 1e-6) return digits;
  }
  return 10;
}

/** Ticks from 0 to at least `max` (base units) in about `intervals` steps of the unit. */
export function niceAxis(max: number, unit: AxisUnit, intervals = 4): NiceAxis {
  const top = max > 0 && Number.isFinite(max) ? max : unit.divisor;
  const { max: end, stepSize, label } = niceRange(0, top, unit, { intervals });
  return { max: end, stepSize, label };
}

export interface NiceRange extends NiceAxis {
  /** The axis start, in base units (a whole number of steps). */
  min: number;
}

export interface NiceRangeOptions {
  /** About how many steps the axis should have (at most this many, fewer where a 1-2-5 step is wider). */
  intervals?: number;
  /** Steps of at least one base unit (epochs, batches): no tick at 1.5 epochs. */
  integer?: boolean;
}

/**
 * Ticks covering `min`..`max` (base units): the ends are whole steps of 1, 2 or 5 × 10ⁿ in the
 * unit shown, e.g. a loss of 0.31–2.30 gets 0, 0.5, 1, 1.5, 2, 2.5. A single value or none
 * still gets an axis one step wide or more.
 */
export function niceRange(
  min: number,
  max: number,
  unit: AxisUnit,
  options: NiceRangeOptions = {},
): NiceRange {
  const { intervals = 4, integer = false } = options;
  let lo = Number.isFinite(min) ? min / unit.divisor : 0;
  let hi = Number.isFinite(max) ? max / unit.divisor : lo;
  if (hi < lo) [lo, hi] = [hi, lo];
  const span = hi - lo || Math.abs(hi) || 1;
  let step = niceStep(span / Math.max(1, intervals));
  // One base unit is 1 / divisor in the unit shown; niceStep above 1 is whole already.
  if (integer) step = Math.max(step, niceStep(1 / unit.divisor));
  const digits = decimalsOf(step);
  const round = (value: number): number => Number(value.toFixed(digits));
  const start = round(Math.floor(lo / step + 1e-9) * step);
  let end = round(Math.ceil(hi / step - 1e-9) * step);
  if (end <= start) end = round(start + step);
  const space = unit.suffix === '' || unit.suffix === '%' ? '' : ' ';
  return {
    min: start * unit.divisor,
    max: end * unit.divisor,
    stepSize: step * unit.divisor,
    label: (value) => `${(value / unit.divisor).toFixed(digits)}${space}${unit.suffix}`,
  };
}

/** The tick values (base units) of an axis from `niceRange`, free of float noise (0.3, not 0.30000000000000004). */
export function tickValues(axis: { min?: number; max: number; stepSize: number }): number[] {
  const start = axis.min ?? 0;
  const count = Math.round((axis.max - start) / axis.stepSize);
  return Array.from({ length: count + 1 }, (_, i) => Number((start + i * axis.stepSize).toPrecision(12)));
}

/** The largest unit whose divisor `max` reaches (the first one below it). */
const pick = (max: number, units: [number, string][]): AxisUnit => {
  const chosen = units.find((_, i) => i === units.length - 1 || max < units[i + 1]![0]) ?? units[0]!;
  return { divisor: chosen[0], suffix: chosen[1] };
};

/** The unit the axis shows for values up to `max`. */
export const AXIS_UNITS = {
  bytes: (max: number): AxisUnit =>
    pick(max, [
      [1, 'B'],
      [1024, 'KiB'],
      [1024 ** 2, 'MiB'],
      [1024 ** 3, 'GiB'],
    ]),
  joules: (max: number): AxisUnit =>
    pick(max, [
      [1e-3, 'mJ'],
      [1, 'J'],
      [1e3, 'kJ'],
      [3.6e6, 'kWh'],
    ]),
  ms: (): AxisUnit => ({ divisor: 1, suffix: 'ms' }),
  /** Plain numbers (loss, watts, epochs): no unit in the label. */
  plain: (): AxisUnit => ({ divisor: 1, suffix: '' }),
  count: (max: number): AxisUnit =>
    pick(max, [
      [1, ''],
      [1e3, 'k'],
      [1e6, 'M'],
      [1e9, 'G'],
    ]),
  /** 0..1 shown as percent. */
  fraction: (): AxisUnit => ({ divisor: 0.01, suffix: '%' }),
} as const;
export type AxisUnitName = keyof typeof AXIS_UNITS;

export interface LineAxesOptions {
  /** Fixed ends of the value axis (base units); without them the axis covers the data. */
  yMin?: number;
  yMax?: number;
  /** The value axis's unit; a 0–1 axis (yMin 0, yMax 1) is a fraction shown in percent, others plain. */
  yUnit?: AxisUnitName;
  /** The chart's height in pixels: about one value tick per 32 px, 3 at least. */
  height?: number;
  /** About how many x steps (a half-width chart fits 6). */
  xIntervals?: number;
}

/**
 * A line chart's axes: x in whole epochs (or steps) from the first to the last point, y in
 * 1, 2 or 5 × 10ⁿ of the unit shown over the data or the fixed ends.
 */
export function lineAxes(
  points: readonly { x: number; y: number }[],
  options: LineAxesOptions = {},
): { x: NiceRange; y: NiceRange } {
  const { yMin, yMax, height = 200, xIntervals = 6 } = options;
  // A loop, not Math.min(...values): a long run has more points than a call takes arguments.
  let [xLo, xHi, yLo, yHi] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const p of points) {
    if (Number.isFinite(p.x)) [xLo, xHi] = [Math.min(xLo, p.x), Math.max(xHi, p.x)];
    if (Number.isFinite(p.y)) [yLo, yHi] = [Math.min(yLo, p.y), Math.max(yHi, p.y)];
  }
  const x = niceRange(xLo <= xHi ? xLo : 0, xLo <= xHi ? xHi : 1, AXIS_UNITS.plain(), {
    intervals: xIntervals,
    integer: true,
  });
  const unitName = options.yUnit ?? (yMin === 0 && yMax === 1 ? 'fraction' : 'plain');
  const lo = yMin ?? (yLo <= yHi ? yLo : 0);
  const hi = yMax ?? (yLo <= yHi ? yHi : 1);
  const y = niceRange(lo, hi, AXIS_UNITS[unitName](Math.max(Math.abs(lo), Math.abs(hi))), {
    intervals: Math.max(3, Math.floor(height / 32)),
  });
  return { x, y };
}

/**
 * A category label as lines that fit a narrow chart: words are joined up to `width` characters
 * per line ("per 1,000 samples" → ["per 1,000", "samples"]).
 */
export function wrapLabel(label: string, width = 10): string | string[] {
  if (label.length <= width) return label;
  const lines: string[] = [];
  for (const word of label.split(' ')) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length <= width)
      lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}
