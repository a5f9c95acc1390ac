/**
 * The compress job's ONNX Runtime stage: both models deployed on ONNX Runtime (CPU) after the
 * TensorFlow.js measurements (see onnx/deployment.ts), and the sentence the results lead with.
 */
import type { JobContext } from '../job/context';
import { measureOnnxDeployment } from '../onnx/deployment';
import type { OnnxDeployment } from '../onnx/deployment';
import type { LayersModel } from '../tf';
import { stage } from './job-common';
import type { CompressionData } from './job-data';
import type { RecordedRange } from './qat-ranges';

/** The ONNX Runtime figures, or why there are none (a refused layer, ONNX Runtime not loading). */
export async function deployOnOnnxRuntime(
  original: LayersModel,
  compressed: LayersModel,
  int8: boolean,
  data: CompressionData,
  ctx: JobContext,
  qatRanges?: Record<string, RecordedRange>,
): Promise<{ onnxRuntime?: OnnxDeployment; onnxRuntimeUnavailable?: string }> {
  stage(ctx, 'onnx-runtime', `both models on ONNX Runtime (CPU), ${int8 ? 'int8' : 'float32'}`);
  const [h, w, c] = original.inputs[0]!.shape.slice(1) as [number, number, number];
  try {
    const onnxRuntime = await measureOnnxDeployment({
      original,
      compressed,
      int8,
      train: data.train,
      evaluation: data.evaluation,
      evaluationSplit: data.evaluationSplit,
      shape: [h, w, c],
      classes: original.outputs[0]!.shape.at(-1) as number,
      normalization: data.normalization,
      ...(qatRanges ? { qatRanges } : {}),
    });
    return { onnxRuntime };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    ctx.log('warn', `ONNX Runtime figures skipped: ${reason}`);
    return { onnxRuntimeUnavailable: reason };
  }
}

export function deploymentNote(d: OnnxDeployment): string {
  const pct = (a: number) => `${(a * 100).toFixed(2)}%`;
  return (
    `${d.runtime[0]!.toUpperCase()}${d.runtime.slice(1)}, ${d.after.format === 'int8' ? 'the compressed model as int8' : 'both as float32'}: ` +
    `batch 32 ${d.verdict.batch32}, batch 1 ${d.verdict.batch1} (${d.before.latencyMs.batch32.toFixed(2)} → ${d.after.latencyMs.batch32.toFixed(2)} ms at batch 32); ` +
    `accuracy ${pct(d.before.accuracy)} → ${pct(d.after.accuracy)} on ${d.evaluation.samples} ${d.evaluation.split} samples.`
  );
}
