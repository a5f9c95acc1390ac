import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBandsFixture } from '../compress/bands-fixture';
import { exportModelSpecSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { createMemoryContext } from '../job/context';
import { runExportModelJob } from '../model/export-model-job';
import { tf } from '../tf';
import { OnnxSession } from './ort-session';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
let root: string;
let dataDir: string;
let modelDir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-onnx-export-'));
  ({ dataDir, modelDir } = await writeBandsFixture(root, 120));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function spec(extra: Record<string, unknown>) {
  return exportModelSpecSchema.parse({ kind: 'export-model', model: modelDir, format: 'onnx', ...extra });
}

describe('export-model --format onnx', () => {
  it('writes a float32 model that ONNX Runtime runs, verified against tfjs', async () => {
    const to = path.join(root, 'float.onnx');
    const result = await runExportModelJob(spec({ to }), createMemoryContext(BACKEND));
    expect(result.format).toBe('onnx');
    expect(result.files.map((f) => f.path)).toEqual([to]);
    expect(result.onnx!.opset).toBe(13);
    expect(result.onnx!.layout).toBe('nchw');
    expect(result.onnx!.inputShape).toEqual([1, 8, 8]);
    expect(result.onnx!.foldedBatchNorms).toBe(1); // bn2 follows conv2; bn1 follows a ReLU
    expect(result.onnx!.verification.inputs).toBe('synthetic');
    expect(result.onnx!.verification.maxAbsDiffLogits).toBeLessThanOrEqual(1e-4);
    const session = await OnnxSession.create(await fs.readFile(to));
    const [output] = await session.run(new Float32Array(2 * 64), [2, 1, 8, 8]);
    await session.close();
    expect(output!.length).toBe(6);
  });

  it('a folder gets model.onnx; --layout nhwc takes NHWC input', async () => {
    const to = path.join(root, 'nhwc');
    const result = await runExportModelJob(spec({ to, layout: 'nhwc' }), createMemoryContext(BACKEND));
    expect(result.files[0]!.path).toBe(path.join(to, 'model.onnx'));
    expect(result.onnx!.inputShape).toEqual([8, 8, 1]);
    expect(result.onnx!.verification.maxAbsDiffLogits).toBeLessThanOrEqual(1e-4);
  });

  it('int8: calibrated QDQ model with test accuracy and latency against float32', async () => {
    const to = path.join(root, 'int8.onnx');
    const ctx = createMemoryContext(BACKEND);
    const result = await runExportModelJob(
      spec({ to, quantize: 'int8', data: dataDir, calibration: 40 }),
      ctx,
    );
    const int8 = result.onnx!.int8!;
    expect(int8.runtime).toBe('deployed on ONNX Runtime (CPU)');
    expect(int8.calibration).toEqual({ samples: 40, method: 'minmax' });
    expect(int8.quantizedNodes).toBe(3); // conv2, fc1, classifier; conv1 reads the 1-channel input, float
    expect(int8.accuracy.split).toBe('test');
    expect(int8.accuracy.samples).toBe(60);
    expect(int8.accuracy.float32).toBeGreaterThan(0.8);
    expect(int8.accuracy.int8).toBeGreaterThanOrEqual(int8.accuracy.float32 - 0.05);
    expect(int8.accuracy.agreement).toBeGreaterThanOrEqual(0.9);
    expect(int8.latencyMs.int8.batch32).toBeGreaterThan(0);
    expect(int8.speedup.batch32).toBeCloseTo(
      int8.latencyMs.float32.batch32 / int8.latencyMs.int8.batch32,
      10,
    );
    expect(int8.sizeBytes.int8).toBeLessThan(int8.sizeBytes.float32);
    expect(result.onnx!.verification.inputs).toBe('dataset');
    expect(ctx.events.some((e) => e.type === 'stage' && e.stage === 'calibrate int8')).toBe(true);
    expect((await fs.stat(to)).size).toBe(int8.sizeBytes.int8);
  });

  it('percentile calibration is an option', async () => {
    const to = path.join(root, 'int8-percentile.onnx');
    const s = spec({ to, quantize: 'int8', data: dataDir, calibration: 40, calibrationMethod: 'percentile' });
    const result = await runExportModelJob(s, createMemoryContext(BACKEND));
    expect(result.onnx!.int8!.calibration.method).toBe('percentile');
    expect(result.onnx!.int8!.accuracy.agreement).toBeGreaterThanOrEqual(0.9);
  });

  it('refuses int8 without data, and tfjs dtypes for ONNX, before opening anything', async () => {
    const ctx = createMemoryContext(BACKEND);
    const missing = {
      ...spec({ to: path.join(root, 'x.onnx'), quantize: 'int8' }),
      model: path.join(root, 'none'),
    };
    await expect(runExportModelJob(missing, ctx)).rejects.toThrow('--quantize int8 needs --data D');
    expect(ctx.events).toEqual([]);
    await expect(
      runExportModelJob(spec({ to: path.join(root, 'x.onnx'), quantize: 'int8' }), ctx),
    ).rejects.toThrow('--quantize int8 needs --data D: its training split calibrates the activation ranges');
    await expect(
      runExportModelJob(spec({ to: path.join(root, 'x.onnx'), quantize: 'uint8' }), ctx),
    ).rejects.toThrow('--quantize uint8 is for tfjs; ONNX export takes --quantize int8');
    const tfjs = exportModelSpecSchema.parse({
      kind: 'export-model',
      model: modelDir,
      format: 'tfjs',
      to: path.join(root, 'tfjs'),
      quantize: 'int8',
    });
    await expect(runExportModelJob(tfjs, ctx)).rejects.toThrow(
      '--quantize int8 and --data are for --format onnx',
    );
  });
});
