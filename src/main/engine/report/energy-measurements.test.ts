/**
 * The compress run's energy measurements on a tiny model, with a fake energy source on a fake
 * clock: the per-epoch and per-1,000-sample figures come out exactly as computed by hand.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainingOptionsSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { sequentialCnn } from '../compress/test-models';
import { DEFAULT_NORMALIZATION } from '../data';
import type { DatasetSplit } from '../data/types';
import { EnergyMeter } from '../energy/meter';
import { FakeEnergySource } from '../energy/fake-source';
import { summariseFigures } from '../energy/stats';
import { createMemoryContext } from '../job/context';
import { tf } from '../tf';
import { trainModel } from '../train/loop';
import {
  baselineTrainingEnergy,
  compareLikeForLike,
  compareTrainingEpochs,
  epochEnergyFigures,
  measureInference,
  measureCompressEnergy,
  measureMiniEpochs,
  steadyEpochs,
} from './energy-measurements';
import { compressSpecSchema } from '../../../shared/jobs';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
const training = trainingOptionsSchema.parse({ learningRate: 0.01 });

function split(count: number): DatasetSplit {
  const images = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 64; p++) images[i * 64 + p] = (i * 31 + p * 7) % 256;
  }
  return { images, labels, count };
}

/** A fake clock that only moves when told: each training step costs 100 ms at 10 W. */
function fakeMachine(watts: number | ((at: number) => number)) {
  const state = { now: 5_000_000 };
  const clock = (): number => state.now;
  const sources = [
    new FakeEnergySource({
      id: 'rapl',
      covers: ['cpu', 'dram'],
      clock,
      watts: 0,
      unavailable: 'no powercap',
    }),
    new FakeEnergySource({ id: 'cpu-tdp', kind: 'modelled', clock, watts }),
  ];
  return { state, clock, sources };
}

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-energy-measurements-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('training energy per epoch', () => {
  it('fine-tuning epochs: differences of the cumulative energy each epoch carries', async () => {
    const machine = fakeMachine(10);
    const meter = await EnergyMeter.start({ sources: machine.sources, clock: machine.clock });
    const model = sequentialCnn();
    try {
      const outcome = await trainModel(
        model,
        { train: split(96), validation: split(24), shape: [8, 8, 1], classes: 3 },
        {
          training,
          batchSize: 16,
          seed: 1,
          epochs: 2,
          normalization: DEFAULT_NORMALIZATION,
          energy: meter,
          hooks: { afterStep: () => void (machine.state.now += 100) },
        },
        createMemoryContext(BACKEND),
      );
      // 96 samples / 16 = 6 steps per epoch × 0.1 s × 10 W = 6 J per epoch.
      const figures = epochEnergyFigures(outcome.history);
      expect(figures.map((figure) => figure.label)).toEqual(['modelled:tdp-load', 'modelled:tdp-load']);
      expect(figures[0]!.joules).toBeCloseTo(6, 9);
      expect(figures[1]!.joules).toBeCloseTo(6, 9);
      expect(figures[0]!.source).toBe('fake cpu-tdp');
    } finally {
      await meter.stop();
      model.dispose();
    }
  });

  it('an epoch after a resume (the cumulative figure restarted) or without energy is unavailable, with why', () => {
    const figure = (joules: number | null) => ({
      watts: 1,
      total:
        joules === null
          ? { joules: null, label: 'unavailable' as const, source: 'none', reason: 'no source' }
          : { joules, label: 'measured:counter' as const, source: 'RAPL' },
    });
    const base = { loss: 1, accuracy: 0.5, learningRate: 0.1, seconds: 1, samplesPerSecond: 1 };
    const figures = epochEnergyFigures([
      { ...base, epoch: 1, energy: figure(10) },
      { ...base, epoch: 2, energy: figure(25) },
      { ...base, epoch: 3, energy: figure(4) },
      { ...base, epoch: 4 },
      { ...base, epoch: 5, energy: figure(null) },
    ]);
    expect(figures.map((f) => f.joules)).toEqual([10, 15, null, null, null]);
    expect(figures.map((f) => f.reason)).toEqual([
      undefined,
      undefined,
      'epoch 3: the run was resumed (a new meter started)',
      'epoch 4: no energy recorded',
      'no source',
    ]);
  });

  it('the original in mini-epochs: N batches plus the same share of validation, scaled to an epoch', async () => {
    const machine = fakeMachine(10);
    const model = sequentialCnn();
    try {
      const side = await measureMiniEpochs(
        model,
        {
          train: split(96),
          validation: split(24),
          shape: [8, 8, 1],
          classes: 3,
          normalization: DEFAULT_NORMALIZATION,
        },
        {
          batches: 2,
          repetitions: 3,
          batchSize: 16,
          seed: 1,
          training,
          sources: machine.sources,
          clock: machine.clock,
          hooks: { afterStep: () => void (machine.state.now += 100) },
        },
        createMemoryContext(BACKEND),
      );
      // 2 batches × 0.1 s × 10 W = 2 J for a third of the epoch (32 of 96 samples): 6 J per epoch.
      // The first mini-epoch is the warm-up: left out.
      expect(side.epochs.map((figure) => figure.joules)).toEqual([
        expect.closeTo(6, 9),
        expect.closeTo(6, 9),
      ]);
      expect(side.warmupExcluded).toBe(1);
      expect(side.samplesPerEpoch).toEqual([96, 96]);
      expect(side.perEpoch.median).toBeCloseTo(6, 9);
      expect(side.perEpoch.label).toBe('modelled:tdp-load');
      expect(side.detail).toBe(
        'measured here: 3 mini-epochs of the original, the first left out as warm-up, each 2 batches of 16 (32 of 96 training samples) plus 8 of 24 validation samples, scaled ×3.000 to a whole epoch',
      );
    } finally {
      model.dispose();
    }
  });

  it('compares only figures with the same label and source', () => {
    const stat = (joules: number[], label: 'measured:counter' | 'modelled:tdp-load', source: string) =>
      summariseFigures(joules.map((j) => ({ joules: j, label, source })));
    expect(
      compareLikeForLike(
        't',
        stat([30, 32], 'modelled:tdp-load', 'cpu'),
        stat([12, 13], 'modelled:tdp-load', 'cpu'),
      ),
    ).toEqual({
      id: 't',
      label: 'modelled:tdp-load',
      ratio: 12.5 / 31,
      saving: 1 - 12.5 / 31,
      interval: [12 / 32, 13 / 30],
      verdict: 'saving',
    });
    expect(
      compareLikeForLike(
        't',
        stat([30], 'measured:counter', 'RAPL a'),
        stat([12], 'measured:counter', 'RAPL b'),
      ),
    ).toMatchObject({
      ratio: null,
      reason: 'obtained from different sources: RAPL a against RAPL b',
    });
    expect(
      compareLikeForLike('t', stat([30], 'measured:counter', 'x'), stat([12], 'modelled:tdp-load', 'x')),
    ).toMatchObject({
      ratio: null,
      reason: 'obtained differently: measured:counter against modelled:tdp-load',
    });
  });

  it('like for like: warm-up epochs left out on both sides, and epochs of different sizes not compared', () => {
    const epoch = (n: number, cumulativeJoules: number, seconds: number, samples: number) => ({
      epoch: n,
      loss: 1,
      accuracy: 0.5,
      learningRate: 0.01,
      seconds,
      samplesPerSecond: samples / seconds,
      energy: {
        watts: 8,
        total: { joules: cumulativeJoules, label: 'modelled:tdp-load' as const, source: 'cpu' },
      },
    });
    // As issue 14 saw it: the original's first epoch took 10.9 s (warm-up), the others about 5 s.
    const original = steadyEpochs([
      epoch(1, 87, 10.9, 1000),
      epoch(2, 127, 5, 1000),
      epoch(3, 168, 5.1, 1000),
    ]);
    const compressed = steadyEpochs([
      epoch(1, 50, 6.4, 1000),
      epoch(2, 74, 2.9, 1000),
      epoch(3, 97, 2.9, 1000),
    ]);
    expect(original.epochs.map((figure) => figure.joules)).toEqual([40, 41]);
    expect(compressed.epochs.map((figure) => figure.joules)).toEqual([24, 23]);
    const side = (steady: ReturnType<typeof steadyEpochs>) => ({
      epochs: steady.epochs,
      perEpoch: summariseFigures(steady.epochs),
      samplesPerEpoch: steady.samples,
      detail: '',
    });
    const comparison = compareTrainingEpochs(side(original), side(compressed));
    expect(comparison.verdict).toBe('saving');
    // 23.5 / 40.5, not 50 / 87 with the warm-up in.
    expect(comparison.ratio).toBeCloseTo(23.5 / 40.5, 12);
    const smaller = steadyEpochs([epoch(1, 50, 6.4, 500), epoch(2, 74, 2.9, 500), epoch(3, 97, 2.9, 500)]);
    expect(compareTrainingEpochs(side(original), side(smaller))).toMatchObject({
      ratio: null,
      saving: null,
      verdict: 'unavailable',
      reason:
        'not compared: the epochs trained on different numbers of samples (original 1000, compressed 500 per epoch)',
    });
  });

  it('uses a baseline train run only when it trained on the same data, batch size, limit and backend', async () => {
    const dir = path.join(root, 'baseline');
    await fs.mkdir(dir, { recursive: true });
    const cumulative = (j: number) => ({
      watts: 1,
      total: { joules: j, label: 'measured:counter', source: 'RAPL' },
    });
    await fs.writeFile(
      path.join(dir, 'training.json'),
      JSON.stringify({
        backend: 'wasm',
        dataset: { source: '/data/set' },
        history: [
          { epoch: 1, energy: cumulative(40) },
          { epoch: 2, energy: cumulative(82) },
          { epoch: 3, energy: cumulative(125) },
        ],
      }),
    );
    const expectation = { data: '/data/set', batchSize: 64, backend: 'wasm', explicit: true };
    const used = await baselineTrainingEnergy(dir, expectation);
    // The first epoch (warm-up) is left out.
    expect('epochs' in used && used.epochs.map((figure) => figure.joules)).toEqual([42, 43]);
    expect(await baselineTrainingEnergy(dir, { ...expectation, data: '/other' })).toEqual({
      reason: `${dir}: trained on /data/set, not on /other`,
    });
    expect(await baselineTrainingEnergy(dir, { ...expectation, backend: 'cpu' })).toEqual({
      reason: `${dir}: trained on wasm, this run uses cpu`,
    });
    expect(await baselineTrainingEnergy(dir, { ...expectation, explicit: false })).toEqual({
      reason: `${dir}: no run.json to check its batch size`,
    });
    await fs.writeFile(path.join(dir, 'run.json'), JSON.stringify({ spec: { batchSize: 32 } }));
    expect(await baselineTrainingEnergy(dir, expectation)).toEqual({
      reason: `${dir}: batch size 32, this run uses 64`,
    });
  });
});

describe('inference energy per 1,000 samples', () => {
  it('runs the protocol on both models: gross and idle-subtracted, per 1,000 samples at batch 32', async () => {
    const busy: [number, number][] = [];
    const machine = fakeMachine((at) => (busy.some(([from, to]) => at >= from && at < to) ? 10 : 2));
    const original = sequentialCnn(1);
    const compressed = sequentialCnn(2);
    const calls = { original: 0, compressed: 0 };
    const tensorsBefore = tf.memory().numTensors;
    try {
      const result = await measureInference(original, compressed, {
        repetitions: 3,
        warmupRuns: 1,
        idleSeconds: 2,
        runSeconds: 1,
        originalBatchMs: 100,
        sources: machine.sources,
        clock: machine.clock,
        sleep: async (ms) => void (machine.state.now += ms),
        // Each run really predicts; its time on the fake clock is 200 ms (original) or 50 ms.
        wrapWorkload: (role, run) => async () => {
          await run();
          calls[role] += 1;
          const ms = role === 'original' ? 200 : 50;
          busy.push([machine.state.now, machine.state.now + ms]);
          machine.state.now += ms;
        },
      });
      // 1 s / 100 ms per batch = 10 batches of 32 = 320 samples per run.
      expect(result.samplesPerRun).toBe(320);
      expect(calls).toEqual({ original: 4, compressed: 4 });
      expect(result.order).toEqual([
        'original',
        'compressed',
        'compressed',
        'original',
        'original',
        'compressed',
      ]);
      expect(result.idle.watts.find((w) => w.id === 'cpu-tdp')!.watts).toBeCloseTo(2, 9);
      const perThousand = 1000 / 320;
      expect(result.original.total.gross.median).toBeCloseTo(10 * 0.2 * perThousand, 9);
      expect(result.original.total.net.median).toBeCloseTo(8 * 0.2 * perThousand, 9);
      expect(result.compressed.total.net.median).toBeCloseTo(8 * 0.05 * perThousand, 9);
      expect(result.savings[0]!.ratio).toBeCloseTo(0.25, 9);
      expect(result.original.sources.find((s) => s.id === 'rapl')!.net).toMatchObject({
        label: 'unavailable',
        median: null,
        reason: 'no powercap',
      });
      // Inputs and outputs are disposed.
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    } finally {
      original.dispose();
      compressed.dispose();
    }
  });
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
