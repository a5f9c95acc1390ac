import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatCompact,
  formatDuration,
  formatInt,
  formatJoules,
  formatMs,
  formatPercent,
  formatPoints,
  formatRatio,
  formatShape,
} from './format';

describe('format', () => {
  it('never shows a missing value as 0', () => {
    for (const f of [
      formatInt,
      formatPercent,
      formatBytes,
      formatCompact,
      formatMs,
      formatDuration,
      formatJoules,
    ])
      expect(f(undefined)).toBe('—');
    expect(formatRatio(10, 0)).toBe('—');
    expect(formatPoints(0.9, null)).toBe('—');
    expect(formatInt(Number.NaN)).toBe('—');
  });

  it('formats counts, fractions and sizes', () => {
    expect(formatInt(1234567.4)).toBe('1,234,567');
    expect(formatPercent(0.91254)).toBe('91.25%');
    expect(formatPoints(0.9125, 0.9031)).toBe('−0.94 pts');
    expect(formatPoints(0.9, 0.905)).toBe('+0.50 pts');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.00 MiB');
    expect(formatCompact(2_345_678)).toBe('2.35 M');
    expect(formatCompact(45_600)).toBe('45.6 k');
    expect(formatCompact(999)).toBe('999');
    expect(formatRatio(400, 100)).toBe('4.00×');
    expect(formatMs(3.14159)).toBe('3.14 ms');
    expect(formatMs(31.4159)).toBe('31.4 ms');
  });

  it('formats durations, energy and shapes', () => {
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(185)).toBe('3 min 05 s');
    expect(formatDuration(3720)).toBe('1 h 02 min');
    expect(formatJoules(0)).toBe('0 J');
    expect(formatJoules(0.0123)).toBe('12.30 mJ');
    expect(formatJoules(12.5)).toBe('12.50 J');
    expect(formatJoules(2500)).toBe('2.50 kJ');
    expect(formatJoules(7.2e6)).toBe('2.000 kWh');
    expect(formatShape([null, 28, 28, 1])).toBe('? × 28 × 28 × 1');
    expect(
      formatShape([
        [null, 10],
        [null, 4],
      ]),
    ).toBe('? × 10; ? × 4');
  });
});
