import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainSpecSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { setComputeThreads } from '../backend/threads';
import { writeIdx } from '../data/idx-writer';
import type { DatasetSplit } from '../data/types';
import { createMemoryContext } from '../job/context';
import { openModel } from '../model/registry';
import { tf, tfl } from '../tf';
import { Rng } from '../util/rng';
import { energySaving } from './dense-comparison';
import {
  type ChannelMasks,
  defaultStableEpochs,
  earlyBirdFires,
  maskDistance,
  PruneWhileTraining,
} from './prune-while-training';
import { runTrainJob, TRAINING_FILE } from './train-job';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };

describe('maskDistance', () => {
  it('is the fraction of channels whose keep/remove bit differs, over all groups', () => {
    const a: ChannelMasks = { g1: { channels: 8, removed: [0, 1, 2, 3] }, g2: { channels: 2, removed: [1] } };
    const b: ChannelMasks = { g1: { channels: 8, removed: [0, 1, 2, 4] }, g2: { channels: 2, removed: [0] } };
    // g1: 3 and 4 differ; g2: 0 and 1 differ → 4 of 10 channels.
    expect(maskDistance(a, b)).toBe(0.4);
    expect(maskDistance(b, a)).toBe(0.4);
    expect(maskDistance(a, a)).toBe(0);
    const c: ChannelMasks = { g1: { channels: 8, removed: [] }, g2: { channels: 2, removed: [1] } };
    expect(maskDistance(a, c)).toBe(0.4);
  });

  it('refuses mask sets of different models', () => {
    const a: ChannelMasks = { g1: { channels: 8, removed: [] } };
    expect(() => maskDistance(a, { g1: { channels: 4, removed: [] } })).toThrow('group g1 differs');
    expect(() => maskDistance(a, { ...a, g2: { channels: 1, removed: [] } })).toThrow('different groups');
  });
});

describe('earlyBirdFires', () => {
  it('fires once the last N distances are all under the threshold', () => {
    expect(earlyBirdFires([null], 0.1, 2)).toBe(false);
    expect(earlyBirdFires([null, 0.3, 0.05], 0.1, 2)).toBe(false);
    expect(earlyBirdFires([null, 0.3, 0.05, 0.08], 0.1, 2)).toBe(true);
    // Exactly at the threshold is not under it.
    expect(earlyBirdFires([null, 0.05, 0.1], 0.1, 2)).toBe(false);
    // A relapse resets the count.
    expect(earlyBirdFires([null, 0.05, 0.2, 0.05], 0.1, 2)).toBe(false);
    expect(earlyBirdFires([null, 0.09, 0.09, 0.2, 0.05, 0.04, 0.03], 0.1, 3)).toBe(true);
    expect(earlyBirdFires([null, 0.09, 0.09, 0.2, 0.05, 0.04], 0.1, 3)).toBe(false);
    // The first epoch has no predecessor, so it never counts as stable.
    expect(earlyBirdFires([null], 0.1, 1)).toBe(false);
    expect(earlyBirdFires([null, 0.0], 0.1, 1)).toBe(true);
  });

  it('waits 3 stable epochs on long runs and 2 on short ones', () => {
    expect(defaultStableEpochs(8)).toBe(2);
    expect(defaultStableEpochs(20)).toBe(3);
  });
});

describe('energySaving', () => {
  it('compares only figures obtained the same way', () => {
    const rapl = { label: 'measured:counter' as const, source: 'RAPL package-0' };
    expect(energySaving({ ...rapl, joules: 300 }, { ...rapl, joules: 150 })).toEqual({ ratio: 2, ...rapl });
    const modelled = { label: 'modelled:tdp-load' as const, source: 'TDP table', joules: 150 };
    expect(energySaving({ ...rapl, joules: 300 }, modelled)).toMatchObject({
      ratio: null,
      label: 'unavailable',
    });
    expect(energySaving({ ...rapl, joules: null }, { ...rapl, joules: 150 }).ratio).toBeNull();
  });
});

/** Two classes of 4×4 images (bright top or bottom half, plus noise): vgg-small stays cheap on the cpu backend. */
function halves(count: number, seed: number): DatasetSplit {
  const rng = new Rng(seed);
  const images = new Uint8Array(count * 16);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    labels[i] = label;
    for (let p = 0; p < 16; p++) {
      const bright = p < 8 === (label === 0);
      images[i * 16 + p] = Math.min(255, (bright ? 150 : 20) + rng.nextInt(90));
    }
  }
  return { images, labels, count };
}

describe('train --prune-while-training', () => {
  let root: string;
  let dataDir: string;
  const spec = (out: string, extra: Record<string, unknown> = {}): ReturnType<typeof trainSpecSchema.parse> =>
    trainSpecSchema.parse({
      kind: 'train',
      data: dataDir,
      arch: 'vgg-small',
      out: path.join(root, out),
      batchSize: 16,
      seed: 5,
      threads: 1,
      training: { epochs: 3, validationSplit: 0.2 },
      pruneWhileTraining: { targetMacs: 0.5, pruneAtEpoch: 1 },
      ...extra,
    });

  beforeAll(async () => {
    await tf.setBackend('cpu');
    setComputeThreads(1);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-pwt-'));
    dataDir = path.join(root, 'halves');
    await fs.mkdir(dataDir);
    await writeIdx(dataDir, 'train', halves(60, 1), [4, 4, 1]);
    await writeIdx(dataDir, 't10k', halves(20, 2), [4, 4, 1]);
    await fs.writeFile(path.join(dataDir, 'classes.txt'), 'top\nbottom\n');
  });
  afterAll(async () => {
    setComputeThreads(undefined);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('prunes after the given epoch, trains the small model to the end and records it, then the dense one', async () => {
    const ctx = createMemoryContext(BACKEND);
    const result = await runTrainJob(
      spec('pruned', { pruneWhileTraining: { targetMacs: 0.5, pruneAtEpoch: 1, compareDense: true } }),
      ctx,
    );
    const record = result.pruneWhileTraining!;
    expect(record.prunedAtEpoch).toBe(1);
    expect(record.reason).toBe('fixed-epoch');
    expect(record.maskDistances).toEqual([null]);
    const removed = 1 - record.macsAfter / record.macsBefore;
    expect(removed).toBeGreaterThanOrEqual(0.5);
    expect(removed).toBeLessThan(0.6);
    expect(record.paramsAfter).toBeLessThan(record.paramsBefore);
    // The saved model is the pruned one, trained for all 3 epochs.
    expect(result.epochs).toBe(3);
    expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(result.macs).toBeLessThan(result.dense!.macs * 0.5 + 1);
    expect(result.dense!.epochs).toBe(3);
    expect(result.dense!.accuracy).toBeGreaterThan(0);
    expect(result.savings!.wallTime.ratio).toBeCloseTo(result.dense!.wallSeconds / result.wallSeconds, 9);
    expect(result.savings!.wallTime.label).toBe('measured:wall-clock');
    expect(result.savings!.cpuTime.ratio).toBeCloseTo(result.dense!.cpuSeconds! / result.cpuSeconds, 9);
    expect(result.cpuSeconds).toBeGreaterThan(0);
    const saved = await openModel(path.join(root, 'pruned', 'model'));
    expect(saved.model.countParams()).toBe(result.params);
    saved.model.dispose();
    const written = JSON.parse(await fs.readFile(path.join(root, 'pruned', TRAINING_FILE), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(written.pruneWhileTraining).toEqual(JSON.parse(JSON.stringify(record)));
    expect(written).toHaveProperty('dense.wallSeconds');
    expect(written).toHaveProperty('savings.energy');
    const stages = ctx.events
      .filter((e) => e.type === 'stage')
      .map((e) => (e.type === 'stage' ? e.stage : ''));
    expect(stages).toContain('prune');
    expect(stages).toContain('train dense');
  }, 240_000);

  it('keeps every pruned layer a multiple of --round-to channels', async () => {
    const result = await runTrainJob(
      spec('rounded', { pruneWhileTraining: { targetMacs: 0.5, pruneAtEpoch: 1, roundTo: 4 } }),
      createMemoryContext(BACKEND),
    );
    expect(result.pruneWhileTraining!.prunedAtEpoch).toBe(1);
    const saved = await openModel(path.join(root, 'rounded', 'model'));
    const widths = saved.model.layers
      .filter((layer) => layer.getClassName() === 'Conv2D')
      .map((layer) => (layer.getConfig() as { filters: number }).filters);
    saved.model.dispose();
    expect(widths.length).toBeGreaterThan(0);
    expect(widths.filter((w) => w % 4 !== 0)).toEqual([]);
    // Widths are rounded up, so the cut never exceeds the target by more than the planner's step.
    expect(
      1 - result.pruneWhileTraining!.macsAfter / result.pruneWhileTraining!.macsBefore,
    ).toBeLessThanOrEqual(0.6);
  }, 240_000);

  it('compares with a finished dense run named by --dense-run, and refuses one with other settings', async () => {
    const denseSpec = spec('dense-ref', { pruneWhileTraining: undefined });
    const dense = await runTrainJob(denseSpec, createMemoryContext(BACKEND));
    // run.json is the job host's; written here as it would be for a finished run.
    const runJson = { status: 'completed', spec: denseSpec, resumes: 0 };
    await fs.writeFile(path.join(root, 'dense-ref', 'run.json'), JSON.stringify(runJson));
    const reference = path.join(root, 'dense-ref');
    const result = await runTrainJob(
      spec('with-ref', { pruneWhileTraining: { targetMacs: 0.5, pruneAtEpoch: 1, denseRun: reference } }),
      createMemoryContext(BACKEND),
    );
    expect(result.dense).toMatchObject({ source: reference, accuracy: dense.accuracy, macs: dense.macs });
    expect(result.savings!.wallTime.ratio).toBeCloseTo(dense.wallSeconds / result.wallSeconds, 9);
    await expect(
      runTrainJob(
        spec('other-seed', {
          seed: 6,
          pruneWhileTraining: { targetMacs: 0.5, pruneAtEpoch: 1, denseRun: reference },
        }),
        createMemoryContext(BACKEND),
      ),
    ).rejects.toThrow(`--dense-run ${reference}: the seed differs (5 there, 6 here)`);
  }, 240_000);

  it('shrinks in two steps, each removing half the target of the original MACs', async () => {
    const ctx = createMemoryContext(BACKEND);
    const tensorsBefore = tf.memory().numTensors;
    const result = await runTrainJob(
      spec('steps', { pruneWhileTraining: { targetMacs: 0.5, pruneAtEpoch: 1, pruneSteps: 2 } }),
      ctx,
    );
    // The dense model, the first step's and the final one are all disposed.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const record = result.pruneWhileTraining!;
    expect(record.steps.map((s) => s.epoch)).toEqual([1, 2]);
    expect(record.prunedAtEpoch).toBe(1);
    const [first, second] = record.steps;
    expect(1 - first!.macsAfter / first!.macsBefore).toBeGreaterThanOrEqual(0.25);
    expect(1 - first!.macsAfter / first!.macsBefore).toBeLessThan(0.35);
    expect(second!.macsBefore).toBe(first!.macsAfter);
    expect(record.macsBefore).toBe(first!.macsBefore);
    expect(record.macsAfter).toBe(second!.macsAfter);
    expect(1 - record.macsAfter / record.macsBefore).toBeGreaterThanOrEqual(0.5);
    expect(1 - record.macsAfter / record.macsBefore).toBeLessThan(0.6);
    // After a step, the masks of the pruned model start a fresh history.
    expect(record.maskDistances).toEqual([null, null]);
    const stages = ctx.events
      .filter((e) => e.type === 'stage')
      .map((e) => (e.type === 'stage' ? e.stage : ''));
    expect(stages.filter((s) => s.startsWith('prune'))).toEqual(['prune 1/2', 'prune 2/2']);
  }, 240_000);

  it('resumes after the prune with the pruned model and ends with the weights of an uninterrupted run', async () => {
    const uninterrupted = await runTrainJob(spec('straight'), createMemoryContext(BACKEND));
    const controller = new AbortController();
    const ctx = createMemoryContext(BACKEND, controller);
    const emit = ctx.emit;
    ctx.emit = (event) => {
      emit(event);
      // The first batch of an epoch always reports: cancel after it, one batch into the pruned model's training.
      if (event.type === 'batch' && event.epoch === 2 && event.batch === 1) controller.abort();
    };
    await expect(runTrainJob(spec('resumed'), ctx)).rejects.toThrow('cancelled by the user');
    const resumed = await runTrainJob(spec('resumed', { resume: true }), createMemoryContext(BACKEND));
    expect(resumed.pruneWhileTraining).toEqual(uninterrupted.pruneWhileTraining);
    expect(resumed.params).toBe(uninterrupted.params);
    const a = await openModel(path.join(root, 'straight', 'model'));
    const b = await openModel(path.join(root, 'resumed', 'model'));
    const weightsA = await Promise.all(a.model.getWeights().map(async (w) => Array.from(await w.data())));
    const weightsB = await Promise.all(b.model.getWeights().map(async (w) => Array.from(await w.data())));
    expect(weightsB).toEqual(weightsA);
    a.model.dispose();
    b.model.dispose();
  }, 240_000);
});

describe('the BN-scale penalty', () => {
  it('adds λ·sign(γ) to the gradient of every BN scale, and nothing after the prune', async () => {
    await tf.setBackend('cpu');
    const model = tfl.sequential();
    model.add(tfl.layers.dense({ inputShape: [2], units: 3, name: 'fc' }));
    model.add(tfl.layers.batchNormalization({ name: 'bn' }));
    const bn = model.getLayer('bn');
    bn.setWeights([tf.tensor1d([0.5, -2, 0]), tf.zeros([3]), tf.zeros([3]), tf.ones([3])]);
    const gamma = bn.trainableWeights.find((w) => w.originalName.endsWith('gamma'))!.read() as tf.Variable;
    const kernel = model.getLayer('fc').trainableWeights[0]!.read() as tf.Variable;
    const grads: tf.NamedTensorMap = {
      [gamma.name]: tf.tensor1d([0.1, 0.1, 0.1]),
      [kernel.name]: tf.zerosLike(kernel),
    };
    const pruner = new PruneWhileTraining(
      { targetMacs: 0.5, bnL1: 0.01, maskThreshold: 0.1, pruneSteps: 1, roundTo: 1, compareDense: false },
      4,
      undefined,
      createMemoryContext(BACKEND),
    );
    pruner.hooks().beforeApply!(model, grads);
    const values = Array.from(await grads[gamma.name]!.data());
    expect(values[0]).toBeCloseTo(0.11, 6);
    expect(values[1]).toBeCloseTo(0.09, 6);
    expect(values[2]).toBeCloseTo(0.1, 6);
    expect(Array.from(await grads[kernel.name]!.data()).every((v) => v === 0)).toBe(true);
    pruner.restore({ ...(pruner.hooks().saveState!() as object), prunedAtEpoch: 1, steps: [{ epoch: 1 }] });
    const before = grads[gamma.name]!;
    pruner.hooks().beforeApply!(model, grads);
    expect(grads[gamma.name]).toBe(before);
    tf.dispose(Object.values(grads));
    model.dispose();
  });
});
