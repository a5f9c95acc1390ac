/**
 * The per-epoch training energy of a compress run on a tiny model, with a fake energy source on a fake
 * clock: the per-epoch figures come out exactly as computed by hand.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequentialCnn } from '../compress/test-models';
import { DEFAULT_NORMALIZATION } from '../data';
import { createMemoryContext } from '../job/context';
import { tf } from '../tf';
import { trainModel } from '../train/loop';
import { EnergyMeter } from './meter';
import { summariseFigures } from './stats';
import { BACKEND, fakeMachine, split, training } from './test-machine';
import {
  baselineTrainingEnergy,
  compareLikeForLike,
  compareTrainingEpochs,
  epochEnergyFigures,
  steadyEpochs,
} from './training-energy';
import { measureMiniEpochs } from './mini-epochs';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-training-energy-'));
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
