/**
 * A compress run's measured energy block on a tiny model, with a fake energy source on a fake clock.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressSpecSchema } from '../../../shared/jobs';
import { sequentialCnn } from '../compress/test-models';
import { DEFAULT_NORMALIZATION } from '../data';
import { createMemoryContext } from '../job/context';
import { tf } from '../tf';
import { FakeEnergySource } from './fake-source';
import { BACKEND, split } from './test-machine';
import { measureCompressEnergy } from './compress-energy';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-compress-energy-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('a compress run without a baseline run', () => {
  it('--energy quick (the default): no extra training passes, and says how to get them', async () => {
    const sources = [
      new FakeEnergySource({
        id: 'rapl',
        covers: ['cpu', 'dram'],
        clock: () => performance.timeOrigin + performance.now(),
        watts: 20,
      }),
    ];
    const original = sequentialCnn(1);
    const compressed = sequentialCnn(2);
    const spec = compressSpecSchema.parse({
      kind: 'compress',
      model: path.join(root, 'no-such-model'),
      data: path.join(root, 'data'),
      out: path.join(root, 'out-quick'),
      method: 'structured',
      targetMacs: 0.5,
      batchSize: 16,
      energy: { idleSeconds: 0.05, runSeconds: 0.05, repetitions: 3 },
    });
    const epoch = (n: number, joules: number) => ({
      epoch: n,
      loss: 1,
      accuracy: 0.5,
      learningRate: 0.001,
      seconds: 1,
      samplesPerSecond: 96,
      energy: { watts: 20, total: { joules, label: 'measured:counter' as const, source: 'fake rapl' } },
    });
    let copies = 0;
    const ctx = createMemoryContext(BACKEND);
    try {
      const measured = await measureCompressEnergy(
        {
          spec,
          ctx,
          original,
          compressed,
          loadOriginalCopy: async () => {
            copies++;
            return sequentialCnn(1);
          },
          data: {
            source: 'memory',
            shape: [8, 8, 1],
            classes: 3,
            classNames: ['a', 'b', 'c'],
            normalization: DEFAULT_NORMALIZATION,
            train: split(96),
            validation: split(24),
            evaluation: split(24),
            evaluationSplit: 'test',
          },
          fineTunes: [{ stage: 'fine-tune', history: [epoch(1, 3), epoch(2, 7)] }],
          originalBatchMs: 5,
        },
        { sources, grid: { intensity: 360 } },
      );
      expect(measured.options.mode).toBe('quick');
      expect(copies).toBe(0);
      expect(measured.training.original.method).toBe('not-measured');
      expect(measured.training.original.perEpoch.reason).toMatch(
        /--energy quick adds no training passes \(--energy full measures mini-epochs of the original\)$/,
      );
      expect(measured.training.comparison.ratio).toBeNull();
      expect(measured.inference.status).toBe('measured');
      expect(
        ctx.events.filter((event) => event.type === 'stage').map((event) => 'stage' in event && event.stage),
      ).toEqual(['energy: inference']);
      // The inference phase shows progress with an ETA.
      const progress = ctx.events.filter((event) => event.type === 'progress');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)).toMatchObject({ stage: 'energy: inference', etaSeconds: 0 });
      expect(progress.every((event) => 'etaSeconds' in event && event.etaSeconds! >= 0)).toBe(true);
      // From the first event on, with an ETA, and ending full: never stuck on a run-sized step.
      expect(progress[0]).toMatchObject({ done: 0 });
      const last = progress.at(-1)!;
      expect('done' in last && last.done === last.total).toBe(true);
      // Quick reuses the latency stage's warm-up: no warm-up runs of its own.
      expect(measured.inference.status === 'measured' && measured.inference.result.warmupRuns).toBe(0);
    } finally {
      original.dispose();
      compressed.dispose();
    }
  });

  it('measures the original in mini-epochs and compares like for like with the fine-tuning epochs', async () => {
    const sources = [
      new FakeEnergySource({
        id: 'rapl',
        covers: ['cpu', 'dram'],
        clock: () => performance.timeOrigin + performance.now(),
        watts: 20,
      }),
    ];
    const original = sequentialCnn(1);
    const compressed = sequentialCnn(2);
    const spec = compressSpecSchema.parse({
      kind: 'compress',
      model: path.join(root, 'no-such-model'),
      data: path.join(root, 'data'),
      out: path.join(root, 'out'),
      method: 'structured',
      targetMacs: 0.5,
      batchSize: 16,
      energy: {
        mode: 'full',
        idleSeconds: 0.05,
        runSeconds: 0.05,
        trainingBatches: 2,
        trainingRepetitions: 3,
      },
    });
    const fineTuneEpoch = (epoch: number, joules: number) => ({
      epoch,
      loss: 1,
      accuracy: 0.5,
      learningRate: 0.001,
      seconds: 1,
      samplesPerSecond: 96, // the whole training split, as the mini-epochs are scaled to
      energy: { watts: 20, total: { joules, label: 'measured:counter' as const, source: 'fake rapl' } },
    });
    const ctx = createMemoryContext(BACKEND);
    try {
      const measured = await measureCompressEnergy(
        {
          spec,
          ctx,
          original,
          compressed,
          loadOriginalCopy: async () => sequentialCnn(1),
          data: {
            source: 'memory',
            shape: [8, 8, 1],
            classes: 3,
            classNames: ['a', 'b', 'c'],
            normalization: DEFAULT_NORMALIZATION,
            train: split(96),
            validation: split(24),
            evaluation: split(24),
            evaluationSplit: 'test',
          },
          fineTunes: [
            { stage: 'fine-tune', history: [fineTuneEpoch(1, 3), fineTuneEpoch(2, 7), fineTuneEpoch(3, 10)] },
          ],
          originalBatchMs: 5,
        },
        { sources, grid: { intensity: 360 } },
      );
      expect(measured.training.original.method).toBe('mini-epochs');
      expect(measured.training.original.epochs).toHaveLength(2); // 3 mini-epochs, the first left out
      expect(measured.training.original.perEpoch.label).toBe('measured:counter');
      expect(measured.training.original.perEpoch.median).toBeGreaterThan(0);
      // The first fine-tuning epoch (3 J, warm-up) is left out.
      expect(measured.training.compressed.epochs.map((figure) => figure.joules)).toEqual([4, 3]);
      expect(measured.training.comparison.label).toBe('measured:counter');
      expect(measured.training.comparison.ratio).toBeCloseTo(
        3.5 / measured.training.original.perEpoch.median!,
        12,
      );
      expect(measured.notes).toEqual([
        `no baseline training run to compare with (the original model has no train run beside it); the original's training energy was measured in mini-epochs`,
      ]);
      expect(measured.inference.status).toBe('measured');
      // 3.5 J per fine-tuning epoch at 360 g/kWh: 3.5 / 3.6e6 × 360 = 3.5e-4 g.
      expect(measured.carbon.training.compressed.grams).toBeCloseTo(3.5e-4, 12);
      expect(measured.carbon.training.compressed.intensitySource).toBe('user setting');
      // Inference carbon is of the gross energy (what the machine drew): 20 W all along.
      const inference = measured.inference.status === 'measured' ? measured.inference.result : undefined;
      expect(measured.carbon.inference!.original.grams).toBeCloseTo(
        (inference!.original.total.gross.median! / 3.6e6) * 360,
        12,
      );
      expect(measured.sources.map((source) => [source.id, source.status])).toEqual([['rapl', 'open']]);
      // Measurement epochs stay out of the run's history: no epoch or batch events.
      expect(ctx.events.filter((event) => event.type === 'epoch' || event.type === 'batch')).toEqual([]);
      expect(
        ctx.events.filter((event) => event.type === 'stage').map((event) => 'stage' in event && event.stage),
      ).toEqual([
        'energy: training',
        'energy: original mini-epoch 1/3',
        'energy: original mini-epoch 2/3',
        'energy: original mini-epoch 3/3',
        'energy: inference',
      ]);
    } finally {
      original.dispose();
      compressed.dispose();
    }
  });
});
