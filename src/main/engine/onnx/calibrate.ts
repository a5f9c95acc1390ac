/**
 * Activation ranges for static quantization, measured by running the float graph in ONNX
 * Runtime on calibration samples with every tensor to quantize fetched as an extra output.
 *  - `minmax`: the smallest and largest value seen (ONNX Runtime's default, MinMax).
 *  - `percentile`: the 0.01th and 99.99th percentiles of a strided sample of each tensor's
 *    values, which ignores rare outliers that would otherwise stretch the scale.
 */
import type { OnnxGraph } from '../backend/onnx-model';
import { encodeOnnxModel } from '../backend/onnx-model';
import { OnnxSession } from './ort-session';
import type { ActivationRange } from './quantize-qdq';

export type CalibrationMethod = 'minmax' | 'percentile';

export interface CalibrationBatch {
  data: Float32Array;
  dims: number[];
}

/** Values kept per tensor and batch for percentiles. */
const SAMPLE_PER_BATCH = 16_384;
const PERCENTILE = 99.99;

class RangeObserver {
  min = Infinity;
  max = -Infinity;
  readonly samples: number[] = [];

  constructor(private readonly keepSamples: boolean) {}

  observe(values: Float32Array): void {
    for (const v of values) {
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
    if (!this.keepSamples) return;
    const stride = Math.max(1, Math.floor(values.length / SAMPLE_PER_BATCH));
    for (let i = 0; i < values.length; i += stride) this.samples.push(values[i]!);
  }

  range(): ActivationRange {
    if (!this.keepSamples || this.samples.length === 0) return { min: this.min, max: this.max };
    const sorted = Float32Array.from(this.samples).sort();
    const at = (p: number): number =>
      sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
    return { min: at(100 - PERCENTILE), max: at(PERCENTILE) };
  }
}

export async function calibrateRanges(
  graph: OnnxGraph,
  targets: readonly string[],
  batches: Iterable<CalibrationBatch>,
  method: CalibrationMethod = 'minmax',
): Promise<Map<string, ActivationRange>> {
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const fetched = targets.filter((t) => !inputs.has(t));
  const probe: OnnxGraph = {
    ...graph,
    outputs: fetched.map((name) => ({ name, shape: [], shapeUnknown: true })),
  };
  const observers = new Map(targets.map((t) => [t, new RangeObserver(method === 'percentile')]));
  const session = await OnnxSession.create(encodeOnnxModel(probe));
  try {
    for (const batch of batches) {
      const outputs = await session.run(batch.data, batch.dims, fetched);
      fetched.forEach((name, i) => observers.get(name)!.observe(outputs[i]!));
      for (const name of targets) if (inputs.has(name)) observers.get(name)!.observe(batch.data);
    }
  } finally {
    await session.close();
  }
  return new Map([...observers].map(([name, observer]) => [name, observer.range()]));
}
