/**
 * The compress job's "deployed on ONNX Runtime (CPU)" figures: the original and the compressed
 * model converted to ONNX (NCHW, BatchNorm folded) and run in ONNX Runtime's CPU provider, the
 * runtime where Pollard's compression saves time that TensorFlow.js cannot realise:
 *  - a run that stores 8-bit weights (uint8) is deployed as int8 QDQ (static quantization,
 *    weights per output channel, activations calibrated min-max on training samples), which
 *    ONNX Runtime runs with integer kernels; every other run is deployed as float32;
 *  - accuracy of both on the run's evaluation split, latency at batch 1 and 32 with the two
 *    models alternated in one loop (medians, and the interquartile range of each), sizes.
 * A latency change whose ranges overlap is reported as "no measurable difference".
 */
import { encodeOnnxModel } from '../backend/onnx-model';
import type { LatencyMs } from '../compress/latency';
import type { DatasetSplit, Normalization } from '../data';
import type { LayersModel } from '../tf';
import { QAT_RANGES_KEY, type RecordedRange } from '../compress/qat-ranges';
import { activationRanges } from './activation-ranges';
import { ONNX_RUNTIME_LABEL } from './export-onnx';
import { layersToOnnx, readWeightValues } from './layers-to-onnx';
import { calibrationBatches, onnxAccuracy } from './onnx-data';
import { measureOnnxLatencySpread } from './onnx-latency';
import { OnnxSession } from './ort-session';
import { quantizeGraph, quantizedActivations } from './quantize-qdq';

/** Training samples the int8 activation ranges are calibrated on. */
export const DEPLOYMENT_CALIBRATION_SAMPLES = 256;

export interface DeployedModel {
  format: 'float32' | 'int8';
  /** Top-1 (0..1) on the evaluation split. */
  accuracy: number;
  latencyMs: LatencyMs;
  /** Interquartile range of the timed runs, [p25, p75] per batch size. */
  latencySpreadMs: { batch1: [number, number]; batch32: [number, number] };
  sizeBytes: number;
}

export interface OnnxDeployment {
  runtime: typeof ONNX_RUNTIME_LABEL;
  evaluation: { split: 'test' | 'validation'; samples: number };
  before: DeployedModel;
  after: DeployedModel;
  /** before ÷ after latency, or null where the interquartile ranges overlap. */
  speedup: { batch1: number | null; batch32: number | null };
  /** The sentence each speed-up is shown with. */
  verdict: { batch1: string; batch32: string };
  /** int8: activation ranges calibrated on training samples, and how many a QAT run had learned instead. */
  calibration?: { samples: number; method: 'minmax'; fromQat: number };
}

export interface DeploymentInput {
  original: LayersModel;
  compressed: LayersModel;
  int8: boolean;
  train: DatasetSplit;
  evaluation: DatasetSplit;
  evaluationSplit: 'test' | 'validation';
  shape: readonly [number, number, number];
  classes: number;
  normalization: Normalization;
  /** A QAT run's learned activation ranges (compress/qat-ranges.ts): used instead of calibrating those tensors. */
  qatRanges?: Record<string, RecordedRange>;
}

/**
 * A latency comparison: before ÷ after of the medians, or no ratio where the interquartile
 * ranges overlap.
 */
export function latencyVerdict(
  before: { median: number; spread: [number, number] },
  after: { median: number; spread: [number, number] },
): { ratio: number | null; text: string } {
  if (before.spread[0] <= after.spread[1] && after.spread[0] <= before.spread[1]) {
    return { ratio: null, text: 'no measurable difference' };
  }
  const ratio = before.median / after.median;
  return { ratio, text: ratio >= 1 ? `${ratio.toFixed(2)}× faster` : `${(1 / ratio).toFixed(2)}× slower` };
}

/** Converts, verifies nothing (the export job does that), measures. Throws where a layer has no ONNX form. */
export async function measureOnnxDeployment(input: DeploymentInput): Promise<OnnxDeployment> {
  const layout = 'nchw' as const;
  const before = layersToOnnx(input.original, {
    layout,
    weightValues: await readWeightValues(input.original),
  });
  const after = layersToOnnx(input.compressed, {
    layout,
    weightValues: await readWeightValues(input.compressed),
  });
  let afterGraph = after.graph;
  let calibration: OnnxDeployment['calibration'];
  if (input.int8) {
    const batches = calibrationBatches(
      input.train,
      input.shape,
      DEPLOYMENT_CALIBRATION_SAMPLES,
      input.normalization,
      layout,
      after.inputShape,
    );
    const metadata = input.qatRanges ? { producedBy: { [QAT_RANGES_KEY]: input.qatRanges } } : {};
    const ranges = await activationRanges(
      after,
      metadata,
      quantizedActivations(after.graph),
      () => batches,
      'minmax',
    );
    afterGraph = quantizeGraph(after.graph, ranges.ranges).graph;
    calibration = {
      samples: ranges.calibrated > 0 ? batches.reduce((n, b) => n + (b.dims[0] ?? 0), 0) : 0,
      method: 'minmax',
      fromQat: ranges.fromQat,
    };
  }
  const bytes = [encodeOnnxModel(before.graph), encodeOnnxModel(afterGraph)];
  const sessions = [await OnnxSession.create(bytes[0]!), await OnnxSession.create(bytes[1]!)];
  try {
    const scored = await onnxAccuracy(
      sessions,
      input.evaluation,
      input.shape,
      input.normalization,
      layout,
      before.inputShape,
      input.classes,
    );
    const [b, a] = await measureOnnxLatencySpread(sessions, before.inputShape);
    const model = (i: 0 | 1, format: DeployedModel['format']): DeployedModel => {
      const l = i === 0 ? b! : a!;
      return {
        format,
        accuracy: scored.accuracy[i]!,
        latencyMs: l.median,
        latencySpreadMs: l.spread,
        sizeBytes: bytes[i]!.length,
      };
    };
    const first = model(0, 'float32');
    const second = model(1, input.int8 ? 'int8' : 'float32');
    const compare = (key: 'batch1' | 'batch32') =>
      latencyVerdict(
        { median: first.latencyMs[key], spread: first.latencySpreadMs[key] },
        { median: second.latencyMs[key], spread: second.latencySpreadMs[key] },
      );
    const batch1 = compare('batch1');
    const batch32 = compare('batch32');
    return {
      runtime: ONNX_RUNTIME_LABEL,
      evaluation: { split: input.evaluationSplit, samples: input.evaluation.count },
      before: first,
      after: second,
      speedup: { batch1: batch1.ratio, batch32: batch32.ratio },
      verdict: { batch1: batch1.text, batch32: batch32.text },
      ...(calibration ? { calibration } : {}),
    };
  } finally {
    for (const session of sessions) await session.close();
  }
}
