/**
 * An exported ONNX graph checked against TensorFlow.js on the same inputs: the model's output
 * and, where the model ends in Dense + softmax, the logits before the softmax (a softmax squashes
 * differences, so the logits are the stricter check).
 */
import { encodeOnnxModel } from '../backend/onnx-model';
import { tf, tfl } from '../tf';
import type { LayersModel } from '../tf';
import type { OnnxExportGraph } from './layers-to-onnx';
import { ONNX_LOGITS, ONNX_OUTPUT } from './layers-to-onnx';
import { OnnxSession, nhwcToNchw } from './ort-session';

export interface ExportVerification {
  samples: number;
  /** Max absolute difference of the model's outputs, ONNX Runtime vs TensorFlow.js. */
  maxAbsDiffOutput: number;
  /** The same for the pre-softmax logits, when the model ends in Dense + softmax. */
  maxAbsDiffLogits?: number;
}

/** Largest |a[i] − b[i]|; throws where the sizes differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`output sizes differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** The model's pre-softmax logits in tfjs, when its last layer is a Dense with softmax. */
async function tfjsLogits(model: LayersModel, x: tf.Tensor): Promise<Float32Array | undefined> {
  const output = model.outputs[0]!;
  const last = output.sourceLayer;
  const config = last.getConfig() as { activation?: string };
  if (last.getClassName() !== 'Dense' || config.activation !== 'softmax') return undefined;
  const inputs = last.inboundNodes[output.nodeIndex]?.inputTensors;
  if (inputs?.length !== 1) return undefined;
  const features = tfl.model({ inputs: model.inputs, outputs: inputs[0]! });
  const [kernel, bias] = last.getWeights();
  const logits = tf.tidy(() => {
    const f = features.predict(x) as tf.Tensor2D;
    const z = tf.matMul(f, kernel as tf.Tensor2D);
    return bias ? tf.add(z, bias) : z;
  });
  // Read asynchronously: a GPU backend cannot read synchronously in Node.
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  return values;
}

/**
 * Run `exported` (built with `exposeLogits` for the logits check) in ONNX Runtime on `x` (NHWC,
 * as tfjs takes it) and compare with `model.predict`.
 */
export async function verifyExport(
  model: LayersModel,
  exported: OnnxExportGraph,
  x: tf.Tensor4D,
): Promise<ExportVerification> {
  const [n, h, w, c] = x.shape;
  const nhwc = (await x.data()) as Float32Array;
  const input = exported.layout === 'nchw' ? nhwcToNchw(nhwc, n, h, w, c) : nhwc;
  const session = await OnnxSession.create(encodeOnnxModel(exported.graph));
  try {
    const names = exported.logitsName ? [ONNX_OUTPUT, ONNX_LOGITS] : [ONNX_OUTPUT];
    const [output, logits] = await session.run(input, [n, ...exported.inputShape], names);
    const prediction = model.predict(x) as tf.Tensor;
    const expected = (await prediction.data()) as Float32Array;
    prediction.dispose();
    const result: ExportVerification = { samples: n, maxAbsDiffOutput: maxAbsDiff(output!, expected) };
    const expectedLogits = logits ? await tfjsLogits(model, x) : undefined;
    if (logits && expectedLogits) result.maxAbsDiffLogits = maxAbsDiff(logits, expectedLogits);
    return result;
  } finally {
    await session.close();
  }
}
