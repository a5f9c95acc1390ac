import { describe, expect, it } from 'vitest';
import { plainEnergyLabel } from './energy-words';

describe('energy labels in plain words', () => {
  it('says how each figure was obtained, refined by its source', () => {
    expect(plainEnergyLabel('measured:counter', 'NVML GPU 0 (NVIDIA H200)')).toBe(
      "measured by the GPU's energy counter",
    );
    expect(plainEnergyLabel('measured:counter', 'RAPL package-0 + dram')).toBe(
      "measured by the CPU's energy counter (RAPL)",
    );
    expect(plainEnergyLabel('measured:sampled', 'nvidia-smi power.draw')).toBe(
      "measured: the GPU's power, sampled over time",
    );
    expect(
      plainEnergyLabel(
        'modelled:tdp-load',
        'CPU model: Test CPU 8 W TDP, linear load curve, this process only',
      ),
    ).toBe("estimated: CPU power × this job's CPU time");
    expect(plainEnergyLabel('modelled:tdp-load', 'CPU model: Test CPU 8 W TDP, linear load curve')).toBe(
      "estimated: CPU power × the machine's CPU load",
    );
    expect(plainEnergyLabel('modelled:op-count', 'op-count: Horowitz 45 nm, 0.9 V (fp32)')).toBe(
      'estimated from operation counts (45 nm table)',
    );
    expect(
      plainEnergyLabel(
        'modelled:tdp-load',
        'CPU model: 20 W user-given, linear load curve, this process only',
      ),
    ).toBe("estimated: CPU power (user-given) × this job's CPU time");
    expect(plainEnergyLabel('modelled:tdp-load')).toBe('estimated: CPU power × CPU load');
    expect(plainEnergyLabel('unavailable')).toBe('not available');
  });
});
