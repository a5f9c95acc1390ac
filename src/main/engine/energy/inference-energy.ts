/**
 * Inference energy per 1,000 samples at batch 32 in a pass of its own (`--energy full`, or quick
 * where the metered latency runs failed): the protocol (warm-up, idle power, alternating
 * repetitions, idle subtracted, median and spread) on the current backend, with per-batch
 * progress and an ETA.
 */
import type { CompressEnergyOptions } from '../../../shared/jobs';
import { inputFor } from '../compress/latency';
import type { JobContext } from '../job/context';
import { tf, type LayersModel, type Tensor } from '../tf';
import { InferenceProgress } from './inference-progress';
import { measureInferenceEnergy, type InferenceEnergyResult, type ModelRole } from './protocol';
import { errorMessage, type Clock, type EnergySource } from './types';

/** Inference energy is measured (and modelled) at this batch size. */
export const INFERENCE_BATCH = 32;

export type InferenceEnergyMeasurement =
  | { status: 'measured'; batchSize: number; result: InferenceEnergyResult }
  | { status: 'unavailable'; reason: string };

export interface InferenceMeasureOptions {
  repetitions: number;
  warmupRuns: number;
  idleSeconds: number;
  /** How long one run of the original should take; sets the samples per run. */
  runSeconds: number;
  /** The original's latency at batch 32 (ms), from the latency measurement. */
  originalBatchMs: number;
  sources?: EnergySource[];
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Wraps each measured workload (tests advance a fake clock here). */
  wrapWorkload?: (role: ModelRole, run: () => Promise<void>) => () => Promise<void>;
  onProgress?: (done: number, total: number, stage: string) => void;
  /** Called once the batches per run are known, before anything runs. */
  onPlan?: (batchesPerRun: number) => void;
  /** Called after every batch of every run (progress within a run). */
  onBatch?: () => void;
}

/** Inference energy per 1,000 samples at batch 32, original against compressed (the protocol). */
export async function measureInference(
  original: LayersModel,
  compressed: LayersModel,
  options: InferenceMeasureOptions,
): Promise<InferenceEnergyResult> {
  const batchMs = Math.max(options.originalBatchMs, 1e-3);
  const batches = Math.min(100_000, Math.max(1, Math.round((options.runSeconds * 1000) / batchMs)));
  options.onPlan?.(batches);
  const inputs = {
    original: inputFor(original, INFERENCE_BATCH),
    compressed: inputFor(compressed, INFERENCE_BATCH),
  };
  const models = { original, compressed };
  const workload = (role: ModelRole) => async (): Promise<void> => {
    for (let i = 0; i < batches; i++) {
      const output = models[role].predict(inputs[role]) as Tensor;
      // The device must be done before the window closes.
      await output.data();
      output.dispose();
      options.onBatch?.();
    }
  };
  const wrap = options.wrapWorkload ?? ((_role: ModelRole, run: () => Promise<void>) => run);
  try {
    return await measureInferenceEnergy({
      workloads: {
        original: wrap('original', workload('original')),
        compressed: wrap('compressed', workload('compressed')),
      },
      samplesPerRun: batches * INFERENCE_BATCH,
      warmupRuns: options.warmupRuns,
      repetitions: options.repetitions,
      idleSeconds: options.idleSeconds,
      ...(options.sources ? { sources: options.sources } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } finally {
    tf.dispose([inputs.original, inputs.compressed]);
  }
}

/** What the inference phase needs of a compress run. */
export interface InferencePhaseInput {
  ctx: JobContext;
  original: LayersModel;
  compressed: LayersModel;
  /** The original's latency at batch 32 (ms): sizes the runs and the first ETA. */
  originalBatchMs: number;
}

/** Injected by tests: fake sources, clock and sleep. */
export interface MeasurementTestOptions {
  sources?: EnergySource[];
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

export function isCancelled(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'cancelled';
}

/** The inference protocol's own runs, with per-batch progress and an ETA; a failure costs the figure only. */
export async function measureInferencePhase(
  input: InferencePhaseInput,
  options: CompressEnergyOptions,
  testOptions: MeasurementTestOptions = {},
): Promise<InferenceEnergyMeasurement> {
  const { ctx } = input;
  ctx.emit({
    type: 'stage',
    stage: 'energy: inference',
    detail: `idle ${options.idleSeconds} s, ${options.repetitions} alternating runs of each model at batch ${INFERENCE_BATCH}`,
  });
  // Quick: the latency stage ran both models warm just before; no warm-up runs of its own.
  const warmupRuns = options.mode === 'quick' ? 0 : options.warmupRuns;
  let progress: InferenceProgress | undefined;
  try {
    const result = await measureInference(input.original, input.compressed, {
      repetitions: options.repetitions,
      warmupRuns,
      idleSeconds: options.idleSeconds,
      runSeconds: options.runSeconds,
      originalBatchMs: input.originalBatchMs,
      ...(testOptions.sources ? { sources: testOptions.sources } : {}),
      ...(testOptions.clock ? { clock: testOptions.clock } : {}),
      ...(testOptions.sleep ? { sleep: testOptions.sleep } : {}),
      onPlan: (batchesPerRun) => {
        const plan = { batchesPerRun, runs: 2 * (warmupRuns + options.repetitions) };
        progress = new InferenceProgress(
          { ...plan, idleSeconds: options.idleSeconds, batchMs: input.originalBatchMs },
          (event) => ctx.emit(event),
        );
        progress.start();
      },
      onBatch: () => progress?.batch(),
      onProgress: (_done, _total, stage) => {
        ctx.throwIfCancelled();
        if (stage === 'idle') progress?.idleDone();
      },
    });
    return { status: 'measured', batchSize: INFERENCE_BATCH, result };
  } catch (error) {
    if (isCancelled(error)) throw error;
    return { status: 'unavailable', reason: errorMessage(error) };
  }
}
