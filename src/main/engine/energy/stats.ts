/** Median and spread of repeated measurements; quantiles interpolate linearly between order statistics. */
import type { EnergyFigure, EnergyLabel, EnergyStatistic } from '../../../shared/types';

export interface Spread {
  values: number[];
  median: number | null;
  min: number | null;
  max: number | null;
  q1: number | null;
  q3: number | null;
}

/**
 * Why a figure that came out at or below zero (idle power subtracted) is no number: the run drew
 * no more than the machine draws idle, so what remains is below what this machine can resolve.
 */
export const BELOW_IDLE =
  'below the idle baseline: not measurable (the run drew no more power than the idle machine)';

/** A figure at or below this share of its gross figure is below the idle baseline. */
export const BELOW_IDLE_SHARE = 1e-6;

/** The q-quantile (0..1) of ascending `sorted` values (Hyndman & Fan type 7, as numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error('quantile of no values');
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { values: [], median: null, min: null, max: null, q1: null, q3: null };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    values: [...values],
    median: quantile(sorted, 0.5),
    min: sorted[0]!,
    max: sorted.at(-1)!,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
  };
}

/**
 * Summarises repeated figures of one kind. Missing values (null) are left out and counted in
 * `reason`; figures obtained in different ways are never mixed: that is unavailable.
 */
export function summariseFigures(input: readonly EnergyFigure[]): EnergyStatistic {
  // An energy is never negative: one that is (idle subtracted) is not measurable.
  const figures = input.map((figure) =>
    figure.joules !== null && figure.joules < 0
      ? { joules: null, label: 'unavailable' as const, source: figure.source, reason: BELOW_IDLE }
      : figure,
  );
  const available = figures.filter((figure) => figure.joules !== null && figure.label !== 'unavailable');
  const labels = [...new Set(available.map((figure) => figure.label))];
  const source = [...new Set(figures.map((figure) => figure.source))].join(' / ') || 'none';
  const missing = figures.length - available.length;
  const firstReason = figures.find((figure) => figure.joules === null)?.reason ?? 'no measurement';
  if (labels.length > 1) {
    return {
      ...spread([]),
      label: 'unavailable',
      source,
      reason: `figures obtained differently (${labels.join(', ')}) are not summarised together`,
    };
  }
  if (available.length === 0) return { ...spread([]), label: 'unavailable', source, reason: firstReason };
  const statistic: EnergyStatistic = {
    ...spread(available.map((figure) => figure.joules!)),
    label: labels[0] as EnergyLabel,
    source,
  };
  if (missing > 0) statistic.reason = `${missing} of ${figures.length} unavailable: ${firstReason}`;
  return statistic;
}
