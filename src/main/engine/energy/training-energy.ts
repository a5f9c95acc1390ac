/**
 * Training energy per epoch, like for like: per-epoch figures from the cumulative energy each
 * epoch's metrics carry, the first epoch of each stage left out as warm-up, and the original's
 * epochs taken from its own train run where that run trained the same way.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { EnergyFigure, EnergyStatistic } from '../../../shared/types';
import type { EpochMetrics } from '../train/loop';
import { compareEnergy, type EnergyComparison } from './protocol';
import { summariseFigures } from './stats';

export interface TrainingEnergySide {
  /** One figure per compared epoch, in order, warm-up left out (unavailable ones carry their reason). */
  epochs: EnergyFigure[];
  /** Median and spread of the available per-epoch figures. */
  perEpoch: EnergyStatistic;
  detail: string;
  /** Training samples each compared epoch processed (null where not recorded). */
  samplesPerEpoch?: (number | null)[];
  /** Epochs (or mini-epochs) left out as warm-up: the first of each training stage. */
  warmupExcluded?: number;
}

export interface TrainingEnergyComparison {
  original: TrainingEnergySide & {
    /** `baseline-run`: the original's own training epochs; `mini-epochs`: measured here, scaled. */
    method: 'baseline-run' | 'mini-epochs' | 'not-measured';
  };
  compressed: TrainingEnergySide;
  /** compressed ÷ original per-epoch medians, where both were obtained the same way. */
  comparison: EnergyComparison;
}

/** A figure that is no number, with why (never 0). */
export const unavailableFigure = (source: string, reason: string): EnergyFigure => ({
  joules: null,
  label: 'unavailable',
  source,
  reason,
});

/**
 * Per-epoch energy from the cumulative `energy.total` each epoch's metrics carry (the meter
 * starts with the training stage). An epoch whose cumulative figure went down (a resumed run:
 * a new meter) or is missing is unavailable, with the reason.
 */
export function epochEnergyFigures(history: readonly EpochMetrics[]): EnergyFigure[] {
  let previous: EnergyFigure | null = null;
  return history.map((metrics, index) => {
    const total = metrics.energy?.total;
    let figure: EnergyFigure;
    if (!total) figure = unavailableFigure('none', `epoch ${metrics.epoch}: no energy recorded`);
    else if (total.joules === null) figure = { ...total, reason: total.reason ?? 'energy unavailable' };
    else if (index === 0 || previous === null) figure = { ...total };
    else if (previous.joules === null || previous.label !== total.label || previous.source !== total.source) {
      figure = unavailableFigure(
        total.source,
        `epoch ${metrics.epoch}: the previous epoch has no comparable figure`,
      );
    } else if (total.joules < previous.joules) {
      figure = unavailableFigure(
        total.source,
        `epoch ${metrics.epoch}: the run was resumed (a new meter started)`,
      );
    } else figure = { ...total, joules: total.joules - previous.joules };
    previous = total ?? null;
    return figure;
  });
}

/** Training samples an epoch processed (the loop records samples seen ÷ seconds); null where unknown. */
export function epochSamples(metrics: EpochMetrics): number | null {
  if (!(metrics.seconds > 0) || !(metrics.samplesPerSecond > 0)) return null;
  return Math.round(metrics.seconds * metrics.samplesPerSecond);
}

/**
 * The epochs of one training stage that are compared: all but the first, which carries the
 * warm-up (kernel compilation, caches, clocks) and would make the other side look cheaper.
 */
export function steadyEpochs(history: readonly EpochMetrics[]): {
  epochs: EnergyFigure[];
  samples: (number | null)[];
  warmupExcluded: number;
} {
  const figures = epochEnergyFigures(history);
  return {
    epochs: figures.slice(1),
    samples: history.slice(1).map(epochSamples),
    warmupExcluded: Math.min(1, history.length),
  };
}

/**
 * A training-energy comparison, like for like: both sides measured the same way, warm-up left
 * out, and every compared epoch processed the same number of training samples (the batch size is
 * checked where the original's epochs are chosen); otherwise it says why it does not compare.
 */
export function compareTrainingEpochs(
  original: TrainingEnergySide,
  compressed: TrainingEnergySide,
): EnergyComparison {
  const id = 'training per epoch';
  const samples = [...(original.samplesPerEpoch ?? []), ...(compressed.samplesPerEpoch ?? [])];
  const known = samples.filter((count): count is number => count !== null);
  if (known.length > 0 && original.epochs.length > 0 && compressed.epochs.length > 0) {
    const originalSamples = [...new Set((original.samplesPerEpoch ?? []).filter((n) => n !== null))];
    const compressedSamples = [...new Set((compressed.samplesPerEpoch ?? []).filter((n) => n !== null))];
    const all = new Set(known);
    // Within 1% (a resumed or rounded epoch), else the epochs did different amounts of work.
    const low = Math.min(...all);
    const high = Math.max(...all);
    if (high > low * 1.01) {
      return {
        id,
        label: 'unavailable',
        ratio: null,
        saving: null,
        interval: null,
        verdict: 'unavailable',
        reason: `not compared: the epochs trained on different numbers of samples (original ${originalSamples.join(', ') || 'unknown'}, compressed ${compressedSamples.join(', ') || 'unknown'} per epoch)`,
      };
    }
  }
  return compareLikeForLike(id, original.perEpoch, compressed.perEpoch);
}

/** A saving between per-epoch statistics: same label and same source, else unavailable. */
export function compareLikeForLike(
  id: string,
  original: EnergyStatistic,
  compressed: EnergyStatistic,
): EnergyComparison {
  if (
    original.label !== 'unavailable' &&
    compressed.label !== 'unavailable' &&
    original.source !== compressed.source
  ) {
    return {
      id,
      label: 'unavailable',
      ratio: null,
      saving: null,
      reason: `obtained from different sources: ${original.source} against ${compressed.source}`,
    };
  }
  return compareEnergy(id, original, compressed);
}

interface BaselineTraining {
  /** The compared epochs: all but the first (warm-up). */
  epochs: EnergyFigure[];
  samplesPerEpoch: (number | null)[];
  warmupExcluded: number;
  detail: string;
}

async function readJsonFile(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The original's per-epoch training energy from its train run, when that run trained on the
 * same data with the same batch size on the same backend; otherwise why not.
 */
export async function baselineTrainingEnergy(
  runDir: string,
  expect: { data: string; batchSize: number; backend: string; limit?: number; explicit: boolean },
): Promise<BaselineTraining | { reason: string }> {
  const training = await readJsonFile(path.join(runDir, 'training.json'));
  if (!training) return { reason: `${runDir}: no training.json` };
  const dataset = training.dataset as { source?: unknown } | undefined;
  if (path.resolve(String(dataset?.source ?? '')) !== path.resolve(expect.data)) {
    return { reason: `${runDir}: trained on ${String(dataset?.source)}, not on ${expect.data}` };
  }
  if (training.backend !== expect.backend) {
    return { reason: `${runDir}: trained on ${String(training.backend)}, this run uses ${expect.backend}` };
  }
  // A train run records its spec in run.json; the demo's baseline (no run.json) is vouched for by its caller.
  const run = await readJsonFile(path.join(runDir, 'run.json'));
  const spec = run?.spec as { batchSize?: unknown; limit?: unknown } | undefined;
  if (spec) {
    if (spec.batchSize !== expect.batchSize) {
      return { reason: `${runDir}: batch size ${String(spec.batchSize)}, this run uses ${expect.batchSize}` };
    }
    if (spec.limit !== expect.limit) {
      return {
        reason: `${runDir}: --limit ${String(spec.limit ?? 'none')}, this run uses ${String(expect.limit ?? 'none')}`,
      };
    }
  } else if (!expect.explicit) {
    return { reason: `${runDir}: no run.json to check its batch size` };
  }
  const history = Array.isArray(training.history) ? (training.history as EpochMetrics[]) : [];
  if (history.length === 0) return { reason: `${runDir}: no training epochs recorded` };
  const steady = steadyEpochs(history);
  return {
    epochs: steady.epochs,
    samplesPerEpoch: steady.samples,
    warmupExcluded: steady.warmupExcluded,
    detail: `the original's own training run (${runDir}): ${history.length} epoch${history.length === 1 ? '' : 's'} on the same data, batch size ${expect.batchSize}, ${expect.backend}, the first left out as warm-up`,
  };
}

/** The train run a model path belongs to: the path itself, or the folder above a `model/` folder. */
export async function trainRunOf(modelPath: string): Promise<string | undefined> {
  for (const candidate of [modelPath, path.dirname(modelPath)]) {
    if (await readJsonFile(path.join(candidate, 'training.json'))) return candidate;
  }
  return undefined;
}

/** The compressed model's side: its fine-tuning epochs, the first of each stage left out (warm-up). */
export function fineTuningSide(
  fineTunes: readonly { stage: string; history: EpochMetrics[] }[],
): TrainingEnergySide {
  const steadyStages = fineTunes.map((record) => steadyEpochs(record.history));
  const epochs = steadyStages.flatMap((stage) => stage.epochs);
  const allEpochs = fineTunes.reduce((sum, record) => sum + record.history.length, 0);
  const stages = fineTunes.map((record) => record.stage);
  const side: TrainingEnergySide = {
    epochs,
    perEpoch: summariseFigures(epochs),
    samplesPerEpoch: steadyStages.flatMap((stage) => stage.samples),
    warmupExcluded: steadyStages.reduce((sum, stage) => sum + stage.warmupExcluded, 0),
    detail:
      allEpochs > 0
        ? `the compressed model's fine-tuning: ${epochs.length} of ${allEpochs} epoch${allEpochs === 1 ? '' : 's'} (${stages.join(', ')}; the first of each stage left out as warm-up)`
        : 'no fine-tuning epochs in this run',
  };
  if (epochs.length === 0) {
    side.perEpoch.reason =
      allEpochs > 0
        ? 'only warm-up epochs: the first epoch of each fine-tuning stage is left out, and no stage had a second (--finetune-epochs 2 or more)'
        : 'no fine-tuning epochs in this run (--finetune-epochs 0)';
  }
  return side;
}
