/**
 * The activation ranges of an int8 ONNX export: those a QAT run learned (its model.json carries
 * each layer output's moving min/max, compress/qat-ranges.ts) where a quantized tensor equals a
 * layer's output, and calibration on data for the rest (or for all of them, without QAT).
 */
import { QAT_RANGES_KEY, recordedRanges } from '../compress/qat-ranges';
import type { ModelMetadata } from '../model/types';
import { calibrateRanges, type CalibrationBatch, type CalibrationMethod } from './calibrate';
import type { OnnxExportGraph } from './layers-to-onnx';
import type { ActivationRange } from './quantize-qdq';

export interface ActivationRangeSources {
  ranges: Map<string, ActivationRange>;
  /** Tensors whose range QAT learned. */
  fromQat: number;
  /** Tensors calibrated on data. */
  calibrated: number;
}

/** The QAT ranges of `targets`, by ONNX tensor name; empty unless the model comes from a QAT run. */
export function qatRanges(
  metadata: ModelMetadata,
  exported: Pick<OnnxExportGraph, 'tensorLayers'>,
  targets: readonly string[],
): Map<string, ActivationRange> {
  const learned = recordedRanges(metadata.producedBy?.[QAT_RANGES_KEY]);
  const out = new Map<string, ActivationRange>();
  if (!learned) return out;
  for (const target of targets) {
    const layer = exported.tensorLayers.get(target);
    const range = layer === undefined || !Object.hasOwn(learned, layer) ? undefined : learned[layer];
    if (range) out.set(target, range);
  }
  return out;
}

export async function activationRanges(
  exported: OnnxExportGraph,
  metadata: ModelMetadata,
  targets: readonly string[],
  calibration: () => Iterable<CalibrationBatch>,
  method: CalibrationMethod,
): Promise<ActivationRangeSources> {
  const learned = qatRanges(metadata, exported, targets);
  const missing = targets.filter((t) => !learned.has(t));
  const calibrated =
    missing.length > 0 ? await calibrateRanges(exported.graph, missing, calibration(), method) : new Map();
  return {
    ranges: new Map([...calibrated, ...learned]),
    fromQat: learned.size,
    calibrated: missing.length,
  };
}
