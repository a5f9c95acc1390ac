import { describe, expect, it } from 'vitest';
import { EnergyMeter } from './meter';
import { defaultEnergySources, probeEnergySources } from './sources';

describe('energy sources on a machine with neither RAPL nor a GPU (like CI)', () => {
  const sources = () =>
    defaultEnergySources({
      platform: 'linux',
      powercapRoot: '/nonexistent/powercap',
      nvidiaSmi: '/nonexistent/nvidia-smi',
      loadNvml: () => {
        throw new Error('libnvidia-ml.so.1 not found');
      },
      powermetrics: false,
      cpu: { cpuModel: 'AMD EPYC', logicalCpus: 2 },
    });

  it('lists every source as working or why not', async () => {
    const info = await probeEnergySources(sources());
    expect(info.map(({ id, status, label, reason }) => ({ id, status, label, reason }))).toEqual([
      {
        id: 'rapl',
        status: 'unavailable',
        label: 'unavailable',
        reason:
          '/nonexistent/powercap does not exist: no powercap driver (intel_rapl_common not loaded, or a virtual machine)',
      },
      {
        id: 'nvml',
        status: 'unavailable',
        label: 'unavailable',
        reason: 'NVML could not be loaded: libnvidia-ml.so.1 not found',
      },
      {
        id: 'nvidia-smi',
        status: 'unavailable',
        label: 'unavailable',
        reason: '/nonexistent/nvidia-smi: not found',
      },
      {
        id: 'powermetrics',
        status: 'unavailable',
        label: 'unavailable',
        reason: 'powermetrics is macOS only; this is linux',
      },
      { id: 'cpu-tdp', status: 'working', label: 'modelled:tdp-load', reason: undefined },
    ]);
    expect(info[4]!.detail).toMatch(
      /^TDP table: AMD EPYC \(no exact entry: AMD EPYC \(model number not reported\), as AMD EPYC 7742\) 225 W × 2\/128 logical CPUs = 3\.5 W/,
    );
    // The CPU model charges this job's own CPU time, not the machine's load.
    expect(info[4]!.detail).toContain("this process's CPU time, idle share not attributed");
  });

  it('still gives a complete, clearly labelled report: modelled figures, measured ones unavailable', async () => {
    const meter = await EnergyMeter.start({ sources: sources() });
    const start = meter.snapshot();
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random()); // some load
    const window = meter.window(start, meter.snapshot());
    expect(window.total.label).toBe('modelled:tdp-load');
    // "AMD EPYC" (family rule: EPYC 7742, 225 W × 2/128 = 3.52 W), this process's CPU time only:
    // above 0 under load, at most the full share.
    expect(window.total.joules! / window.seconds).toBeGreaterThan(0);
    expect(window.total.joules! / window.seconds).toBeLessThanOrEqual(3.515625 + 1e-9);
    for (const source of window.sources.filter((candidate) => candidate.id !== 'cpu-tdp')) {
      expect(source.figure.joules).toBeNull();
      expect(source.figure.label).toBe('unavailable');
      expect(source.figure.reason).toMatch(/\S/);
    }
    await meter.stop();
  });

  it('describes whatever this machine has without throwing', async () => {
    for (const source of await probeEnergySources()) {
      if (source.status === 'working') expect(source.label).not.toBe('unavailable');
      else expect(source.reason).toMatch(/\S/);
    }
  });
});
