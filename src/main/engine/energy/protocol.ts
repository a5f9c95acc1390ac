/**
 * The measurement protocol (ENERGY.md): warm up; record idle power; run original and compressed
 * alternately (ABBA order, so slow drift such as heating cancels) for ≥ 3 repetitions; report
 * energy per 1,000 samples gross and idle-subtracted, each as median and spread, per source.
 * Savings are computed only between figures obtained the same way.
 *
 * A workload must finish its device work before it resolves (e.g. `await tensor.data()`), or the
 * window closes while the GPU is still busy.
 */
import { usageError } from '../../../shared/errors';
import type { EnergyFigure, EnergyLabel, EnergyStatistic } from '../../../shared/types';
import { EnergyMeter, type EnergyWindow, type IdlePower, type MeterSourceState } from './meter';
import { BELOW_IDLE, BELOW_IDLE_SHARE, spread, summariseFigures, type Spread } from './stats';
import type { Clock, EnergySource } from './types';

export type ModelRole = 'original' | 'compressed';

export interface InferenceEnergyOptions {
  /** Each call runs `samplesPerRun` inferences and resolves when the device is done. */
  workloads: Record<ModelRole, () => Promise<void>>;
  samplesPerRun: number;
  /** Unmeasured runs of each model first (JIT, caches, clocks). Default 1. */
  warmupRuns?: number;
  /** Measured runs of each model, at least 3. Default 5 (two identical models then look different by chance 1 time in 126; with 3, 1 in 10). */
  repetitions?: number;
  /** Seconds of idle power recorded before the runs. Default 5. */
  idleSeconds?: number;
  /**
   * `always` (default): record idle power for `idleSeconds`. `unless-known`: skip the recording
   * where every open source knows its idle power without one (the CPU model charging only this
   * process's CPU time: 0 W), as `--energy quick` does; the result says it was not recorded.
   */
  recordIdle?: 'always' | 'unless-known';
  /** A running meter to use; otherwise one is started on `sources` and stopped at the end. */
  meter?: EnergyMeter;
  sources?: EnergySource[];
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (done: number, total: number, stage: string) => void;
}

export interface SourceInferenceEnergy {
  id: string;
  /** Joules per 1,000 samples. */
  gross: EnergyStatistic;
  /** Joules per 1,000 samples after subtracting idle power × run time. */
  net: EnergyStatistic;
}

export interface ModelInferenceEnergy {
  /** The headline figure (measured sources added up, else the CPU model). */
  total: SourceInferenceEnergy;
  sources: SourceInferenceEnergy[];
  /** Seconds per run. */
  seconds: Spread;
}

/**
 * `saving`: the compressed model used less, beyond the noise; `costlier`: more, beyond the noise;
 * `no measurable difference`: the two ranges of repeated figures overlap; `contradicts latency`:
 * the energy says saving but the same runs got slower beyond the noise; `unavailable`: not
 * obtained the same way, or no figures.
 */
export type EnergyVerdict =
  'saving' | 'costlier' | 'no measurable difference' | 'contradicts latency' | 'unavailable';

export interface EnergyComparison {
  id: string;
  label: EnergyLabel;
  /** compressed median / original median; null where the two were not obtained the same way. */
  ratio: number | null;
  /** 1 − ratio; null unless the verdict is `saving` or `costlier` (noise is never a saving). */
  saving: number | null;
  /**
   * compressed / original over the repeated figures: [lowest compressed ÷ highest original,
   * highest compressed ÷ lowest original]; null where there is no ratio.
   */
  interval?: [number, number] | null;
  verdict?: EnergyVerdict;
  reason?: string;
}

export interface InferenceEnergyResult {
  samplesPerRun: number;
  warmupRuns: number;
  repetitions: number;
  idle: {
    seconds: number;
    watts: { id: string; label: EnergyLabel; watts: number | null; reason?: string }[];
    /** Why no idle power was recorded, where its value was known without a recording. */
    notRecorded?: string;
  };
  /** The order the measured runs were made in. */
  order: ModelRole[];
  original: ModelInferenceEnergy;
  compressed: ModelInferenceEnergy;
  /** Idle-subtracted savings per source and for the total (id `total`). */
  savings: EnergyComparison[];
  meterSources: MeterSourceState[];
}

/** compressed ÷ original over the whole ranges of the two (conservative: any pairing of runs). */
export function ratioInterval(
  original: EnergyStatistic,
  compressed: EnergyStatistic,
): [number, number] | null {
  if (original.min === null || original.max === null || compressed.min === null || compressed.max === null) {
    return null;
  }
  if (!(original.min > 0) || !(compressed.min > 0)) return null;
  return [compressed.min / original.max, compressed.max / original.min];
}

const formatRatio = (value: number): string => `×${value.toPrecision(3)}`;

/**
 * Compares two statistics, only where they were obtained the same way, and only calls it a saving
 * (or a cost) where the two are distinguishable: the ranges of the repeated figures do not
 * overlap, so the ratio interval excludes 1. For three runs each of two identical models the
 * ranges fail to overlap by chance 1 time in 10, for five runs each 1 in 126.
 */
export function compareEnergy(
  id: string,
  original: EnergyStatistic,
  compressed: EnergyStatistic,
): EnergyComparison {
  if (original.label !== compressed.label) {
    return {
      id,
      label: 'unavailable',
      ratio: null,
      saving: null,
      interval: null,
      verdict: 'unavailable',
      reason: `obtained differently: ${original.label} against ${compressed.label}`,
    };
  }
  if (
    original.median === null ||
    compressed.median === null ||
    original.median <= 0 ||
    compressed.median <= 0
  ) {
    return {
      id,
      label: 'unavailable',
      ratio: null,
      saving: null,
      interval: null,
      verdict: 'unavailable',
      reason: original.reason ?? compressed.reason ?? 'no positive original figure',
    };
  }
  const ratio = compressed.median / original.median;
  const interval = ratioInterval(original, compressed) ?? [ratio, ratio];
  // One figure shows no noise: only a model that gives the same figure every time (op counts)
  // may be compared from one figure on a side.
  const counts = [original.values.length, compressed.values.length];
  if (original.label !== 'modelled:op-count' && Math.min(...counts) < 2) {
    return {
      id,
      label: original.label,
      ratio,
      saving: null,
      interval,
      verdict: 'no measurable difference',
      reason: `no measurable difference: too few repeated figures to tell a difference from noise (${counts[0]} against ${counts[1]}; 2 or more on each side are needed)`,
    };
  }
  if (interval[0] <= 1 && interval[1] >= 1) {
    return {
      id,
      label: original.label,
      ratio,
      saving: null,
      interval,
      verdict: 'no measurable difference',
      // Said as the report's factor column is: original ÷ compressed.
      reason: `no measurable difference: the repeated figures overlap (original ÷ compressed between ${formatRatio(1 / interval[1])} and ${formatRatio(1 / interval[0])})`,
    };
  }
  return {
    id,
    label: original.label,
    ratio,
    saving: 1 - ratio,
    interval,
    verdict: ratio < 1 ? 'saving' : 'costlier',
  };
}

/**
 * An energy saving is not shown where the same runs got slower beyond the noise (every run of the
 * compressed model took longer than every run of the original): energy and time disagree, so the
 * energy difference is not trusted.
 */
export function checkAgainstLatency(
  comparison: EnergyComparison,
  originalSeconds: Pick<Spread, 'min' | 'max'>,
  compressedSeconds: Pick<Spread, 'min' | 'max'>,
): EnergyComparison {
  if (comparison.verdict !== 'saving') return comparison;
  if (originalSeconds.max === null || compressedSeconds.min === null) return comparison;
  if (!(compressedSeconds.min > originalSeconds.max)) return comparison;
  return {
    ...comparison,
    saving: null,
    verdict: 'contradicts latency',
    reason: `not shown as a saving: the energy came out lower (${formatRatio(comparison.ratio!)}) but the same runs of the compressed model were slower (every run took longer than every run of the original), so the difference is not trusted`,
  };
}

/** Median and spread of per-epoch energy figures (training: original against fine-tuning). */
export function summariseEpochEnergy(figures: readonly EnergyFigure[]): EnergyStatistic {
  return summariseFigures(figures);
}

function perThousand(figure: EnergyFigure, samples: number): EnergyFigure {
  return figure.joules === null ? figure : { ...figure, joules: (figure.joules * 1000) / samples };
}

function netFigure(gross: EnergyFigure, netJoules: number | null | undefined, reason: string): EnergyFigure {
  if (gross.joules === null) return gross;
  if (netJoules === null || netJoules === undefined) {
    return { joules: null, label: 'unavailable', source: gross.source, reason };
  }
  // Idle power at or above the power during the run: nothing left to measure, never a negative figure.
  if (netJoules <= gross.joules * BELOW_IDLE_SHARE) {
    return { joules: null, label: 'unavailable', source: gross.source, reason: BELOW_IDLE };
  }
  return { ...gross, joules: netJoules };
}

/**
 * Idle-subtracted figures: where any run came out at or below the idle baseline, the others are
 * not summarised (keeping only the runs above idle would bias the median upwards).
 */
export function summariseNet(figures: readonly EnergyFigure[]): EnergyStatistic {
  const below = figures.filter((figure) => figure.joules === null && figure.reason === BELOW_IDLE).length;
  if (below === 0) return summariseFigures(figures);
  return {
    ...spread([]),
    label: 'unavailable',
    source: [...new Set(figures.map((figure) => figure.source))].join(' / ') || 'none',
    reason: `${BELOW_IDLE}: ${below} of ${figures.length} runs`,
  };
}

function summariseModel(windows: EnergyWindow[], samples: number, idle: IdlePower): ModelInferenceEnergy {
  const ids = windows[0]?.sources.map((source) => source.id) ?? [];
  const sources = ids.map((id): SourceInferenceEnergy => {
    const figures = windows.map((window) => window.sources.find((source) => source.id === id)!);
    const idleReason = `no idle power for ${id}`;
    return {
      id,
      gross: summariseFigures(figures.map((source) => perThousand(source.figure, samples))),
      net: summariseNet(
        figures.map((source) =>
          perThousand(
            netFigure(source.figure, source.netJoules, idle[id] === null ? idleReason : 'no net figure'),
            samples,
          ),
        ),
      ),
    };
  });
  const total: SourceInferenceEnergy = {
    id: 'total',
    gross: summariseFigures(windows.map((window) => perThousand(window.total, samples))),
    net: summariseNet(
      windows.map((window) =>
        perThousand(netFigure(window.total, window.totalNetJoules, 'no idle power'), samples),
      ),
    ),
  };
  return { total, sources, seconds: spread(windows.map((window) => window.seconds)) };
}

const NOT_RECORDED =
  "not recorded: every source charges only this job's own work (the CPU model counts this process's CPU time), so there is no idle draw in its figures to subtract";

/** Idle power without a recording, where every open source knows it (see `EnergyReader.idleWatts`). */
function knownIdleRecord(
  meter: EnergyMeter,
  known: IdlePower,
): { idle: IdlePower; record: InferenceEnergyResult['idle'] } {
  const watts = meter.states
    .filter((state) => state.status === 'open')
    .map((state) => ({ id: state.id, label: state.label, watts: known[state.id] ?? null }));
  return { idle: known, record: { seconds: 0, watts, notRecorded: NOT_RECORDED } };
}

/** Idle power per source from a window of `idleSeconds` in which nothing runs. */
async function recordIdlePower(
  meter: EnergyMeter,
  idleSeconds: number,
  sleep: (ms: number) => Promise<void>,
): Promise<{ idle: IdlePower; record: InferenceEnergyResult['idle'] }> {
  const idleStart = await meter.settledSnapshot();
  if (idleSeconds > 0) await sleep(idleSeconds * 1000);
  const idleWindow = meter.window(idleStart, await meter.settledSnapshot());
  const idle: IdlePower = {};
  for (const source of idleWindow.sources) idle[source.id] = source.averageWatts;
  if (idleWindow.seconds <= 0) {
    for (const id of Object.keys(idle)) idle[id] = null;
    const watts = idleWindow.sources.map((source) => ({
      id: source.id,
      label: 'unavailable' as const,
      watts: null,
      reason: 'idle power not recorded (idleSeconds 0)',
    }));
    return { idle, record: { seconds: idleWindow.seconds, watts } };
  }
  const watts = idleWindow.sources.map((source) => ({
    id: source.id,
    label: source.figure.label,
    watts: source.averageWatts,
    ...(source.figure.reason !== undefined ? { reason: source.figure.reason } : {}),
  }));
  return { idle, record: { seconds: idleWindow.seconds, watts } };
}

export async function measureInferenceEnergy(
  options: InferenceEnergyOptions,
): Promise<InferenceEnergyResult> {
  const warmupRuns = options.warmupRuns ?? 1;
  const repetitions = options.repetitions ?? 5;
  const idleSeconds = options.idleSeconds ?? 5;
  const { samplesPerRun } = options;
  if (!Number.isInteger(repetitions) || repetitions < 3) {
    throw usageError(`energy protocol: repetitions must be an integer ≥ 3, got ${repetitions}`);
  }
  if (!Number.isInteger(samplesPerRun) || samplesPerRun < 1) {
    throw usageError(`energy protocol: samplesPerRun must be a positive integer, got ${samplesPerRun}`);
  }
  if (!Number.isInteger(warmupRuns) || warmupRuns < 0) {
    throw usageError(`energy protocol: warmupRuns must be an integer ≥ 0, got ${warmupRuns}`);
  }
  if (!(idleSeconds >= 0)) throw usageError(`energy protocol: idleSeconds must be ≥ 0, got ${idleSeconds}`);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const ownMeter = options.meter === undefined;
  const meter =
    options.meter ?? (await EnergyMeter.start({ sources: options.sources, clock: options.clock }));
  const steps = 2 * warmupRuns + 1 + 2 * repetitions;
  let done = 0;
  const progress = (stage: string): void => options.onProgress?.(++done, steps, stage);

  try {
    for (let run = 0; run < warmupRuns; run++) {
      await options.workloads.original();
      progress('warm-up original');
      await options.workloads.compressed();
      progress('warm-up compressed');
    }

    const known = options.recordIdle === 'unless-known' ? meter.knownIdle() : null;
    const { idle, record } = known
      ? knownIdleRecord(meter, known)
      : await recordIdlePower(meter, idleSeconds, sleep);
    progress('idle');

    const order: ModelRole[] = [];
    const windows: Record<ModelRole, EnergyWindow[]> = { original: [], compressed: [] };
    for (let repetition = 0; repetition < repetitions; repetition++) {
      const pair: ModelRole[] =
        repetition % 2 === 0 ? ['original', 'compressed'] : ['compressed', 'original'];
      for (const role of pair) {
        const start = meter.snapshot();
        await options.workloads[role]();
        const end = await meter.settledSnapshot();
        windows[role].push(meter.window(start, end, idle));
        order.push(role);
        progress(role);
      }
    }

    const original = summariseModel(windows.original, samplesPerRun, idle);
    const compressed = summariseModel(windows.compressed, samplesPerRun, idle);
    const savings = [
      compareEnergy('total', original.total.net, compressed.total.net),
      ...original.sources.map((source, i) =>
        compareEnergy(source.id, source.net, compressed.sources[i]!.net),
      ),
    ].map((comparison) => checkAgainstLatency(comparison, original.seconds, compressed.seconds));
    return {
      samplesPerRun,
      warmupRuns,
      repetitions,
      idle: record,
      order,
      original,
      compressed,
      savings,
      meterSources: meter.states,
    };
  } finally {
    if (ownMeter) await meter.stop();
  }
}
