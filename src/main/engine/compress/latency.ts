/**
 * Measured inference latency: warm median of repeated runs at batch 1 and batch 32 on the
 * current backend. Models are measured alternately within the same loop (original, compressed,
 * original, …) so drift in machine load hits both alike. Each run ends with `await data()` so the
 * device has finished its work before the clock stops.
 */
import { tf } from '../tf';
import type { LayersModel, Tensor } from '../tf';

export interface LatencyMs {
  batch1: number;
  batch32: number;
}

export interface LatencyDetail extends LatencyMs {
  /** Fastest and slowest run per batch size, in ms. */
  spread: { batch1: [number, number]; batch32: [number, number] };
  runs: { batch1: number; batch32: number };
}

export interface LatencyOptions {
  /** Untimed runs per model and batch size first. Default 2. */
  warmup?: number;
  /** Timed runs per model and batch size, at least. Default 21 at batch 1 (short and noisy), 15 at batch 32. */
  runs?: number;
  /**
   * Keep adding runs (alternately, up to `maxRuns`) until this many seconds were spent on a batch
   * size: on a busy machine a few runs are dominated by scheduling noise; many make the median
   * stable. Default 0 (exactly `runs`).
   */
  minSeconds?: number;
  /** Cap on runs per model and batch size when `minSeconds` asks for more. Default 200. */
  maxRuns?: number;
  /** Stop adding runs once this many seconds were spent on a batch size (at least 3 runs are kept). */
  maxSeconds?: number;
  /** Batch sizes to measure; default both. One left out gets no runs (its figures are NaN). */
  batchSizes?: readonly (1 | 32)[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One predict call, from the call to its data read back (ms). */
export async function timeOnce(model: LayersModel, input: Tensor): Promise<number> {
  const start = performance.now();
  const output = model.predict(input) as Tensor;
  await output.data();
  const elapsed = performance.now() - start;
  output.dispose();
  return elapsed;
}

/** A fixed input batch for timing: a sine pattern in [-1, 1], no RNG state touched. */
export function inputFor(model: LayersModel, batch: number): Tensor {
  const shape = model.inputs[0]!.shape.slice(1).map((d) => d ?? 1);
  // Fixed pseudo-random inputs (no RNG state touched): a sine pattern in [-1, 1].
  const size = batch * shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin(i * 0.7);
  return tf.tensor(data, [batch, ...shape]);
}

/** Latency of each model (same order as given), measured alternately. */
export async function measureLatency(
  models: LayersModel[],
  options: LatencyOptions = {},
): Promise<LatencyDetail[]> {
  const warmup = options.warmup ?? 2;
  const results = models.map(() => ({ batch1: [] as number[], batch32: [] as number[] }));
  for (const [key, batch] of [
    ['batch1', 1],
    ['batch32', 32],
  ] as const) {
    if (options.batchSizes && !options.batchSizes.includes(batch)) continue;
    const runs = Math.max(1, options.runs ?? (batch === 1 ? 21 : 15));
    const maxRuns = Math.max(runs, options.maxRuns ?? 200);
    const inputs = models.map((model) => inputFor(model, batch));
    try {
      for (let i = 0; i < warmup; i++) {
        for (const [m, model] of models.entries()) await timeOnce(model, inputs[m]!);
      }
      const start = performance.now();
      const deadline = start + (options.maxSeconds ?? Infinity) * 1000;
      const wanted = start + (options.minSeconds ?? 0) * 1000;
      for (let run = 0; run < maxRuns; run++) {
        for (const [m, model] of models.entries()) results[m]![key].push(await timeOnce(model, inputs[m]!));
        const now = performance.now();
        if (run >= 2 && now > deadline) break;
        if (run + 1 >= runs && now >= wanted) break;
      }
    } finally {
      tf.dispose(inputs);
    }
  }
  return results.map((r) => ({
    batch1: median(r.batch1),
    batch32: median(r.batch32),
    spread: {
      batch1: [Math.min(...r.batch1), Math.max(...r.batch1)],
      batch32: [Math.min(...r.batch32), Math.max(...r.batch32)],
    },
    runs: { batch1: r.batch1.length, batch32: r.batch32.length },
  }));
}
