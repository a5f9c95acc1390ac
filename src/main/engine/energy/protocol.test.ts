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
      repetitions: 3,
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
    // 5 W during the runs, 5 W idle: nothing above the idle baseline, so no figure (never 0 or negative).
    expect(model.net).toMatchObject({ label: 'unavailable', median: null });
    expect(model.net.reason).toMatch(/^below the idle baseline: not measurable/);
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
      interval: [150 / 400, 160 / 300],
      verdict: 'saving',
    });
    const modelled = summariseEpochEnergy([{ joules: 100, label: 'modelled:tdp-load', source: 'TDP' }]);
    expect(compareEnergy('total', original, modelled)).toEqual({
      id: 'total',
      label: 'unavailable',
      ratio: null,
      saving: null,
      interval: null,
      verdict: 'unavailable',
      reason: 'obtained differently: measured:counter against modelled:tdp-load',
    });
  });
});

/** mulberry32: a small seeded generator, so every noise draw is reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A synthetic power trace on a fake clock: the machine idles at `idleWatts`; each measured run of
 * a model draws its power × (1 + noise) for its duration × (1 + noise), noise uniform in ±`noise`.
 */
async function syntheticRun(options: {
  seed: number;
  idleWatts: number;
  watts: { original: number; compressed: number };
  ms: { original: number; compressed: number };
  noise: number;
  repetitions?: number;
  /** A source that knows its idle power (0 W, the process-scoped CPU model) and quick's `unless-known`. */
  knownIdle?: boolean;
}) {
  const random = seeded(options.seed);
  const jitter = (): number => 1 + options.noise * (2 * random() - 1);
  let now = 0;
  const busy: { from: number; to: number; watts: number }[] = [];
  const clock = (): number => now;
  const power = (at: number): number =>
    busy.find((span) => at >= span.from && at < span.to)?.watts ?? options.idleWatts;
  const run = (role: 'original' | 'compressed') => async () => {
    const ms = Math.round(options.ms[role] * jitter());
    busy.push({ from: now, to: now + ms, watts: options.watts[role] * jitter() });
    now += ms;
  };
  return measureInferenceEnergy({
    workloads: { original: run('original'), compressed: run('compressed') },
    samplesPerRun: 1000,
    idleSeconds: 0.2,
    ...(options.repetitions !== undefined ? { repetitions: options.repetitions } : {}),
    sources: [
      options.knownIdle
        ? new FakeEnergySource({ id: 'cpu-tdp', kind: 'modelled', clock, watts: power, idleWatts: 0 })
        : new FakeEnergySource({ id: 'rapl', clock, watts: power }),
    ],
    ...(options.knownIdle ? { recordIdle: 'unless-known' as const } : {}),
    clock,
    sleep: async (ms: number) => {
      now += ms;
    },
  });
}

/** Every number under a key that holds energy or power in a result: none may be negative. */
function negativeEnergies(value: unknown, key = ''): string[] {
  if (typeof value === 'number') {
    return /joules|median|min|max|q1|q3|values|watts/i.test(key) && value < 0 ? [`${key}: ${value}`] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item) => negativeEnergies(item, key));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => negativeEnergies(v, k === 'values' ? key || k : k));
  }
  return [];
}

describe('synthetic power traces with known answers', () => {
  it('one figure on a side is too few to tell a difference from noise (op counts excepted)', () => {
    const stat = (joules: number[], label: 'measured:counter' | 'modelled:op-count') =>
      summariseEpochEnergy(joules.map((j) => ({ joules: j, label, source: 's' })));
    expect(
      compareEnergy('t', stat([40], 'measured:counter'), stat([20, 21], 'measured:counter')),
    ).toMatchObject({
      saving: null,
      verdict: 'no measurable difference',
      reason:
        'no measurable difference: too few repeated figures to tell a difference from noise (1 against 2; 2 or more on each side are needed)',
    });
    expect(
      compareEnergy('t', stat([40], 'modelled:op-count'), stat([20], 'modelled:op-count')),
    ).toMatchObject({
      ratio: 0.5,
      saving: 0.5,
      verdict: 'saving',
    });
  });

  it('idle power above active power: the idle-subtracted figures are not measurable, never negative', async () => {
    const result = await syntheticRun({
      seed: 1,
      idleWatts: 50,
      watts: { original: 30, compressed: 20 },
      ms: { original: 100, compressed: 100 },
      noise: 0.02,
    });
    expect(result.original.total.net).toMatchObject({ label: 'unavailable', median: null, values: [] });
    expect(result.original.total.net.reason).toMatch(/^below the idle baseline: not measurable/);
    expect(result.compressed.total.net.median).toBeNull();
    const total = result.savings.find((saving) => saving.id === 'total')!;
    expect(total).toMatchObject({ ratio: null, saving: null, verdict: 'unavailable' });
    expect(result.original.total.gross.median).toBeGreaterThan(0); // the gross figure is still there
    expect(negativeEnergies(result)).toEqual([]);
  });

  it('two identical models: "no measurable difference" in at least 9 of 10 seeded noise draws', async () => {
    const verdicts: (string | undefined)[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const result = await syntheticRun({
        seed,
        idleWatts: 10,
        watts: { original: 60, compressed: 60 },
        ms: { original: 100, compressed: 100 },
        noise: 0.1,
      });
      const total = result.savings.find((saving) => saving.id === 'total')!;
      verdicts.push(total.verdict);
      if (total.verdict === 'no measurable difference') {
        expect(total.saving).toBeNull();
        expect(total.interval![0]).toBeLessThanOrEqual(1);
        expect(total.interval![1]).toBeGreaterThanOrEqual(1);
        expect(total.reason).toMatch(
          /^no measurable difference: the repeated figures overlap \(original ÷ compressed between ×[\d.]+ and ×[\d.]+\)$/,
        );
      }
      expect(negativeEnergies(result)).toEqual([]);
    }
    expect(
      verdicts.filter((verdict) => verdict === 'no measurable difference').length,
    ).toBeGreaterThanOrEqual(9);
  });

  it('--energy quick (idle known, not recorded): identical models "no measurable difference" in ≥ 9 of 10, a 2× saving contains 2', async () => {
    const verdicts: (string | undefined)[] = [];
    let contains = 0;
    for (let seed = 1; seed <= 10; seed++) {
      // This job's own CPU power only: nothing is drawn between the runs.
      const same = await syntheticRun({
        seed,
        idleWatts: 0,
        watts: { original: 4, compressed: 4 },
        ms: { original: 100, compressed: 100 },
        noise: 0.1,
        knownIdle: true,
      });
      expect(same.idle).toMatchObject({ seconds: 0, watts: [{ id: 'cpu-tdp', watts: 0 }] });
      expect(same.original.total.net.values).toEqual(same.original.total.gross.values);
      verdicts.push(same.savings.find((saving) => saving.id === 'total')!.verdict);
      expect(negativeEnergies(same)).toEqual([]);
      const half = await syntheticRun({
        seed,
        idleWatts: 0,
        watts: { original: 4, compressed: 4 },
        ms: { original: 200, compressed: 100 },
        noise: 0.05,
        knownIdle: true,
      });
      const total = half.savings.find((saving) => saving.id === 'total')!;
      expect(total.verdict).toBe('saving');
      if (1 / total.interval![1] <= 2 && 1 / total.interval![0] >= 2) contains++;
    }
    expect(
      verdicts.filter((verdict) => verdict === 'no measurable difference').length,
    ).toBeGreaterThanOrEqual(9);
    expect(contains).toBeGreaterThanOrEqual(9);
  });

  it('a real 2× saving is reported as a saving whose interval contains 2 (9 of 10 seeded draws)', async () => {
    let contains = 0;
    for (let seed = 1; seed <= 10; seed++) {
      // Half the time at the same power, idle 10 W: net energy exactly halves on average.
      const result = await syntheticRun({
        seed,
        idleWatts: 10,
        watts: { original: 60, compressed: 60 },
        ms: { original: 200, compressed: 100 },
        noise: 0.05,
      });
      const total = result.savings.find((saving) => saving.id === 'total')!;
      expect(total.verdict).toBe('saving');
      expect(total.saving).toBeGreaterThan(0);
      // The factor (original ÷ compressed) interval is the reciprocal of the ratio interval.
      // The range interval covers the true ratio unless every run of one model fell on one side
      // of every run of the other (for five runs each, 1 time in 252 per side).
      const [low, high] = total.interval!;
      if (1 / high <= 2 && 1 / low >= 2) contains++;
      expect(1 / high).toBeGreaterThan(1.5); // ±5% on power and time each, per run
      expect(1 / low).toBeLessThan(2.7);
    }
    expect(contains).toBeGreaterThanOrEqual(9);
  });

  it('a noisy machine: a 10% difference inside ±40% noise is "no measurable difference", never a saving', async () => {
    const verdicts: string[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      // Other work on the machine: each run's power and time vary by up to ±40%.
      const result = await syntheticRun({
        seed,
        idleWatts: 10,
        watts: { original: 60, compressed: 60 },
        ms: { original: 110, compressed: 100 },
        noise: 0.4,
      });
      const total = result.savings.find((saving) => saving.id === 'total')!;
      verdicts.push(total.verdict ?? 'none');
      if (total.verdict !== 'saving') expect(total.saving).toBeNull();
      expect(negativeEnergies(result)).toEqual([]);
    }
    expect(
      verdicts.filter((verdict) => verdict === 'no measurable difference').length,
    ).toBeGreaterThanOrEqual(9);
    // The same noise does not hide a real 3× saving.
    const real = await syntheticRun({
      seed: 1,
      idleWatts: 10,
      watts: { original: 60, compressed: 60 },
      ms: { original: 300, compressed: 100 },
      noise: 0.4,
    });
    expect(real.savings.find((saving) => saving.id === 'total')!.verdict).toBe('saving');
  });

  it('an energy saving whose runs got slower beyond the noise is not shown as a saving', async () => {
    // The compressed model draws less power but takes 1.5× as long: less energy, more time.
    const result = await syntheticRun({
      seed: 3,
      idleWatts: 10,
      watts: { original: 100, compressed: 30 },
      ms: { original: 100, compressed: 150 },
      noise: 0.02,
    });
    const total = result.savings.find((saving) => saving.id === 'total')!;
    expect(total.ratio).toBeLessThan(1);
    expect(total).toMatchObject({ verdict: 'contradicts latency', saving: null });
    expect(total.reason).toMatch(/^not shown as a saving/);
  });
});
