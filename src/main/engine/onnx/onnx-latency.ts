/**
 * Inference latency of ONNX models in ONNX Runtime: warm medians at batch 1 and batch 32, the
 * models measured alternately in the same loop (as compress/latency.ts does for tfjs models) so
 * drift in machine load hits them alike.
 */
import type { LatencyMs } from '../compress/latency';
import { quantile, spread } from '../energy/stats';
import type { OnnxSession } from './ort-session';

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);

export interface OnnxLatencyOptions {
  warmup?: number;
  /** Timed runs per model and batch size: default 21 at batch 1, 15 at batch 32. */
  runs?: number;
}

interface LatencySamples {
  batch1: number[];
  batch32: number[];
}

/** The timed runs (ms) of each session, in the order given; all take inputs of `inputShape` per sample. */
async function latencySamples(
  sessions: readonly OnnxSession[],
  inputShape: readonly number[],
  options: OnnxLatencyOptions,
): Promise<LatencySamples[]> {
  const results = sessions.map(() => ({ batch1: [] as number[], batch32: [] as number[] }));
  const perSample = inputShape.reduce((a, b) => a * b, 1);
  for (const [key, batch] of [
    ['batch1', 1],
    ['batch32', 32],
  ] as const) {
    // Fixed pseudo-random inputs in [0, 1] (no RNG state touched).
    const data = Float32Array.from({ length: batch * perSample }, (_, i) => Math.abs(Math.sin(i * 0.7)));
    const dims = [batch, ...inputShape];
    for (let i = 0; i < (options.warmup ?? 3); i++) for (const s of sessions) await s.run(data, dims);
    const runs = options.runs ?? (batch === 1 ? 21 : 15);
    for (let run = 0; run < runs; run++) {
      for (const [m, session] of sessions.entries()) {
        const start = performance.now();
        await session.run(data, dims);
        results[m]![key].push(performance.now() - start);
      }
    }
  }
  return results;
}

/** Latency (ms) of each session, in the order given; all take inputs of `inputShape` per sample. */
export async function measureOnnxLatency(
  sessions: readonly OnnxSession[],
  inputShape: readonly number[],
  options: OnnxLatencyOptions = {},
): Promise<LatencyMs[]> {
  const samples = await latencySamples(sessions, inputShape, options);
  return samples.map((r) => ({
    batch1: quantile(sorted(r.batch1), 0.5),
    batch32: quantile(sorted(r.batch32), 0.5),
  }));
}

export interface LatencySpread {
  median: LatencyMs;
  /** [p25, p75] of the timed runs. */
  spread: { batch1: [number, number]; batch32: [number, number] };
}

/** As measureOnnxLatency, with each session's interquartile range beside its medians. */
export async function measureOnnxLatencySpread(
  sessions: readonly OnnxSession[],
  inputShape: readonly number[],
  options: OnnxLatencyOptions = {},
): Promise<LatencySpread[]> {
  const samples = await latencySamples(sessions, inputShape, options);
  return samples.map((r) => {
    const [b1, b32] = [spread(r.batch1), spread(r.batch32)];
    return {
      median: { batch1: b1.median!, batch32: b32.median! },
      spread: { batch1: [b1.q1!, b1.q3!], batch32: [b32.q1!, b32.q3!] },
    };
  });
}
