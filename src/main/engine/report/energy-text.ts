/**
 * The report's energy section as plain text for a terminal: the headline (what it is, the figure)
 * and one row per energy figure (before, after, and the comparison or why there is none). The
 * CLI prints it after `compress`, so the figures a user sees there are the report's own.
 */
import { energyHeadline } from './energy-headline';
import { formatFactor, formatJoules } from './format';
import type { EnergyRow, EnergySection, EnergyStat } from './report-types';

export interface EnergyText {
  headline: { title: string; text: string };
  /** [figure, before, after, change] per energy row that has a figure. */
  rows: [string, string, string, string][];
}

function stat(value: EnergyStat | null): string {
  if (value === null) return '—';
  return value.median === null ? 'unavailable' : formatJoules(value.median);
}

function change(row: EnergyRow): string {
  if (row.after === null) return '';
  if (row.factor !== null) return `${formatFactor(row.factor)} less`;
  if (row.verdict === 'no measurable difference') return 'no measurable difference';
  return 'not compared';
}

export function energyText(kind: 'compression' | 'training', energy: EnergySection): EnergyText {
  const headline = energyHeadline(kind, energy);
  return {
    headline: { title: headline.title, text: headline.text },
    // Figures the run could not obtain are left to the report, which says why.
    rows: energy.rows
      .filter((row) => row.before.median !== null || (row.after !== null && row.after.median !== null))
      .map((row) => [row.title, stat(row.before), stat(row.after), change(row)]),
  };
}
