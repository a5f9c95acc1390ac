/**
 * `pollard export --format onnx`: write the model as ONNX (opset 13), verify it in ONNX Runtime
 * against TensorFlow.js, and for `--quantize int8` calibrate, quantize to QDQ int8 and measure
 * what the deployment gains: accuracy on the test split and latency, float32 against int8, both
 * "deployed on ONNX Runtime (CPU)".
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput, usageError } from '../../../shared/errors';
import type { SpecOf } from '../../../shared/jobs';
import { encodeOnnxModel } from '../backend/onnx-model';
import { ONNX_OPSET } from '../backend/onnx-model';
import type { LatencyMs } from '../compress/latency';
import { DEFAULT_NORMALIZATION, openDataset } from '../data';
import type { Dataset } from '../data';
import type { JobContext } from '../job/context';
import type { LoadedModel } from '../model/types';
import { tf } from '../tf';
import { activationRanges, qatRanges } from './activation-ranges';
import { calibrationBatches, onnxAccuracy, samplesAsFloat } from './onnx-data';
import type { CalibrationMethod } from './calibrate';
import { layersToOnnx, readWeightValues } from './layers-to-onnx';
import type { OnnxLayout } from './layers-to-onnx';
import { measureOnnxLatency } from './onnx-latency';
import { OnnxSession } from './ort-session';
import { quantizeGraph, quantizedActivations } from './quantize-qdq';
import type { ExportVerification } from './verify-export';
import { verifyExport } from './verify-export';

export const ONNX_RUNTIME_LABEL = 'deployed on ONNX Runtime (CPU)';
const VERIFY_SAMPLES = 16;

export interface OnnxInt8Summary {
  runtime: typeof ONNX_RUNTIME_LABEL;
  /** Calibration of the ranges QAT did not learn (0 samples when it learned them all). */
  calibration: { samples: number; method: CalibrationMethod };
  /** Quantized activation tensors by where their range came from: a QAT run, or calibration. */
  activationRanges: { fromQat: number; calibrated: number };
  quantizedNodes: number;
  quantizedActivations: number;
  /** Top-1 accuracy (0..1) of both ONNX models on the dataset's test split (training split if none). */
  accuracy: { split: 'test' | 'train'; samples: number; float32: number; int8: number; agreement: number };
  latencyMs: { float32: LatencyMs; int8: LatencyMs };
  /** float32 latency ÷ int8 latency. */
  speedup: LatencyMs;
  sizeBytes: { float32: number; int8: number };
}

export interface OnnxExportSummary {
  opset: number;
  layout: OnnxLayout;
  inputShape: number[];
  foldedBatchNorms: number;
  /** float32 graph in ONNX Runtime vs TensorFlow.js on the same inputs. */
  verification: ExportVerification & { inputs: 'dataset' | 'synthetic' };
  int8?: OnnxInt8Summary;
}

async function openCalibrationData(dataPath: string, loaded: LoadedModel, limit?: number): Promise<Dataset> {
  const dataset = await openDataset(dataPath, limit !== undefined ? { limit } : {});
  const input = loaded.model.inputs[0]!.shape.slice(1);
  const [h, w, c] = dataset.shape;
  if (input[0] !== h || input[1] !== w || input[2] !== c) {
    throw badInput(
      dataPath,
      `the dataset's images are ${h}×${w}×${c} but the model expects [${input.map(String).join(', ')}]`,
    );
  }
  const units = loaded.model.outputs[0]!.shape.at(-1);
  if (units !== dataset.classNames.length) {
    throw badInput(
      dataPath,
      `the dataset has ${dataset.classNames.length} classes but the model has ${String(units)} outputs`,
    );
  }
  return dataset;
}

/** The output file: `--to` itself when it names a .onnx file, else `model.onnx` inside it. */
async function outputFile(to: string): Promise<string> {
  const isDirectory = (await fs.stat(to).catch(() => undefined))?.isDirectory() ?? false;
  return isDirectory || !/\.onnx$/i.test(to) ? path.join(to, 'model.onnx') : to;
}

async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
}

/** Refuse option combinations that cannot work, before any file is opened. */
export function checkExportOptions(spec: SpecOf<'export-model'>): void {
  if (spec.format !== 'onnx') {
    if (spec.quantize === 'int8' || spec.data !== undefined) {
      throw usageError('--quantize int8 and --data are for --format onnx');
    }
    return;
  }
  if (spec.quantize !== undefined && spec.quantize !== 'int8') {
    throw usageError(`--quantize ${spec.quantize} is for tfjs; ONNX export takes --quantize int8`);
  }
  if (spec.quantize === 'int8' && spec.data === undefined) {
    throw usageError('--quantize int8 needs --data D: its training split calibrates the activation ranges');
  }
}

export async function exportOnnx(
  loaded: LoadedModel,
  spec: SpecOf<'export-model'>,
  ctx: JobContext,
): Promise<{ file: string; onnx: OnnxExportSummary }> {
  checkExportOptions(spec);
  const layout = spec.layout;
  ctx.emit({ type: 'stage', stage: 'convert to ONNX', detail: `opset ${ONNX_OPSET}, ${layout}` });
  const weightValues = await readWeightValues(loaded.model);
  const exported = layersToOnnx(loaded.model, {
    layout,
    source: loaded.source,
    exposeLogits: true,
    weightValues,
  });
  const float = layersToOnnx(loaded.model, { layout, source: loaded.source, weightValues });
  const floatBytes = encodeOnnxModel(float.graph);
  const [h, w, c] = loaded.model.inputs[0]!.shape.slice(1) as [number, number, number];
  const normalization = loaded.metadata.normalization ?? DEFAULT_NORMALIZATION;
  const dataset = spec.data ? await openCalibrationData(spec.data, loaded, spec.limit) : undefined;

  ctx.emit({ type: 'stage', stage: 'verify in ONNX Runtime', detail: 'float32 vs TensorFlow.js' });
  const evaluation = dataset?.test && dataset.test.count > 0 ? dataset.test : dataset?.train;
  const verifyCount = Math.min(VERIFY_SAMPLES, evaluation?.count ?? VERIFY_SAMPLES);
  const verifyData =
    dataset && evaluation
      ? samplesAsFloat(
          evaluation,
          dataset.shape,
          Array.from({ length: verifyCount }, (_, i) => i),
          normalization,
          'nhwc',
        )
      : Float32Array.from({ length: verifyCount * h * w * c }, (_, i) => Math.abs(Math.sin(i * 0.7)));
  const x = tf.tensor4d(verifyData, [verifyCount, h, w, c]);
  let verification: ExportVerification;
  try {
    verification = await verifyExport(loaded.model, exported, x);
  } finally {
    x.dispose();
  }
  const summary: OnnxExportSummary = {
    opset: ONNX_OPSET,
    layout,
    inputShape: float.inputShape,
    foldedBatchNorms: float.foldedBatchNorms,
    verification: { ...verification, inputs: dataset ? 'dataset' : 'synthetic' },
  };
  const file = await outputFile(spec.to);
  if (spec.quantize !== 'int8' || !dataset || !evaluation) {
    await writeAtomically(file, floatBytes);
    return { file, onnx: summary };
  }

  const method = spec.calibrationMethod;
  const count = Math.min(spec.calibration, dataset.train.count);
  const targets = quantizedActivations(float.graph);
  const learned = qatRanges(loaded.metadata, float, targets).size;
  ctx.emit({
    type: 'stage',
    stage: 'calibrate int8',
    detail:
      learned > 0
        ? `activation ranges learned in QAT for ${learned} of ${targets.length} tensors` +
          (learned < targets.length
            ? `; the other ${targets.length - learned} on ${count} training samples, ${method}`
            : '')
        : `${count} training samples, ${method}`,
  });
  const sources = await activationRanges(
    float,
    loaded.metadata,
    targets,
    () => calibrationBatches(dataset.train, dataset.shape, count, normalization, layout, float.inputShape),
    method,
  );
  const quantized = quantizeGraph(float.graph, sources.ranges);
  const int8Bytes = encodeOnnxModel(quantized.graph);

  ctx.emit({ type: 'stage', stage: 'evaluate int8', detail: `${evaluation.count} samples` });
  const floatSession = await OnnxSession.create(floatBytes);
  const int8Session = await OnnxSession.create(int8Bytes);
  try {
    const scored = await onnxAccuracy(
      [floatSession, int8Session],
      evaluation,
      dataset.shape,
      normalization,
      layout,
      float.inputShape,
      dataset.classNames.length,
    );
    ctx.emit({ type: 'stage', stage: 'measure latency', detail: 'ONNX Runtime, float32 vs int8' });
    const [floatLatency, int8Latency] = await measureOnnxLatency(
      [floatSession, int8Session],
      float.inputShape,
    );
    summary.int8 = {
      runtime: ONNX_RUNTIME_LABEL,
      calibration: { samples: sources.calibrated > 0 ? count : 0, method },
      activationRanges: { fromQat: sources.fromQat, calibrated: sources.calibrated },
      quantizedNodes: quantized.quantizedNodes,
      quantizedActivations: quantized.quantizedActivations,
      accuracy: {
        split: evaluation === dataset.test ? 'test' : 'train',
        samples: evaluation.count,
        float32: scored.accuracy[0]!,
        int8: scored.accuracy[1]!,
        agreement: scored.agreement,
      },
      latencyMs: { float32: floatLatency!, int8: int8Latency! },
      speedup: {
        batch1: floatLatency!.batch1 / int8Latency!.batch1,
        batch32: floatLatency!.batch32 / int8Latency!.batch32,
      },
      sizeBytes: { float32: floatBytes.length, int8: int8Bytes.length },
    };
  } finally {
    await floatSession.close();
    await int8Session.close();
  }
  await writeAtomically(file, int8Bytes);
  return { file, onnx: summary };
}
