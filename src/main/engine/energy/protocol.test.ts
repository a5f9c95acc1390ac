import { describe, expect, it } from 'vitest';
import type { EnergyFigure } from '../../../shared/types';
import { FakeEnergySource } from './fake-source';
import { compareEnergy, measureInferenceEnergy, summariseEpochEnergy } from './protocol';

/**
 * A simulated machine on a fake clock: 10 W idle; the original model draws 100 W, the
 * compressed one 60 W, for as long as its run lasts. A modelled source sees a flat 5 W.
 */
function simulation(durations: { original: number[]; compressed: number[] }) {
  let now = 0;
  const busy: { from: number; to: number; watts: number }[] = [];
  const clock = (): number => now;
  const power = (at: number): number => busy.find((span) => at >= span.from && at < span.to)?.watts ?? 10;
  const calls: string[] = [];
  const run = (role: 'original' | 'compressed', watts: number) => async () => {
    const measured = calls.filter((call) => call === role).length - 1; // the first call is the warm-up
    const ms = measured < 0 ? 50 : durations[role][measured]!;
    calls.push(role);
    busy.push({ from: now, to: now + ms, watts });
    now += ms;
  };
  return {
    clock,
    calls,
    sleep: async (ms: number) => {
      now += ms;
    },
    workloads: { original: run('original', 100), compressed: run('compressed', 60) },
    sources: [
      new FakeEnergySource({ id: 'rapl', clock, watts: power }),
      new FakeEnergySource({ id: 'nvml', covers: ['gpu'], clock, watts: 1, unavailable: 'no NVIDIA driver' }),
      new FakeEnergySource({ id: 'cpu-tdp', kind: 'modelled', clock, watts: 5 }),
    ],
  };
}

describe('inference energy protocol', () => {
  it('warms up, records idle, alternates ABBA and reports gross and net per 1,000 samples', async () => {
    const sim = simulation({ original: [1000, 1200, 800], compressed: [500, 500, 500] });
    const result = await measureInferenceEnergy({
      workloads: sim.workloads,
      samplesPerRun: 500,
      idleSeconds: 2,
      sources: sim.sources,
      clock: sim.clock,
      sleep: sim.sleep,
    });
    expect(sim.calls).toEqual([
      'original',
      'compressed', // warm-up
      'original',
      'compressed',
      'compressed',
      'original',
      'original',
      'compressed',
    ]);
    expect(result.order).toEqual([
      'original',
      'compressed',
      'compressed',
      'original',
      'original',
      'compressed',
    ]);
    expect(result.idle.seconds).toBe(2);
    const rounded = (value: number | null) => (value === null ? null : Math.round(value * 1e9) / 1e9);
    expect(result.idle.watts.map((idle) => [idle.id, rounded(idle.watts)])).toEqual([
      ['rapl', 10],
      ['nvml', null],
      ['cpu-tdp', 5],
    ]);

    // Original: 100, 120, 80 J per 500 samples → 200, 240, 160 J per 1,000; net subtracts 10 W × run time.
    const original = result.original.total;
    expect(original.gross.label).toBe('measured:counter');
    expect(original.gross.median).toBeCloseTo(200, 9);
    expect(original.gross.min).toBeCloseTo(160, 9);
    expect(original.gross.max).toBeCloseTo(240, 9);
    expect(original.gross.values.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([200, 240, 160]);
    expect(original.net.median).toBeCloseTo(180, 9);
    expect(original.net.min).toBeCloseTo(144, 9);
    expect(original.net.max).toBeCloseTo(216, 9);
    expect(result.original.seconds).toMatchObject({ median: 1, min: 0.8, max: 1.2 }); // fake clock: exact

    // Compressed: 30 J gross, 25 J net per run → 60 and 50 J per 1,000 samples.
    expect(result.compressed.total.gross.median).toBeCloseTo(60, 9);
    expect(result.compressed.total.net.median).toBeCloseTo(50, 9);

    const total = result.savings.find((saving) => saving.id === 'total')!;
    expect(total.label).toBe('measured:counter');
    expect(total.ratio).toBeCloseTo(50 / 180, 9);
    expect(total.saving).toBeCloseTo(1 - 50 / 180, 9);

    // The unavailable GPU stays unavailable, never 0; the model is summarised on its own label.
    const nvml = result.original.sources.find((source) => source.id === 'nvml')!;
    expect(nvml.gross).toMatchObject({ label: 'unavailable', median: null, reason: 'no NVIDIA driver' });
    expect(result.savings.find((saving) => saving.id === 'nvml')).toMatchObject({ ratio: null });
    const model = result.compressed.sources.find((source) => source.id === 'cpu-tdp')!;
    expect(model.gross).toMatchObject({ label: 'modelled:tdp-load' });
    expect(model.gross.median).toBeCloseTo(5, 9); // 5 W × 0.5 s per 500 samples
    expect(model.net.median).toBeCloseTo(0, 9);
  });

  it('insists on at least 3 repetitions', async () => {
    const sim = simulation({ original: [1], compressed: [1] });
    await expect(
      measureInferenceEnergy({
        workloads: sim.workloads,
        samplesPerRun: 10,
        repetitions: 2,
        sources: sim.sources,
      }),
    ).rejects.toThrow('energy protocol: repetitions must be an integer ≥ 3, got 2');
  });
});

describe('training energy per epoch', () => {
  it('gives median and spread of epochs, and compares only like with like', () => {
    const epoch = (joules: number): EnergyFigure => ({
      joules,
      label: 'measured:counter',
      source: 'RAPL package-0',
    });
    const original = summariseEpochEnergy([epoch(300), epoch(320), epoch(310), epoch(400)]);
    expect(original).toMatchObject({
      label: 'measured:counter',
      median: 315,
      min: 300,
      max: 400,
      q1: 307.5,
      q3: 340,
    });
    const finetune = summariseEpochEnergy([epoch(150), epoch(160)]);
    expect(compareEnergy('total', original, finetune)).toEqual({
      id: 'total',
      label: 'measured:counter',
      ratio: 155 / 315,
      saving: 1 - 155 / 315,
    });
    const modelled = summariseEpochEnergy([{ joules: 100, label: 'modelled:tdp-load', source: 'TDP' }]);
    expect(compareEnergy('total', original, modelled)).toEqual({
      id: 'total',
      label: 'unavailable',
      ratio: null,
      saving: null,
      reason: 'obtained differently: measured:counter against modelled:tdp-load',
    });
  });
});
