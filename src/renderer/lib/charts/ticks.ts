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
  const top = max > 0 && Number.isFinite(max) ? max / unit.divisor : 1;
  const step = niceStep(top / intervals);
  const end = Math.ceil(top / step - 1e-9) * step;
  const digits = decimalsOf(step);
  const space = unit.suffix === '' || unit.suffix === '%' ? '' : ' ';
  return {
    max: end * unit.divisor,
    stepSize: step * unit.divisor,
    label: (value) => `${(value / unit.divisor).toFixed(digits)}${space}${unit.suffix}`,
  };
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
