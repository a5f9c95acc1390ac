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
import { spread, summariseFigures, type Spread } from './stats';
import type { Clock, EnergySource } from './types';

export type ModelRole = 'original' | 'compressed';

export interface InferenceEnergyOptions {
  /** Each call runs `samplesPerRun` inferences and resolves when the device is done. */
  workloads: Record<ModelRole, () => Promise<void>>;
  samplesPerRun: number;
  /** Unmeasured runs of each model first (JIT, caches, clocks). Default 1. */
  warmupRuns?: number;
  /** Measured runs of each model, at least 3. Default 3. */
  repetitions?: number;
  /** Seconds of idle power recorded before the runs. Default 5. */
  idleSeconds?: number;
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

export interface EnergyComparison {
  id: string;
  label: EnergyLabel;
  /** compressed median / original median; null where the two were not obtained the same way. */
  ratio: number | null;
  /** 1 − ratio. */
  saving: number | null;
  reason?: string;
}

export interface InferenceEnergyResult {
  samplesPerRun: number;
  warmupRuns: number;
  repetitions: number;
  idle: {
    seconds: number;
    watts: { id: string; label: EnergyLabel; watts: number | null; reason?: string }[];
  };
  /** The order the measured runs were made in. */
  order: ModelRole[];
  original: ModelInferenceEnergy;
  compressed: ModelInferenceEnergy;
  /** Idle-subtracted savings per source and for the total (id `total`). */
  savings: EnergyComparison[];
  meterSources: MeterSourceState[];
}

/** Compares two statistics, only where they were obtained the same way. */
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
      reason: `obtained differently: ${original.label} against ${compressed.label}`,
    };
  }
  if (original.median === null || compressed.median === null || original.median <= 0) {
    return {
      id,
      label: 'unavailable',
      ratio: null,
      saving: null,
      reason: original.reason ?? compressed.reason ?? 'no positive original figure',
    };
  }
  const ratio = compressed.median / original.median;
  return { id, label: original.label, ratio, saving: 1 - ratio };
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
  return { ...gross, joules: netJoules };
}

function summariseModel(windows: EnergyWindow[], samples: number, idle: IdlePower): ModelInferenceEnergy {
  const ids = windows[0]?.sources.map((source) => source.id) ?? [];
  const sources = ids.map((id): SourceInferenceEnergy => {
    const figures = windows.map((window) => window.sources.find((source) => source.id === id)!);
    const idleReason = `no idle power for ${id}`;
    return {
      id,
      gross: summariseFigures(figures.map((source) => perThousand(source.figure, samples))),
      net: summariseFigures(
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
    net: summariseFigures(
      windows.map((window) =>
        perThousand(netFigure(window.total, window.totalNetJoules, 'no idle power'), samples),
      ),
    ),
  };
  return { total, sources, seconds: spread(windows.map((window) => window.seconds)) };
}

export async function measureInferenceEnergy(
  options: InferenceEnergyOptions,
): Promise<InferenceEnergyResult> {
  const warmupRuns = options.warmupRuns ?? 1;
  const repetitions = options.repetitions ?? 3;
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

    const idleStart = await meter.settledSnapshot();
    if (idleSeconds > 0) await sleep(idleSeconds * 1000);
    const idleWindow = meter.window(idleStart, await meter.settledSnapshot());
    progress('idle');
    const idle: IdlePower = {};
    for (const source of idleWindow.sources) idle[source.id] = source.averageWatts;
    const idleWatts =
      idleWindow.seconds > 0
        ? idleWindow.sources.map((source) => ({
            id: source.id,
            label: source.figure.label,
            watts: source.averageWatts,
            ...(source.figure.reason !== undefined ? { reason: source.figure.reason } : {}),
          }))
        : idleWindow.sources.map((source) => ({
            id: source.id,
            label: 'unavailable' as const,
            watts: null,
            reason: 'idle power not recorded (idleSeconds 0)',
          }));
    if (idleWindow.seconds <= 0) for (const id of Object.keys(idle)) idle[id] = null;

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
    ];
    return {
      samplesPerRun,
      warmupRuns,
      repetitions,
      idle: { seconds: idleWindow.seconds, watts: idleWatts },
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
