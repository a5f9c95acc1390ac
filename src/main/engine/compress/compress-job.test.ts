import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressSpecSchema, planSpecSchema, sensitivitySpecSchema } from '../../../shared/jobs';
import { writeBandsFixture } from './bands-fixture';
import type { BackendReport } from '../../../shared/types';
import { createMemoryContext } from '../job/context';
import { openModel } from '../model/registry';
import { tf } from '../tf';
import { runCompress, runPlan, runSensitivity } from './compress-job';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
/** Latency measured briefly: these tests check the records, not the timings. */
const FAST = { latency: { warmup: 1, runs: 3 } };
let root: string;
let dataDir: string;
let modelDir: string;

function spec(out: string, extra: Record<string, unknown>): ReturnType<typeof compressSpecSchema.parse> {
  return compressSpecSchema.parse({
    kind: 'compress',
    model: modelDir,
    data: dataDir,
    out: path.join(root, out),
    batchSize: 16,
    finetuneEpochs: 1,
    // Energy measurement has its own tests (energy/ and report/); here it would only add seconds.
    energy: { measure: false },
    ...extra,
  });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-compress-job-'));
  ({ dataDir, modelDir } = await writeBandsFixture(root, 96));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
}

describe('runCompress', () => {
  it('structured: a genuinely smaller exported model, with before/after records on disk', async () => {
    const s = spec('structured', { method: 'structured', targetMacs: 0.5 });
    const result = await runCompress(s, createMemoryContext(BACKEND), FAST);
    expect(result.after.macs).toBeLessThanOrEqual(result.before.macs * 0.5);
    expect(result.after.params).toBeLessThan(result.before.params);
    expect(result.after.sizeBytes).toBeLessThan(result.before.sizeBytes);
    expect(result.before.accuracy).toBeGreaterThan(0.6);
    expect(result.evaluation).toEqual({ split: 'test', samples: 48 });
    expect(result.structured!.steps).toHaveLength(1);
    expect(result.fineTune.map((f) => [f.stage, f.epochs])).toEqual([['fine-tune', 1]]);
    expect(result.realised[0]).toMatch(/^Structured pruning removed whole channels/);
    expect([result.accuracy, result.params, result.macs]).toEqual([
      result.after.accuracy,
      result.after.params,
      result.after.macs,
    ]);
    expect(result.energy.after.label).toBe('modelled:op-count');
    expect(result.energy.after.joules!).toBeLessThan(result.energy.before.joules!);
    expect(result.latency.before.runs).toEqual({ batch1: 3, batch32: 3 });
    // The exported model is the one described, and reloads with the after-figures.
    const exported = await openModel(result.modelPath);
    expect(exported.model.countParams()).toBe(result.after.params);
    exported.model.dispose();
    expect(result.layers.find((l) => l.name === 'conv2')!.outChannelsAfter).toBeLessThan(8);
    // Both models on ONNX Runtime as float32 score what they score on TensorFlow.js.
    const onnx = result.onnxRuntime!;
    expect([onnx.before.format, onnx.after.format]).toEqual(['float32', 'float32']);
    expect(onnx.evaluation).toEqual(result.evaluation);
    expect(onnx.before.accuracy).toBeCloseTo(result.before.accuracy, 6);
    expect(onnx.after.accuracy).toBeCloseTo(result.after.accuracy, 6);
    expect(onnx.after.sizeBytes).toBeLessThan(onnx.before.sizeBytes);
    expect(result.realised.at(-1)).toMatch(/^Deployed on ONNX Runtime \(CPU\), both as float32: batch 32 /);
    expect(await readJson(path.join(s.out, 'compression.json'))).toEqual(JSON.parse(JSON.stringify(result)));
  });

  it('structured in steps: each step prunes toward the target and fine-tunes', async () => {
    const s = spec('steps', { method: 'structured', targetParams: 0.6, steps: 2, criterion: 'bn' });
    const result = await runCompress(s, createMemoryContext(BACKEND), FAST);
    const steps = result.structured!.steps;
    expect(steps.map((step) => step.step)).toEqual([1, 2]);
    expect(result.fineTune.map((f) => f.stage)).toEqual(['fine-tune 1/2', 'fine-tune 2/2']);
    // Step 1 removes about 30% of the original parameters, step 2 the rest of the 60%.
    expect(1 - steps[0]!.totals.paramsAfter / result.before.params).toBeGreaterThanOrEqual(0.3);
    expect(1 - result.after.params / result.before.params).toBeGreaterThanOrEqual(0.6);
    await expect(fs.access(path.join(s.out, 'steps'))).rejects.toThrow();
  });

  it('magnitude: the zeros shrink the gzipped file, and the output says latency does not change', async () => {
    const s = spec('magnitude', { method: 'magnitude', sparsity: 0.8, scope: 'global' });
    const result = await runCompress(s, createMemoryContext(BACKEND), FAST);
    const layers = result.magnitude!.layers;
    const zeros = layers.reduce((n, l) => n + l.zeros, 0) / layers.reduce((n, l) => n + l.count, 0);
    expect(zeros).toBeCloseTo(0.8, 2);
    expect(result.after.params).toBe(result.before.params);
    expect(result.after.sizeGzipBytes).toBeLessThan(result.before.sizeGzipBytes / 2);
    expect(result.realised[0]).toContain(
      'latency, memory at run time and compute do not change on TensorFlow.js',
    );
    expect(result.layers.find((l) => l.name === 'fc1')!.sparsity).toBeGreaterThan(0.5);
  });

  it('quantize: uint8 in the manifest, accuracy measured on the weights read back', async () => {
    const s = spec('uint8', { method: 'quantize', dtype: 'uint8', finetuneEpochs: 0 });
    const result = await runCompress(s, createMemoryContext(BACKEND), FAST);
    expect(result.after.weightDtype).toBe('uint8');
    // One byte per weight in the shards (model.json, the topology, is the rest of the folder).
    const names = await fs.readdir(result.modelPath);
    const shardBytes = await Promise.all(
      names
        .filter((n) => n.endsWith('.bin'))
        .map(async (n) => (await fs.stat(path.join(result.modelPath, n))).size),
    );
    expect(shardBytes.reduce((a, b) => a + b, 0)).toBe(result.after.params);
    expect(result.after.sizeBytes).toBeLessThan(result.before.sizeBytes);
    expect(Math.abs(result.accuracyDropPoints)).toBeLessThan(10);
    expect(result.realised[0]).toContain('dequantizes them to float32 when it loads the model');
    const manifest = (await readJson(path.join(result.modelPath, 'model.json'))).weightsManifest as {
      weights: { quantization?: { dtype: string } }[];
    }[];
    expect(manifest[0]!.weights.every((w) => w.quantization?.dtype === 'uint8')).toBe(true);
    // On ONNX Runtime the 8-bit run is deployed as int8 QDQ, calibrated on training samples.
    const onnx = result.onnxRuntime!;
    expect([onnx.before.format, onnx.after.format]).toEqual(['float32', 'int8']);
    expect(onnx.calibration?.method).toBe('minmax');
    // (QDQ's scales and zero points are a large part of so small a model.)
    expect(onnx.after.sizeBytes).toBeLessThan(onnx.before.sizeBytes);
    expect(result.realised.at(-1)).toContain('the compressed model as int8');
  });

  it('qat: fine-tunes on fake-quantized weights and reports post-training quantization beside it', async () => {
    const s = spec('qat', { method: 'qat', dtype: 'uint8', granularity: 'tensor' });
    const result = await runCompress(s, createMemoryContext(BACKEND), FAST);
    expect(result.quantization!.granularity).toBe('tensor');
    expect(result.quantization!.ptqAccuracy).toBeGreaterThan(0.3);
    expect(result.after.weightDtype).toBe('uint8');
    // 96 training samples less the validation hold-out: the note states the 87 really used.
    expect(result.notes).toEqual([
      `BatchNormalization statistics of the compressed model were re-estimated on 87 training samples after fine-tuning (adaptive BN); the original model is evaluated as given, and scores ${(result.originalBnRecalibratedAccuracy! * 100).toFixed(2)}% with its statistics re-estimated the same way`,
    ]);
    expect(result.originalBnRecalibratedAccuracy).toBeGreaterThan(0.3);
  });

  it('structured+quantize in automatic mode: sensitivity files, chosen ratios, budget verdict', async () => {
    const s = spec('auto', {
      method: 'structured+quantize',
      accuracyBudget: 5,
      targetMacs: 0.3,
      criterion: 'l2',
    });
    const result = await runCompress(s, createMemoryContext(BACKEND), FAST);
    const auto = result.structured!.auto!;
    expect(Object.keys(auto.ratios).length).toBeGreaterThan(0);
    expect(auto.budgetMet).toBe(result.accuracyDropPoints <= 5);
    expect(auto.sensitivityFile).toBe(path.join(s.out, 'sensitivity.json'));
    const csv = await fs.readFile(path.join(s.out, 'sensitivity.csv'), 'utf8');
    expect(csv.trimEnd().split('\n')).toHaveLength(1 + 3 * 9);
    expect(result.after.weightDtype).toBe('uint8');
    // Structured, quantized, and deployed on ONNX Runtime as int8.
    expect(result.realised).toHaveLength(3);
    expect(result.onnxRuntime?.after.format).toBe('int8');
  });

  it('refuses a structured run without a target, and automatic mode with a params target', async () => {
    const refuse = (extra: Record<string, unknown>): Promise<unknown> =>
      runCompress(spec('bad', extra), createMemoryContext(BACKEND), FAST);
    await expect(refuse({ method: 'structured' })).rejects.toThrow(
      'compress --method structured needs --target-macs, --target-params or --accuracy-budget',
    );
    await expect(refuse({ method: 'structured', accuracyBudget: 1, targetParams: 0.5 })).rejects.toThrow(
      'compress: automatic mode (--accuracy-budget) takes --target-macs, not --target-params',
    );
    await expect(refuse({ method: 'magnitude' })).rejects.toThrow(
      'compress --method magnitude needs --sparsity',
    );
  });
});

describe('runSensitivity and runPlan', () => {
  it('writes the sensitivity of every group as JSON and CSV', async () => {
    const out = path.join(root, 'sensitivity');
    const result = await runSensitivity(
      sensitivitySpecSchema.parse({
        kind: 'sensitivity',
        model: modelDir,
        data: dataDir,
        out,
        samples: 6,
        ratios: [0.5],
      }),
      createMemoryContext(BACKEND),
    );
    expect(result.samples).toBe(6);
    expect(result.groups.map((g) => [g.id, g.channelsAfter])).toEqual([
      ['conv1', [3]],
      ['conv2', [4]],
      ['fc1', [5]],
    ]);
    expect((await readJson(result.files.json)).baselineAccuracy).toBe(result.baselineAccuracy);
  });

  it('automatic mode reads a finished sensitivity run instead of measuring again', async () => {
    const sensitivityOut = path.join(root, 'sensitivity-for-auto');
    await runSensitivity(
      sensitivitySpecSchema.parse({
        kind: 'sensitivity',
        model: modelDir,
        data: dataDir,
        out: sensitivityOut,
        samples: 6,
        ratios: [0.25, 0.5],
      }),
      createMemoryContext(BACKEND),
    );
    const ctx = createMemoryContext(BACKEND);
    const s = spec('auto-reuse', {
      method: 'structured',
      accuracyBudget: 100,
      targetMacs: 0.2,
      sensitivityRun: sensitivityOut,
      finetuneEpochs: 0,
    });
    const result = await runCompress(s, ctx, FAST);
    expect(result.notes).toContain(`automatic mode used the sensitivity measured in ${sensitivityOut}`);
    // Nothing was measured: no sensitivity progress, and the run's copy holds the given ratios.
    expect(ctx.events.some((e) => e.type === 'progress' && e.stage === 'sensitivity')).toBe(false);
    const copy = JSON.parse(await fs.readFile(path.join(s.out, 'sensitivity.json'), 'utf8')) as {
      ratios: number[];
    };
    expect(copy.ratios).toEqual([0.25, 0.5]);
    expect(Object.values(result.structured!.auto!.ratios).every((r) => r === 0.25 || r === 0.5)).toBe(true);
  });

  it('sweeps dry runs over targets', async () => {
    const result = await runPlan(
      planSpecSchema.parse({ kind: 'plan', model: modelDir, targets: [0, 0.25, 0.5, 0.97] }),
      createMemoryContext(BACKEND),
    );
    expect(result.points.map((p) => p.target)).toEqual([0, 0.25, 0.5]);
    expect(result.points[0]!.macsAfter).toBe(result.points[0]!.macsBefore);
    for (const point of result.points.slice(1)) {
      expect(1 - point.macsAfter / point.macsBefore).toBeGreaterThanOrEqual(point.target);
    }
    expect(result.notes.at(-1)).toMatch(/^cannot remove 97\.0% of the MACs/);
    // Each point carries its per-layer table; the layers' parameters add up to the point's totals.
    for (const point of result.points) {
      expect(point.layers.reduce((sum, layer) => sum + layer.paramsBefore, 0)).toBe(point.paramsBefore);
      expect(point.layers.reduce((sum, layer) => sum + layer.paramsAfter, 0)).toBe(point.paramsAfter);
    }
    expect(result.points[0]!.layers.every((l) => l.outChannelsAfter === l.outChannelsBefore)).toBe(true);
    expect(result.points[2]!.layers.some((l) => l.outChannelsAfter < l.outChannelsBefore)).toBe(true);
  });
});
