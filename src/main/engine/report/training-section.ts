/**
 * The report's section for a run pruned while training (`pollard train --prune-while-training`):
 * energy per epoch before and after the prune on one chart, the cumulative training energy of
 * the pruned run against the dense one, and both accuracy curves. Energy per epoch is the
 * difference of the run's own meter between epochs (energy-measurements.ts); cumulative energy is
 * that meter's reading itself. Where no dense reference exists, the section says so.
 */
import type { EpochMetrics } from '../../../shared/jobs';
import type { EnergyLabel } from '../../../shared/types';
import type { DenseComparison } from '../train/dense-comparison';
import type { PruneWhileTrainingRecord } from '../train/prune-while-training';
import { epochEnergyFigures } from '../energy/training-energy';
import { escapeHtml as e } from './escape';
import { formatFactor, formatInteger, formatJoules, formatPercent, formatPoints } from './format';
import type { StoredTraining } from './run-folder';
import { COMPRESSED_COLOUR, lineChart, ORIGINAL_COLOUR, paletteColour } from './svg-charts';

export const NO_DENSE_RUN =
  "no dense run to compare with: start with 'compare with a dense run' (--compare-dense) to measure the saving";

type Point = [number, number];

export interface TrainingEnergySection {
  prunedAtEpoch: number | null;
  detail: string;
  macsBefore: number;
  macsAfter: number;
  /** Per epoch of the pruned run: energy (J) or null where unavailable, and whether before the prune. */
  epochEnergy: { epoch: number; joules: number | null; afterPrune: boolean }[];
  /** Mean energy per epoch before and after the prune (epochs with a figure); null where none. */
  meanBefore: number | null;
  meanAfter: number | null;
  label: EnergyLabel;
  cumulative: { pruned: Point[]; dense: Point[] | null };
  /** Accuracy % per epoch: validation where recorded, else training. */
  accuracy: { pruned: Point[]; dense: Point[] | null; metric: 'validation' | 'training' };
  /** Whole run: the pruned run's and the dense one's, with the savings (dense ÷ pruned). */
  pruned: { joules: number | null; wallSeconds: number | null; accuracy: number };
  dense: { joules: number | null; wallSeconds: number; accuracy: number; source: string } | null;
  savings: { energy: number | null; energyReason?: string; wallTime: number } | null;
  /** Why there is no dense reference (NO_DENSE_RUN), absent when there is one. */
  noDense?: string;
}

type PrunedTraining = StoredTraining & {
  pruneWhileTraining?: PruneWhileTrainingRecord;
  wallSeconds?: number;
  dense?: DenseComparison['dense'];
  savings?: DenseComparison['savings'];
};

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function cumulative(history: readonly EpochMetrics[]): Point[] {
  return history.flatMap((m): Point[] => {
    const joules = m.energy?.total.joules;
    return typeof joules === 'number' ? [[m.epoch, joules]] : [];
  });
}

function accuracyPoints(history: readonly EpochMetrics[], validation: boolean): Point[] {
  return history.map((m) => [m.epoch, 100 * (validation ? (m.valAccuracy ?? 0) : m.accuracy)]);
}

/** The section's figures, or undefined for a run that was not pruned while training. */
export function collectTrainingSection(
  result: StoredTraining | undefined,
): TrainingEnergySection | undefined {
  const stored = result as PrunedTraining | undefined;
  const record = stored?.pruneWhileTraining;
  if (!stored || !record) return undefined;
  const at = record.prunedAtEpoch;
  const figures = epochEnergyFigures(stored.history);
  const epochEnergy = stored.history.map((m, i) => ({
    epoch: m.epoch,
    joules: figures[i]!.joules,
    afterPrune: at !== null && m.epoch > at,
  }));
  const known = (after: boolean): number[] =>
    epochEnergy.filter((p) => p.afterPrune === after && p.joules !== null).map((p) => p.joules!);
  const dense = stored.dense;
  const validation = stored.history.every((m) => m.valAccuracy !== undefined) && stored.history.length > 0;
  return {
    prunedAtEpoch: at,
    detail: record.detail,
    macsBefore: record.macsBefore,
    macsAfter: record.macsAfter,
    epochEnergy,
    meanBefore: mean(known(false)),
    meanAfter: mean(known(true)),
    label: stored.trainingEnergy?.label ?? 'unavailable',
    cumulative: {
      pruned: cumulative(stored.history),
      dense: dense?.history ? cumulative(dense.history) : null,
    },
    accuracy: {
      pruned: accuracyPoints(stored.history, validation),
      dense: dense?.history ? accuracyPoints(dense.history, validation) : null,
      metric: validation ? 'validation' : 'training',
    },
    pruned: {
      joules: stored.trainingEnergy?.joules ?? null,
      wallSeconds: stored.wallSeconds ?? null,
      accuracy: stored.accuracy,
    },
    dense: dense
      ? {
          joules: dense.trainingEnergy.joules,
          wallSeconds: dense.wallSeconds,
          accuracy: dense.accuracy,
          source: dense.source,
        }
      : null,
    savings: stored.savings
      ? {
          energy: stored.savings.energy.ratio,
          ...(stored.savings.energy.reason !== undefined
            ? { energyReason: stored.savings.energy.reason }
            : {}),
          wallTime: stored.savings.wallTime.ratio,
        }
      : null,
    ...(dense ? {} : { noDense: NO_DENSE_RUN }),
  };
}

/** The lead sentence: whole-run energy and time saved against the dense run, or why not. */
export function trainingSavingText(section: TrainingEnergySection): string {
  const shrank = `network shrank from ${formatInteger(section.macsBefore)} to ${formatInteger(section.macsAfter)} MACs`;
  const found =
    section.prunedAtEpoch === null
      ? `not pruned (${section.detail})`
      : `structure found at epoch ${section.prunedAtEpoch} (${section.detail}); ${shrank}`;
  if (!section.savings || !section.dense) return `${found}. ${NO_DENSE_RUN}.`;
  const energy =
    section.savings.energy === null
      ? `training energy saving unavailable (${section.savings.energyReason ?? 'not measured'})`
      : `${formatFactor(section.savings.energy)} less training energy`;
  const points = formatPoints(100 * (section.pruned.accuracy - section.dense.accuracy));
  return `${energy} and ${formatFactor(section.savings.wallTime)} less wall time than the dense run over the whole run; accuracy ${formatPercent(100 * section.pruned.accuracy)} vs ${formatPercent(100 * section.dense.accuracy)} (${points}). ${found}.`;
}

function charts(section: TrainingEnergySection): string {
  const markers = section.prunedAtEpoch === null ? [] : [{ x: section.prunedAtEpoch + 0.5, label: 'pruned' }];
  const energyPoints = (after: boolean): Point[] =>
    section.epochEnergy
      .filter((p) => p.afterPrune === after && p.joules !== null)
      .map((p) => [p.epoch, p.joules!]);
  const perEpoch = lineChart({
    title: 'Training energy per epoch, before and after the prune',
    xLabel: 'epoch',
    yLabel: 'J',
    series: [
      { name: 'dense network (before the prune)', points: energyPoints(false), colour: ORIGINAL_COLOUR },
      { name: 'pruned network (after the prune)', points: energyPoints(true), colour: COMPRESSED_COLOUR },
    ],
    markers,
    integerX: true,
  });
  const both = (name: 'cumulative' | 'accuracy', yLabel: string, title: string): string => {
    const dense = section[name].dense;
    return lineChart({
      title,
      xLabel: 'epoch',
      yLabel,
      series: [
        { name: 'pruned while training', points: section[name].pruned, colour: COMPRESSED_COLOUR },
        ...(dense ? [{ name: 'dense run', points: dense, colour: paletteColour(1), dashed: true }] : []),
      ],
      markers,
      integerX: true,
    });
  };
  return (
    `<figure>${perEpoch}</figure>` +
    `<figure>${both('cumulative', 'J', 'Cumulative training energy')}</figure>` +
    `<figure>${both('accuracy', 'accuracy %', `Accuracy per epoch (${section.accuracy.metric})`)}</figure>`
  );
}

export function trainingSectionHtml(section: TrainingEnergySection | undefined): string {
  if (!section) return '';
  const mean = (joules: number | null): string => (joules === null ? 'unavailable' : formatJoules(joules));
  const means = `Mean energy per epoch: ${mean(section.meanBefore)} before the prune, ${mean(section.meanAfter)} after (${section.label}).`;
  return (
    `<section id="training-energy"><h2>Training energy: pruned while training</h2>` +
    `<p class="lead">${e(trainingSavingText(section))}</p>${charts(section)}<p class="note">${e(means)}</p></section>`
  );
}
