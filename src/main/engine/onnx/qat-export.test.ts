import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportModelSpecSchema, trainingOptionsSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { QuantizationAwareTraining } from '../compress/qat';
import { QAT_RANGES_KEY } from '../compress/qat-ranges';
import { sequentialCnn } from '../compress/test-models';
import { writeIdx } from '../data/idx-writer';
import type { DatasetSplit } from '../data/types';
import { createMemoryContext } from '../job/context';
import { runExportModelJob } from '../model/export-model-job';
import { saveModel } from '../model/tfjs-layers-writer';
import { trainModel } from '../train/loop';
import { decodeModel } from './import/proto';
import { floatValues } from './import/tensor-data';
import { uint8Params } from './quantize-qdq';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
const dirs: string[] = [];

/** Three classes of 8×8 images: rows 0–2, 3–5 or 6–7 bright. */
function rows(count: number): DatasetSplit {
  const images = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 64; p++) {
      const band = Math.min(2, Math.floor(Math.floor(p / 8) / 3));
      images[i * 64 + p] = band === i % 3 ? 200 - (p % 7) * 10 : 30 + ((i * 13 + p) % 40);
    }
  }
  return { images, labels, count };
}

afterAll(async () => {
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
});

describe('ONNX int8 export of a QAT run', () => {
  it('uses the activation ranges QAT recorded instead of calibrating, and says so', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-qat-onnx-'));
    dirs.push(root);
    const dataDir = path.join(root, 'rows');
    await fs.mkdir(dataDir);
    await writeIdx(dataDir, 'train', rows(96), [8, 8, 1]);
    await writeIdx(dataDir, 't10k', rows(30), [8, 8, 1]);
    await fs.writeFile(path.join(dataDir, 'classes.txt'), 'top\nmiddle\nbottom\n');

    const model = sequentialCnn();
    const qat = new QuantizationAwareTraining(model, {
      dtype: 'uint8',
      granularity: 'tensor',
      recordActivations: true,
      observeEvery: 2,
    });
    const options = { training: trainingOptionsSchema.parse({ learningRate: 0.01 }), batchSize: 16, seed: 1 };
    const hooks = qat.hooks();
    await trainModel(
      model,
      { train: rows(96), shape: [8, 8, 1], classes: 3 },
      { ...options, epochs: 1, hooks },
      createMemoryContext(BACKEND),
    );
    qat.dispose();
    const ranges = qat.activationRanges()!;
    // 6 batches of 16, one in two observed; every layer and the input.
    expect((hooks.saveState!() as { seen: number }).seen).toBe(6);
    expect(Object.keys(ranges).sort()).toEqual(
      [
        'bn1',
        'bn2',
        'classifier',
        'conv1',
        'conv1_input',
        'conv2',
        'drop',
        'fc1',
        'flatten',
        'pool1',
        'relu2',
      ].sort(),
    );
    const modelDir = path.join(root, 'run-model');
    await saveModel(model, modelDir, {
      metadata: { producedBy: { tool: 'pollard compress', method: 'qat', [QAT_RANGES_KEY]: ranges } },
    });

    const to = path.join(root, 'int8.onnx');
    const ctx = createMemoryContext(BACKEND);
    const spec = exportModelSpecSchema.parse({
      kind: 'export-model',
      model: modelDir,
      format: 'onnx',
      to,
      quantize: 'int8',
      data: dataDir,
      calibration: 32,
    });
    const result = await runExportModelJob(spec, ctx);
    const int8 = result.onnx!.int8!;
    // Quantized: conv1 (its ReLU output), bn1 (after the ReLU, not folded), pool1, relu2, flatten
    // and fc1 (its ReLU output); bn2 folds into conv2, whose output only relu2 reads: float.
    expect(int8.activationRanges).toEqual({ fromQat: 6, calibrated: 0 });
    expect(int8.calibration).toEqual({ samples: 0, method: 'minmax' });
    const stage = ctx.events.find((e) => e.type === 'stage' && e.stage === 'calibrate int8');
    expect(stage).toMatchObject({ detail: 'activation ranges learned in QAT for 6 of 6 tensors' });

    const file = await fs.readFile(to);
    const onnx = decodeModel(new Uint8Array(file), to);
    const scale = (tensor: string): number => {
      const t = onnx.graph.initializers.find((i) => i.name === `${tensor}.q_scale`);
      return floatValues(t!, to)[0]!;
    };
    const expected = (layer: string): number => Math.fround(uint8Params(ranges[layer]!).scale);
    for (const layer of ['conv1', 'bn1', 'relu2', 'fc1']) expect(scale(layer)).toBe(expected(layer));
    // MaxPool and Flatten run on int8 with their input's parameters.
    expect(scale('pool1')).toBe(expected('bn1'));
    expect(scale('flatten')).toBe(expected('relu2'));

    // A range QAT did not record (fc1's here) is calibrated on data; the rest still come from QAT.
    const partial = { ...ranges };
    delete partial.fc1;
    await saveModel(model, modelDir, {
      metadata: { producedBy: { tool: 'pollard compress', method: 'qat', [QAT_RANGES_KEY]: partial } },
    });
    const mixedCtx = createMemoryContext(BACKEND);
    const mixed = (await runExportModelJob(spec, mixedCtx)).onnx!.int8!;
    expect(mixed.activationRanges).toEqual({ fromQat: 5, calibrated: 1 });
    expect(mixed.calibration).toEqual({ samples: 32, method: 'minmax' });
    expect(mixedCtx.events.find((e) => e.type === 'stage' && e.stage === 'calibrate int8')).toMatchObject({
      detail:
        'activation ranges learned in QAT for 5 of 6 tensors; the other 1 on 32 training samples, minmax',
    });
  }, 60_000);
});
