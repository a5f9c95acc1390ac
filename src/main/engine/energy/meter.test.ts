import { describe, expect, it } from 'vitest';
import { FakeEnergySource } from './fake-source';
import { EnergyMeter } from './meter';

function machine(now: () => number): FakeEnergySource[] {
  return [
    new FakeEnergySource({ id: 'powermetrics', clock: now, watts: 1, unavailable: 'opt-in: needs root' }),
    new FakeEnergySource({ id: 'rapl', covers: ['cpu', 'dram'], clock: now, watts: 50 }),
    new FakeEnergySource({ id: 'nvml', covers: ['gpu'], clock: now, watts: 200 }),
    new FakeEnergySource({
      id: 'nvidia-smi',
      covers: ['gpu'],
      label: 'measured:sampled',
      clock: now,
      watts: 999,
    }),
    new FakeEnergySource({ id: 'cpu-tdp', kind: 'modelled', clock: now, watts: 30 }),
  ];
}

describe('EnergyMeter', () => {
  it('adds measured sources once, keeps the model beside them, and never shows a missing source as 0', async () => {
    let now = 0;
    const meter = await EnergyMeter.start({ sources: machine(() => now), clock: () => now });
    expect(meter.states.map((state) => [state.id, state.status, state.label, state.reason])).toEqual([
      ['powermetrics', 'unavailable', 'unavailable', 'opt-in: needs root'],
      ['rapl', 'open', 'measured:counter', undefined],
      ['nvml', 'open', 'measured:counter', undefined],
      ['nvidia-smi', 'covered', 'unavailable', 'not started: nvml already measures the gpu'],
      ['cpu-tdp', 'open', 'modelled:tdp-load', undefined],
    ]);
    const start = meter.snapshot();
    now = 2000;
    const end = meter.snapshot();
    const window = meter.window(start, end, { rapl: 10, nvml: 20, 'cpu-tdp': null });
    expect(window.seconds).toBe(2);
    expect(window.total).toEqual({ joules: 500, label: 'measured:counter', source: 'fake rapl + fake nvml' });
    expect(window.totalIds).toEqual(['rapl', 'nvml']);
    expect(window.totalNetJoules).toBe(440); // 500 J − (10 + 20) W × 2 s
    expect(window.sources.map((source) => [source.id, source.figure.joules, source.figure.label])).toEqual([
      ['powermetrics', null, 'unavailable'],
      ['rapl', 100, 'measured:counter'],
      ['nvml', 400, 'measured:counter'],
      ['nvidia-smi', null, 'unavailable'],
      ['cpu-tdp', 60, 'modelled:tdp-load'],
    ]);
    expect(window.sources[0]!.figure.reason).toBe('opt-in: needs root');
    expect(window.sources[4]).toMatchObject({ averageWatts: 30, idleWatts: null, netJoules: null });
    expect(meter.sample()).toEqual({
      watts: 250,
      total: { joules: 500, label: 'measured:counter', source: 'fake rapl + fake nvml' },
    });
    const first = meter.sample();
    now = 2050; // within sampleIntervalMs (100 ms): the last reading is repeated, nothing is read
    expect(meter.sample()).toBe(first);
    now = 2100;
    expect(meter.sample().total.joules).toBe(525);
    const whole = await meter.stop();
    expect(whole.total.joules).toBe(525);
    expect(await meter.stop()).toBe(whole);
  });

  it('labels a sum with a sampled part as sampled', async () => {
    let now = 0;
    const meter = await EnergyMeter.start({
      clock: () => now,
      sources: [
        new FakeEnergySource({ id: 'rapl', clock: () => now, watts: 10 }),
        new FakeEnergySource({
          id: 'smi',
          covers: ['gpu'],
          label: 'measured:sampled',
          clock: () => now,
          watts: 5,
        }),
      ],
    });
    now = 1000;
    expect(meter.sample().total).toEqual({
      joules: 15,
      label: 'measured:sampled',
      source: 'fake rapl + fake smi',
    });
    await meter.stop();
  });

  it('falls back to the CPU model, and to unavailable with every reason when nothing works', async () => {
    let now = 0;
    const modelled = await EnergyMeter.start({
      clock: () => now,
      sources: [
        new FakeEnergySource({ id: 'rapl', clock: () => now, watts: 1, unavailable: 'no powercap' }),
        new FakeEnergySource({ id: 'cpu-tdp', kind: 'modelled', clock: () => now, watts: 8 }),
      ],
    });
    now = 500;
    expect(modelled.sample()).toEqual({
      watts: 8,
      total: { joules: 4, label: 'modelled:tdp-load', source: 'fake cpu-tdp' },
    });
    await modelled.stop();

    const nothing = await EnergyMeter.start({
      clock: () => now,
      sources: [
        new FakeEnergySource({ id: 'rapl', clock: () => now, watts: 1, unavailable: 'no powercap' }),
        new FakeEnergySource({
          id: 'nvml',
          covers: ['gpu'],
          clock: () => now,
          watts: 1,
          unavailable: 'no driver',
        }),
      ],
    });
    now = 1500;
    expect(nothing.sample()).toEqual({
      watts: null,
      total: {
        joules: null,
        label: 'unavailable',
        source: 'no energy source',
        reason: 'rapl: no powercap; nvml: no driver',
      },
    });
    await nothing.stop();
  });
});
