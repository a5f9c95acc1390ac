/**
 * How the report writes numbers. One function per kind of figure, so the HTML page and the
 * tests that compare it with report.json format the same number the same way.
 */

/** A reduction factor: 2.07×. */
export function formatFactor(factor: number): string {
  return `${factor.toFixed(2)}×`;
}

/** An accuracy change in points with its sign: +0.25 pts, −0.95 pts. */
export function formatPoints(points: number): string {
  const rounded = Math.abs(points) < 0.005 ? 0 : points;
  return `${rounded < 0 ? '−' : '+'}${Math.abs(rounded).toFixed(2)} pts`;
}

export function formatPercent(percent: number, digits = 2): string {
  return `${percent.toFixed(digits)}%`;
}

export function formatInteger(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(3)} ms` : `${ms.toFixed(1)} ms`;
}

/** Joules with an SI prefix chosen for the value, three significant digits: 12.3 mJ, 1.05 kJ. */
export function formatJoules(joules: number): string {
  const magnitude = Math.abs(joules);
  const units: [number, string][] = [
    [1e3, 'kJ'],
    [1, 'J'],
    [1e-3, 'mJ'],
    [1e-6, 'µJ'],
    [1e-9, 'nJ'],
  ];
  const [scale, unit] = units.find(([scale]) => magnitude >= scale) ?? [1e-12, 'pJ'];
  return `${toPrecision3(joules / scale)} ${unit}`;
}

export function formatGrams(grams: number): string {
  if (Math.abs(grams) >= 1000) return `${toPrecision3(grams / 1000)} kg CO2e`;
  if (Math.abs(grams) >= 1 || grams === 0) return `${toPrecision3(grams)} g CO2e`;
  return `${toPrecision3(grams * 1000)} mg CO2e`;
}

export function formatWatts(watts: number): string {
  return `${toPrecision3(watts)} W`;
}

function toPrecision3(value: number): string {
  if (value === 0) return '0';
  const text = value.toPrecision(3);
  // toPrecision may answer in exponent form for large values; the prefixes keep values below 1000.
  return text.includes('e') ? String(Number(text)) : text;
}

/** A value with its unit, for the comparison table. */
export function formatValue(value: number, unit: string): string {
  switch (unit) {
    case 'bytes':
      return formatBytes(value);
    case 'ms':
      return formatMs(value);
    case 'J':
      return formatJoules(value);
    case '%':
      return formatPercent(value);
    case 'count':
      return formatInteger(value);
    default:
      return `${value} ${unit}`;
  }
}
