/**
 * The report's energy section from what a run recorded: every figure with its label and source,
 * savings only between figures obtained the same way, carbon for each, and the statements of
 * what this backend realises versus what only the op-count model shows (ENERGY.md).
 */
import type { CompressionMethod } from '../../../shared/jobs';
import type { EnergyFigure, EnergyLabel, EnergyStatistic } from '../../../shared/types';
import { carbonForFigure, gridIntensity, type GridSettings } from '../energy/carbon';
import type { MeterSourceState } from '../energy/meter';
import { DEFAULT_OP_ENERGY_TABLE } from '../energy/op-count';
import {
  checkAgainstLatency,
  compareEnergy,
  type EnergyComparison,
  type InferenceEnergyResult,
} from '../energy/protocol';
import { BELOW_IDLE, summariseFigures } from '../energy/stats';
import { INFERENCE_BATCH } from '../energy/inference-energy';
import { compareLikeForLike, epochEnergyFigures } from '../energy/training-energy';
import type { CarbonRow, EnergyRow, EnergySection, EnergySourceRow, EnergyStat } from './report-types';
import type { StoredCompression, StoredTraining } from './run-folder';

/**
 * A statistic as the report shows it: one with a value at or below zero (a run recorded before
 * idle-subtracted figures were checked) is below the idle baseline, never a negative energy.
 */
export function nonNegative(statistic: EnergyStatistic): EnergyStatistic {
  const below = statistic.values.filter((value) => value <= 0).length;
  if (below === 0 && (statistic.median === null || statistic.median > 0)) return statistic;
  return {
    label: 'unavailable',
    source: statistic.source,
    reason: `${BELOW_IDLE}: ${below} of ${statistic.values.length} runs`,
    values: [],
    median: null,
    min: null,
    max: null,
    q1: null,
    q3: null,
  };
}

export function statOf(input: EnergyStatistic): EnergyStat {
  const statistic = nonNegative(input);
  return {
    label: statistic.label,
    source: statistic.source,
    median: statistic.median,
    q1: statistic.q1,
    q3: statistic.q3,
    min: statistic.min,
    max: statistic.max,
    values: [...statistic.values],
    ...(statistic.reason !== undefined ? { reason: statistic.reason } : {}),
  };
}

function statOfFigure(figure: EnergyFigure): EnergyStat {
  return statOf(summariseFigures([figure]));
}

function unavailableStat(source: string, reason: string): EnergyStat {
  return {
    label: 'unavailable',
    source,
    median: null,
    q1: null,
    q3: null,
    min: null,
    max: null,
    values: [],
    reason,
  };
}

function rowFrom(
  id: string,
  title: string,
  basis: string,
  before: EnergyStat,
  after: EnergyStat | null,
  comparison?: EnergyComparison,
): EnergyRow {
  const label: EnergyLabel = before.label !== 'unavailable' ? before.label : (after?.label ?? 'unavailable');
  // Only a difference beyond the noise gets a factor (a comparison from before verdicts has none).
  const distinguishable =
    comparison?.verdict === undefined || comparison.verdict === 'saving' || comparison.verdict === 'costlier';
  const ratio = distinguishable ? (comparison?.ratio ?? null) : null;
  const row: EnergyRow = {
    id,
    title,
    basis,
    unit: 'J',
    label,
    source: before.label !== 'unavailable' || !after ? before.source : after.source,
    before,
    after,
    factor: ratio !== null && ratio > 0 ? 1 / ratio : null,
    saving: distinguishable ? (comparison?.saving ?? null) : null,
  };
  if (comparison?.verdict !== undefined) row.verdict = comparison.verdict;
  if (comparison?.interval) row.interval = [...comparison.interval];
  const reason =
    comparison && ratio === null
      ? comparison.reason
      : before.label === 'unavailable'
        ? before.reason
        : after?.label === 'unavailable'
          ? after.reason
          : undefined;
  if (reason !== undefined) row.reason = reason;
  return row;
}

function sourceRows(states: readonly MeterSourceState[]): EnergySourceRow[] {
  return states.map((state) => ({
    id: state.id,
    name: state.name,
    kind: state.kind,
    status: state.status,
    label: state.label,
    detail: state.status === 'open' ? (state.source ?? state.name) : (state.reason ?? state.status),
  }));
}

function inferenceRows(result: InferenceEnergyResult): EnergyRow[] {
  const basis = `per 1,000 samples at batch ${INFERENCE_BATCH}`;
  // Recomputed from the stored figures, so runs recorded before the noise checks get them too.
  const compare = (id: string, original: EnergyStatistic, compressed: EnergyStatistic): EnergyComparison =>
    checkAgainstLatency(
      compareLikeForLike(id, nonNegative(original), nonNegative(compressed)),
      result.original.seconds,
      result.compressed.seconds,
    );
  const rows: EnergyRow[] = [
    rowFrom(
      'inference-net',
      'Inference, idle-subtracted',
      `${basis}, idle power subtracted`,
      statOf(result.original.total.net),
      statOf(result.compressed.total.net),
      compare('total', result.original.total.net, result.compressed.total.net),
    ),
    rowFrom(
      'inference-gross',
      'Inference, gross',
      `${basis}, including idle power`,
      statOf(result.original.total.gross),
      statOf(result.compressed.total.gross),
      compare('total', result.original.total.gross, result.compressed.total.gross),
    ),
  ];
  for (const [index, source] of result.original.sources.entries()) {
    const compressed = result.compressed.sources[index];
    const state = result.meterSources.find((candidate) => candidate.id === source.id);
    rows.push(
      rowFrom(
        `inference-net:${source.id}`,
        `Inference, idle-subtracted: ${state?.name ?? source.id}`,
        `${basis}, idle power subtracted, this source only`,
        statOf(source.net),
        compressed ? statOf(compressed.net) : null,
        compressed ? compare(source.id, source.net, compressed.net) : undefined,
      ),
    );
  }
  return rows;
}

/** What a method realises on TensorFlow.js and what only the op-count model shows (ENERGY.md). */
export function realisedStatements(method: CompressionMethod, backend: string): string[] {
  const statements: string[] = [];
  if (method === 'structured' || method === 'structured+quantize') {
    statements.push(
      `Structured pruning shrinks every tensor: fewer MACs and less memory traffic, a real speedup and energy saving on any backend. Measured here on ${backend}.`,
    );
  }
  if (method === 'magnitude') {
    statements.push(
      `Magnitude (unstructured) pruning leaves the kernels dense: the compressed file is smaller, but latency and compute energy on TensorFlow.js (${backend}) do not change. The op-count model counts skipped zeros, as hardware with sparse support would.`,
    );
  }
  if (method === 'quantize' || method === 'qat' || method === 'structured+quantize') {
    statements.push(
      `Quantized weights (uint8, uint16 or float16 in the weights manifest) shrink the file; TensorFlow.js dequantizes them to float32 when it loads the model, so compute energy on ${backend} is unchanged by quantization. The op-count model shows what hardware with native int8 (or fp16) arithmetic would save.`,
    );
  }
  return statements;
}

function carbonSection(rows: EnergyRow[], settings: GridSettings, skip: string): EnergySection['carbon'] {
  let intensitySource = 'none';
  let reason: string | undefined;
  try {
    const intensity = gridIntensity(settings);
    if (intensity) intensitySource = intensity.source;
    else reason = 'no grid region set: choose one (e.g. DE, US-CAL-CISO) or give an intensity in gCO2e/kWh';
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  const pue = settings.pue ?? 1;
  const carbonOf = (stat: EnergyStat): ReturnType<typeof carbonForFigure> => {
    if (reason !== undefined) {
      return { grams: null, gCO2ePerKWh: null, pue, intensitySource, reason };
    }
    return carbonForFigure(
      stat.median === null
        ? {
            joules: null,
            label: 'unavailable',
            source: stat.source,
            reason: stat.reason ?? 'energy unavailable',
          }
        : { joules: stat.median, label: stat.label, source: stat.source },
      settings,
    );
  };
  const carbonRows: CarbonRow[] = rows
    .filter((row) => !row.id.includes(':') && row.id !== skip)
    .map((row) => ({
      id: row.id,
      title: row.title,
      before: carbonOf(row.before),
      after: row.after ? carbonOf(row.after) : null,
    }));
  return { intensitySource, pue, rows: carbonRows, ...(reason !== undefined ? { reason } : {}) };
}

/** Idle power at or above this share of the run's energy leaves the idle-subtracted figure in the noise. */
const MAX_IDLE_SHARE = 0.9;

/**
 * Whether idle-subtracted figures mean anything: on a machine busy with other work (or with a
 * power model that is saturated), "idle" power is close to the power during the runs, and the
 * difference is noise, even negative.
 */
export function judgeIdleSubtraction(
  result: InferenceEnergyResult,
): NonNullable<EnergySection['idleSubtraction']> {
  const gross = result.original.total.gross.median;
  const net = result.original.total.net.median;
  const nets = [...result.original.total.net.values, ...result.compressed.total.net.values];
  const belowIdle = [result.original.total.net, result.compressed.total.net].some((stat) =>
    stat.reason?.startsWith(BELOW_IDLE),
  );
  if (gross !== null && belowIdle) {
    return {
      reliable: false,
      idleShare: null,
      note: 'idle power was as high as the power during the runs (other work on the machine, or a saturated power model): the idle-subtracted figures are below what this machine can resolve, so the summary compares the gross figures instead',
    };
  }
  if (gross === null || net === null || gross <= 0) {
    return {
      reliable: false,
      idleShare: null,
      note: 'idle-subtracted figures are unavailable; the summary uses the gross figures',
    };
  }
  const idleShare = 1 - net / gross;
  const reliable = idleShare < MAX_IDLE_SHARE && nets.every((value) => value > 0);
  return {
    reliable,
    idleShare,
    note: reliable
      ? `idle power was ${(idleShare * 100).toFixed(0)}% of the power during the original's runs`
      : `idle power was ${(idleShare * 100).toFixed(0)}% of the power during the original's runs${nets.some((value) => value <= 0) ? ', and some idle-subtracted runs came out at or below zero' : ''}: the machine was not idle (other work, or a saturated power model), so the idle-subtracted figures are noise; the summary compares the gross figures instead`,
  };
}

const NOT_RECORDED =
  'not recorded: this run was made without energy measurement (before Pollard measured compress runs, or with energy measurement off)';

export function compressionEnergySection(
  compression: StoredCompression,
  baseline: StoredTraining | undefined,
  settings: GridSettings,
): EnergySection {
  const energy = compression.energy;
  const measured = energy?.measured;
  const backend = compression.backend;
  const rows: EnergyRow[] = [];
  const methodNotes: string[] = [];
  const notes: string[] = [...(measured?.notes ?? [])];

  if (measured?.inference.status === 'measured') {
    const result = measured.inference.result;
    rows.push(...inferenceRows(result));
    const idleText = result.idle.notRecorded
      ? `idle power ${result.idle.notRecorded}`
      : `${result.idle.seconds.toFixed(1)} s of idle power`;
    methodNotes.push(
      `Inference: ${result.warmupRuns} warm-up run${result.warmupRuns === 1 ? '' : 's'} of each model, ${idleText}, then ${result.repetitions} measured runs of each model alternated (${result.order.join(', ')}), ${result.samplesPerRun.toLocaleString('en-US')} samples per run at batch ${measured.inference.batchSize} on ${backend}. Energy per 1,000 samples, gross and with idle power × run time subtracted; the median and the interquartile range over the runs.`,
    );
  } else {
    const reason = measured ? `unavailable: ${measured.inference.reason}` : NOT_RECORDED;
    rows.push(
      rowFrom(
        'inference-net',
        'Inference, idle-subtracted',
        `per 1,000 samples at batch ${INFERENCE_BATCH}, idle power subtracted`,
        unavailableStat('none', reason),
        unavailableStat('none', reason),
      ),
    );
  }

  if (measured) {
    const training = measured.training;
    // A stored ratio is checked again against the noise; a run recorded before warm-up epochs were
    // left out compares the original's warm-up with steady fine-tuning epochs: not like for like.
    const legacy =
      training.compressed.warmupExcluded === undefined && training.original.method !== 'not-measured';
    const comparison: EnergyComparison =
      training.comparison.ratio === null
        ? training.comparison
        : legacy
          ? {
              ...training.comparison,
              label: 'unavailable',
              ratio: null,
              saving: null,
              verdict: 'unavailable',
              reason:
                'not compared: this run was recorded before warm-up epochs were left out, so its per-epoch figures are not like for like (compress it again for one)',
            }
          : compareLikeForLike(
              'training per epoch',
              nonNegative(training.original.perEpoch),
              nonNegative(training.compressed.perEpoch),
            );
    rows.push(
      rowFrom(
        'training-per-epoch',
        'Training, per epoch',
        'per epoch past warm-up (training batches and the validation pass), original training against the compressed model’s fine-tuning, same batch size and samples per epoch',
        statOf(training.original.perEpoch),
        statOf(training.compressed.perEpoch),
        comparison,
      ),
    );
    methodNotes.push(
      `Training per epoch: original from ${training.original.detail}; compressed from ${training.compressed.detail}. Same data, batch size, samples per epoch and backend, the first epoch of each training stage left out as warm-up; a saving is computed only where both sides carry the same label and source and their ranges do not overlap.`,
    );
  } else if (baseline && compression.fineTune.length > 0) {
    // No meter in the compress run: the original's epochs exist, the fine-tuning's do not.
    const original = summariseFigures(epochEnergyFigures(baseline.history));
    rows.push(
      rowFrom(
        'training-per-epoch',
        'Training, per epoch',
        'per epoch, original training against the compressed model’s fine-tuning',
        statOf(original),
        unavailableStat('none', NOT_RECORDED),
      ),
    );
  } else {
    rows.push(
      rowFrom(
        'training-per-epoch',
        'Training, per epoch',
        'per epoch, original training against the compressed model’s fine-tuning',
        unavailableStat('none', NOT_RECORDED),
        unavailableStat('none', NOT_RECORDED),
      ),
    );
  }

  let opCount: EnergySection['opCount'] = null;
  if (energy?.before && energy.after) {
    const before = statOfFigure(energy.before);
    const after = statOfFigure(energy.after);
    // Both sides are modelled the same way; their sources differ only in the precision modelled.
    const comparison = compareEnergy(
      'op-count',
      summariseFigures([energy.before]),
      summariseFigures([energy.after]),
    );
    rows.push(
      rowFrom(
        'op-count',
        'Inference, modelled op-count',
        `per 1,000 samples at batch ${INFERENCE_BATCH}: original in float32, compressed as exported (${compression.after.weightDtype} weights)`,
        before,
        after,
        comparison,
      ),
    );
    opCount = {
      table: DEFAULT_OP_ENERGY_TABLE.name,
      citation: DEFAULT_OP_ENERGY_TABLE.citation,
      assumptions: energy.assumptions ?? [],
    };
    methodNotes.push(
      `Op-count model (${DEFAULT_OP_ENERGY_TABLE.name}): per-layer MACs and weight and activation bytes × energy per operation. ${(energy.assumptions ?? []).join('; ')}. It shows what hardware with native int8 or sparse support would spend; TensorFlow.js does not realise it.`,
    );
  } else {
    rows.push(
      rowFrom(
        'op-count',
        'Inference, modelled op-count',
        `per 1,000 samples at batch ${INFERENCE_BATCH}`,
        unavailableStat('none', NOT_RECORDED),
        unavailableStat('none', NOT_RECORDED),
      ),
    );
  }

  // The latency measurement (batch 32, fastest and slowest runs) must not say the opposite either.
  const latency = compression.latency as StoredCompression['latency'] | undefined;
  if (latency?.before?.spread && latency.after?.spread) {
    const [fastestBefore, slowestBefore] = latency.before.spread.batch32;
    const [fastestAfter] = latency.after.spread.batch32;
    for (const row of rows) {
      if (!row.id.startsWith('inference-') || row.verdict !== 'saving') continue;
      const checked = checkAgainstLatency(
        {
          id: row.id,
          label: row.label,
          ratio: row.factor === null ? null : 1 / row.factor,
          saving: row.saving,
          verdict: row.verdict,
        },
        { min: fastestBefore, max: slowestBefore },
        { min: fastestAfter, max: null },
      );
      if (checked.verdict !== 'contradicts latency') continue;
      row.factor = null;
      row.saving = null;
      row.verdict = 'contradicts latency';
      row.reason = `not shown as a saving: the energy came out lower, but the latency measurement says the compressed model is slower (at batch 32 its fastest run, ${fastestAfter.toFixed(2)} ms, took longer than the original's slowest, ${slowestBefore.toFixed(2)} ms), so the difference is not trusted`;
    }
  }

  const result = measured?.inference.status === 'measured' ? measured.inference.result : undefined;
  const idleSubtraction = result ? judgeIdleSubtraction(result) : null;
  if (idleSubtraction && !idleSubtraction.reliable) {
    notes.push(idleSubtraction.note);
    // A ratio of two noise figures is no saving: leave the idle-subtracted rows without one.
    for (const row of rows) {
      if (row.id !== 'inference-net' && !row.id.startsWith('inference-net:')) continue;
      if (row.before.median === null) continue;
      row.factor = null;
      row.saving = null;
      row.reason = 'the idle-subtracted figures are noise on this machine (see the note above)';
    }
  }
  const carbon = carbonSection(
    rows,
    settings,
    idleSubtraction?.reliable === false ? 'inference-net' : 'inference-gross',
  );
  methodNotes.push(
    `Carbon: kWh × grid intensity (${carbon.intensitySource}) × PUE ${carbon.pue}. A saving is computed only between figures with the same label (and, for measurements, the same source).`,
  );
  return {
    status: measured ? 'recorded' : energy?.before ? 'modelled-only' : 'not-recorded',
    backend,
    rows,
    idle: result
      ? {
          seconds: result.idle.seconds,
          watts: result.idle.watts.map((w) => ({ ...w })),
          ...(result.idle.notRecorded ? { notRecorded: result.idle.notRecorded } : {}),
        }
      : null,
    idleSubtraction,
    protocol: result
      ? {
          repetitions: result.repetitions,
          warmupRuns: result.warmupRuns,
          idleSeconds: result.idle.seconds,
          samplesPerRun: result.samplesPerRun,
          batchSize: INFERENCE_BATCH,
          order: [...result.order],
        }
      : null,
    training: measured
      ? { original: measured.training.original.detail, compressed: measured.training.compressed.detail }
      : null,
    opCount,
    carbon,
    sources: sourceRows(measured?.sources ?? []),
    realised: [...realisedStatements(compression.method, backend), ...compression.realised],
    methodNotes,
    notes,
  };
}

/** A train run: its training energy in total and per epoch, nothing to compare with. */
export function trainingEnergySection(training: StoredTraining, settings: GridSettings): EnergySection {
  const rows: EnergyRow[] = [];
  const total = training.trainingEnergy;
  rows.push(
    rowFrom(
      'training-total',
      'Training, whole run',
      `all ${training.epochs} epochs`,
      total ? statOfFigure(total) : unavailableStat('none', NOT_RECORDED),
      null,
    ),
  );
  rows.push(
    rowFrom(
      'training-per-epoch',
      'Training, per epoch',
      'per epoch (training batches and the validation pass)',
      statOf(summariseFigures(epochEnergyFigures(training.history))),
      null,
    ),
  );
  const carbon = carbonSection(rows, settings, '');
  return {
    status: total && total.joules !== null ? 'recorded' : 'not-recorded',
    backend: training.backend,
    rows,
    idle: null,
    idleSubtraction: null,
    protocol: null,
    training: null,
    opCount: null,
    carbon,
    sources: [],
    realised: [],
    methodNotes: [
      'Training energy: the meter runs for the whole training; each epoch’s figure is the difference of the cumulative energy at the ends of two epochs.',
      `Carbon: kWh × grid intensity (${carbon.intensitySource}) × PUE ${carbon.pue}.`,
    ],
    notes: [],
  };
}
