/**
 * `--energy quick`: the batch-32 latency runs are the inference-energy runs. Instead of timing
 * the two models at batch 32 and then running them again under the energy meter, each protocol
 * run (alternated ABBA, see energy/protocol.ts) is a block of individually timed predict calls:
 * their timings are the latency figures, their metered windows the energy figures. Idle power is
 * recorded only where a source needs it (RAPL, a GPU): the CPU model charges this process's own
 * CPU time, whose idle draw is 0 W by construction, so on a machine with only that model quick
 * adds nothing to the latency stage but the meter's start and stop.
 */
import type { LatencyDetail, LatencyOptions } from '../compress/latency';
import { inputFor, measureLatency, median, timeOnce } from '../compress/latency';
import { measureInferenceEnergy, type InferenceEnergyResult, type ModelRole } from './protocol';
import type { Clock, EnergySource } from './types';
import { tf, type LayersModel } from '../tf';

export interface LatencyEnergyOptions {
  latency: LatencyOptions;
  repetitions: number;
  idleSeconds: number;
  sources?: EnergySource[];
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  onProgress?: (done: number, total: number, stage: string) => void;
}

/**
 * Batch-32 runs per model, as the latency measurement would make them: at least `runs` (15),
 * until about `minSeconds` / 2 per model, at most `maxRuns` (200) and `maxSeconds` / 2.
 */
export function batch32Runs(msPerRun: number, options: LatencyOptions): number {
  const least = Math.max(1, options.runs ?? 15);
  const most = Math.max(least, options.maxRuns ?? 200);
  const wanted = Math.ceil(((options.minSeconds ?? 0) * 1000) / 2 / Math.max(msPerRun, 1e-3));
  const capped = Math.floor(((options.maxSeconds ?? Infinity) * 1000) / 2 / Math.max(msPerRun, 1e-3));
  return Math.max(3, Math.min(most, Math.max(least, wanted), capped));
}

/** Latency of both models (batch 1 as usual, batch 32 from the energy runs) and their inference energy. */
export async function measureLatencyWithEnergy(
  original: LayersModel,
  compressed: LayersModel,
  options: LatencyEnergyOptions,
): Promise<{ latency: [LatencyDetail, LatencyDetail]; inference: InferenceEnergyResult }> {
  const [batch1Before, batch1After] = await measureLatency([original, compressed], {
    ...options.latency,
    batchSizes: [1],
  });
  const models: Record<ModelRole, LayersModel> = { original, compressed };
  const inputs = { original: inputFor(original, 32), compressed: inputFor(compressed, 32) };
  const timings: Record<ModelRole, number[]> = { original: [], compressed: [] };
  try {
    // Warm-up, and the pace that sizes the runs: two untimed calls of each model.
    const probe: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (const role of ['original', 'compressed'] as const) {
        probe.push(await timeOnce(models[role], inputs[role]));
      }
    }
    const perModel = batch32Runs(median(probe), options.latency);
    const callsPerRun = Math.max(1, Math.ceil(perModel / options.repetitions));
    const workload = (role: ModelRole) => async (): Promise<void> => {
      for (let i = 0; i < callsPerRun; i++) timings[role].push(await timeOnce(models[role], inputs[role]));
    };
    const inference = await measureInferenceEnergy({
      workloads: { original: workload('original'), compressed: workload('compressed') },
      samplesPerRun: callsPerRun * 32,
      warmupRuns: 0,
      repetitions: options.repetitions,
      idleSeconds: options.idleSeconds,
      recordIdle: 'unless-known',
      ...(options.sources ? { sources: options.sources } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const detail = (batch1: LatencyDetail, role: ModelRole): LatencyDetail => ({
      batch1: batch1.batch1,
      batch32: median(timings[role]),
      spread: {
        batch1: batch1.spread.batch1,
        batch32: [Math.min(...timings[role]), Math.max(...timings[role])],
      },
      runs: { batch1: batch1.runs.batch1, batch32: timings[role].length },
    });
    return { latency: [detail(batch1Before!, 'original'), detail(batch1After!, 'compressed')], inference };
  } finally {
    tf.dispose([inputs.original, inputs.compressed]);
  }
}
