import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openModel } from '../model/registry';
import { saveModel } from '../model/tfjs-layers-writer';
import { quantizeWeight } from '../model/weight-quantization';
import type { WeightQuantization } from '../model/weight-quantization';
import { tf, tfl } from '../tf';
import type { LayersModel, Tensor } from '../tf';
import { fakeQuantizeWeight, QuantizationAwareTraining } from './qat';
import { depthwiseNet, sampleInputs, sequentialCnn } from './test-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Save the model with every weight quantized in the manifest, then load it with stock tfjs. */
async function exportAndReload(model: LayersModel, dtype: WeightQuantization): Promise<LayersModel> {
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const weight of model.weights) {
    const { bytes, quantization } = quantizeWeight(weight.read().dataSync() as Float32Array, dtype);
    weightSpecs.push({
      name: weight.originalName,
      shape: weight.shape as number[],
      dtype: 'float32',
      quantization,
    });
    chunks.push(bytes);
  }
  const weightData = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    weightData.set(chunk, offset);
    offset += chunk.length;
  }
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: model.toJSON(null, false) as object,
      weightSpecs,
      weightData: weightData.buffer,
    }),
  );
}

function values(model: LayersModel, trainableOnly: boolean): Float32Array[] {
  return (trainableOnly ? model.trainableWeights : model.weights).map(
    (w) => w.read().dataSync() as Float32Array,
  );
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('fake quantization', () => {
  it('per channel quantizes each output channel over its own range', () => {
    // Shape [2, 2]: channel 0 holds {0, 1}, channel 1 holds {0, 100}.
    const out = fakeQuantizeWeight(new Float32Array([0, 0, 1, 100]), [2, 2], 'uint8', 'channel');
    expect(Array.from(out)).toEqual([0, 0, 1, 100]);
    const tensor = fakeQuantizeWeight(new Float32Array([0, 0, 1, 100]), [2, 2], 'uint8', 'tensor');
    // One range [0, 100] for all: 1 becomes round(1 / (100/255)) · 100/255.
    expect(tensor[2]).toBeCloseTo((Math.round(2.55) * 100) / 255, 5);
  });

  it('per channel uses the input axis of a depthwise kernel', () => {
    // [1, 1, 2, 2] depthwise kernel: channel c = index 2; values c0 = {0, 1}, c1 = {0, 50}.
    const out = fakeQuantizeWeight(
      new Float32Array([0, 1, 0, 50]),
      [1, 1, 2, 2],
      'uint8',
      'channel',
      'depthwise_kernel',
    );
    expect(Array.from(out)).toEqual([0, 1, 0, 50]);
  });
});

describe.each(['uint8', 'uint16', 'float16'] as const)('QAT with %s, per tensor', (dtype) => {
  it('trains on exactly the weights stock TF.js dequantizes from the export', async () => {
    for (const model of [sequentialCnn(), depthwiseNet()]) {
      const reloaded = await exportAndReload(model, dtype);
      const qat = new QuantizationAwareTraining(model, { dtype, granularity: 'tensor' });
      const float = values(model, true).map((v) => Float32Array.from(v));
      await qat.hooks().beforeBatch!(model);
      const seen = values(model, true);
      const exported = values(reloaded, true);
      seen.forEach((v, i) =>
        expect(Buffer.from(v.buffer).equals(Buffer.from(exported[i]!.buffer))).toBe(true),
      );
      // The quantized values really differ from the float ones (else the test proves nothing).
      expect(seen.some((v, i) => v.some((x, j) => x !== float[i]![j]))).toBe(true);
      qat.hooks().beforeApply!(model);
      values(model, true).forEach((v, i) => expect(v).toEqual(float[i]));
    }
  });
});

describe('QuantizationAwareTraining', () => {
  it("matches what Pollard's own writer exports and its reader loads back", async () => {
    const model = depthwiseNet();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-qat-'));
    try {
      await saveModel(model, path.join(dir, 'model'), { quantize: 'uint8' });
      const loaded = await openModel(path.join(dir, 'model'));
      const qat = new QuantizationAwareTraining(model, { dtype: 'uint8', granularity: 'tensor' });
      await qat.swapInQuantized();
      const seen = values(model, true);
      values(loaded.model, true).forEach((v, i) => expect(v).toEqual(seen[i]));
      qat.dispose();
      loaded.model.dispose();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('bakes every weight (BN statistics too) into what the export holds, and predicts the same', async () => {
    const model = sequentialCnn();
    const reloaded = await exportAndReload(model, 'uint8');
    await new QuantizationAwareTraining(model, { dtype: 'uint8', granularity: 'tensor' }).bakeQuantized();
    const baked = values(model, false);
    values(reloaded, false).forEach((v, i) => expect(v).toEqual(baked[i]));
    const x = sampleInputs(model, 4);
    const a = (model.predict(x) as Tensor).dataSync();
    const b = (reloaded.predict(x) as Tensor).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('applies the gradient computed at the quantized point to the float weights (STE)', async () => {
    const model = sequentialCnn();
    const qat = new QuantizationAwareTraining(model, { dtype: 'uint8', granularity: 'channel' });
    const hooks = qat.hooks();
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = sampleInputs(model, 6);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
    const loss = (): tf.Scalar =>
      tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: false }) as Tensor) as tf.Scalar;
    const float = variables.map((v) => v.dataSync().slice());
    await hooks.beforeBatch!(model);
    const { grads } = tf.variableGrads(loss, variables);
    hooks.beforeApply!(model);
    // The gradient was taken at the quantized point: it differs from the one at the float point.
    const atFloat = tf.variableGrads(loss, variables).grads;
    const first = variables[0]!.name;
    expect(maxAbsDifference(grads[first]!.dataSync(), atFloat[first]!.dataSync())).toBeGreaterThan(1e-5);
    tf.dispose(Object.values(atFloat));
    const lr = 0.1;
    variables.forEach((v) => tf.tidy(() => v.assign(tf.sub(v, tf.mul(grads[v.name]!, lr)))));
    // w_new = w_float − lr · g(w_quantized), checked on the first kernel.
    const g = grads[variables[0]!.name]!.dataSync();
    const updated = variables[0]!.dataSync();
    updated.forEach((w, i) => expect(w).toBeCloseTo(float[0]![i]! - lr * g[i]!, 6));
    tf.dispose(Object.values(grads));
  });
});
