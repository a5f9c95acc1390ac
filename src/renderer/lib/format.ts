/** How numbers look everywhere in the UI. A missing value is an em dash, never 0. */

const DASH = '—';

const isNumber = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

export function formatInt(n: unknown): string {
  return isNumber(n) ? Math.round(n).toLocaleString('en-US') : DASH;
}

/** 0..1 → "91.25%". */
export function formatPercent(n: unknown, digits = 2): string {
  return isNumber(n) ? `${(n * 100).toFixed(digits)}%` : DASH;
}

/** A difference of two 0..1 accuracies in percentage points, signed. */
export function formatPoints(before: unknown, after: unknown): string {
  if (!isNumber(before) || !isNumber(after)) return DASH;
  const points = (after - before) * 100;
  return `${points >= 0 ? '+' : '−'}${Math.abs(points).toFixed(2)} pts`;
}

export function formatBytes(n: unknown): string {
  if (!isNumber(n)) return DASH;
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Large counts in short form: 1.23 M, 456.7 k. */
export function formatCompact(n: unknown): string {
  if (!isNumber(n)) return DASH;
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return formatInt(n);
}

/** before/after as "2.50×"; a dash where either is missing or after is 0. */
export function formatRatio(before: unknown, after: unknown): string {
  return isNumber(before) && isNumber(after) && after > 0 ? `${(before / after).toFixed(2)}×` : DASH;
}

export function formatMs(n: unknown): string {
  if (!isNumber(n)) return DASH;
  return n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`;
}

/** Seconds → "1 h 02 min", "3 min 05 s", "42 s". */
export function formatDuration(seconds: unknown): string {
  if (!isNumber(seconds) || seconds < 0) return DASH;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export function formatJoules(n: unknown): string {
  if (!isNumber(n)) return DASH;
  if (n === 0) return '0 J';
  if (Math.abs(n) >= 3.6e6) return `${(n / 3.6e6).toFixed(3)} kWh`;
  if (Math.abs(n) >= 1000) return `${(n / 1000).toFixed(2)} kJ`;
  if (Math.abs(n) >= 1) return `${n.toFixed(2)} J`;
  return `${(n * 1000).toFixed(2)} mJ`;
}

export function formatWatts(n: unknown): string {
  return isNumber(n) ? `${n.toFixed(1)} W` : DASH;
}

/** [null, 28, 28, 1] → "? × 28 × 28 × 1"; nested (multi-output) shapes joined with "; ". */
export function formatShape(shape: unknown): string {
  if (!Array.isArray(shape)) return DASH;
  if (shape.some(Array.isArray)) return shape.map(formatShape).join('; ');
  return shape.map((d) => (d === null ? '?' : String(d))).join(' × ');
}
