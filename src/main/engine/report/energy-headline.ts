/**
 * One headline energy figure per run, defined in the report (issue 14): a compression run leads
 * with inference energy per 1,000 samples on the machine it ran on, a training run with its
 * whole-run training energy. Every other figure in the section is secondary and says what it is.
 */
import { plainEnergyLabel } from '../../../shared/energy-words';
import { escapeHtml } from './escape';
import { formatFactor, formatJoules } from './format';
import type { EnergyRow, EnergySection, EnergyStat } from './report-types';

export interface EnergyHeadline {
  /** The row the headline is read from. */
  rowId: string;
  title: string;
  /** What the figure is, in one sentence. */
  definition: string;
  /** The figure itself: values, and the comparison or why there is none. */
  text: string;
}

const SECONDARY = 'Every other energy figure below is secondary and says what it is.';

function valueText(stat: EnergyStat): string {
  return stat.median === null
    ? `unavailable (${stat.reason ?? 'no reason recorded'})`
    : formatJoules(stat.median);
}

function comparisonText(row: EnergyRow): string {
  if (row.factor !== null) {
    return row.factor >= 1
      ? `${formatFactor(row.factor)} less energy for the compressed model`
      : `${formatFactor(1 / row.factor)} more energy for the compressed model`;
  }
  if (row.verdict === 'no measurable difference') return 'no measurable difference';
  return `no saving computed: ${row.reason ?? 'the two figures were not obtained the same way'}`;
}

function inferenceRow(energy: EnergySection): EnergyRow | undefined {
  const net = energy.rows.find((row) => row.id === 'inference-net');
  const gross = energy.rows.find((row) => row.id === 'inference-gross');
  const netUsable = net && net.before.median !== null && energy.idleSubtraction?.reliable !== false;
  return netUsable ? net : (gross ?? net);
}

function compressionHeadline(energy: EnergySection): EnergyHeadline {
  const row = inferenceRow(energy);
  const title = 'Headline: inference energy per 1,000 samples on the machine this run ran on';
  if (!row || row.after === null) {
    return { rowId: 'inference-net', title, definition: SECONDARY, text: 'unavailable: not recorded' };
  }
  const idle = energy.idle?.notRecorded
    ? "with no idle draw in it (the figures charge only this job's own work)"
    : row.id === 'inference-gross'
      ? 'including idle power'
      : 'with idle power subtracted';
  const runs = energy.protocol
    ? `, the median of ${energy.protocol.repetitions} alternated runs of each model`
    : '';
  const how = row.label === 'unavailable' ? '' : `; ${plainEnergyLabel(row.label, row.source)}`;
  const definition = `Energy to classify 1,000 samples at batch ${energy.protocol?.batchSize ?? 32} with the ${energy.backend} backend on the machine the run ran on, ${idle}${runs}${how}. ${SECONDARY}`;
  const bothMissing = row.before.median === null && row.after.median === null;
  const text = bothMissing
    ? `unavailable: ${row.before.reason ?? 'not recorded'}`
    : `original ${valueText(row.before)}, compressed ${valueText(row.after)}: ${comparisonText(row)}`;
  return { rowId: row.id, title, definition, text };
}

function trainingHeadline(energy: EnergySection): EnergyHeadline {
  const row = energy.rows.find((candidate) => candidate.id === 'training-total');
  const title = 'Headline: whole-run training energy';
  const how = row && row.label !== 'unavailable' ? `; ${plainEnergyLabel(row.label, row.source)}` : '';
  const definition = `Energy of the whole training run (${row?.basis ?? 'every epoch'}, warm-up included) with the ${energy.backend} backend on the machine it ran on${how}. ${SECONDARY}`;
  const text = row ? valueText(row.before) : 'unavailable (not recorded)';
  return { rowId: 'training-total', title, definition, text };
}

export function energyHeadline(kind: 'compression' | 'training', energy: EnergySection): EnergyHeadline {
  return kind === 'compression' ? compressionHeadline(energy) : trainingHeadline(energy);
}

/** The section's first block: the headline figure and its definition. */
export function energyHeadlineHtml(headline: EnergyHeadline): string {
  const e = escapeHtml;
  return `<div class="energy-headline" data-energy-headline="${e(headline.rowId)}"><h3>${e(headline.title)}</h3><p class="headline-figure"><b>${e(headline.text)}</b></p><p class="note">${e(headline.definition)}</p></div>`;
}
