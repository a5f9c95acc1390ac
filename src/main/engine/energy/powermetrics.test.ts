import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  POWERMETRICS_OPT_IN,
  PowermetricsSource,
  PowermetricsTextParser,
  type PowermetricsSample,
} from './powermetrics';

// Shapes of `powermetrics --samplers cpu_power,gpu_power` text output: Apple silicon (macOS 13+),
// Apple silicon on macOS 12 (Package Power), and an Intel Mac.
const APPLE_SILICON = `
*** Sampled system activity (Wed May  1 12:00:00 2024 +0200) (200.51ms elapsed) ***

**** Processor usage ****

E-Cluster HW active frequency: 1020 MHz
P-Cluster HW active frequency: 2500 MHz

CPU Power: 1234 mW
GPU Power: 56 mW
ANE Power: 0 mW
Combined Power (CPU + GPU + ANE): 1290 mW

**** GPU usage ****

GPU HW active frequency: 389 MHz
GPU Power: 57 mW

*** Sampled system activity (Wed May  1 12:00:00 2024 +0200) (199.80ms elapsed) ***

CPU Power: 2000 mW
GPU Power: 100 mW
ANE Power: 0 mW
Combined Power (CPU + GPU + ANE): 2100 mW
`;
const MONTEREY = `
*** Sampled system activity (Mon Jan 10 09:00:00 2022 +0100) (1001.2ms elapsed) ***
CPU Power: 300 mW
GPU Power: 20 mW
Package Power: 450 mW
`;
const INTEL = `
*** Sampled system activity (Tue Feb  1 10:00:00 2022 -0800) (500.00ms elapsed) ***
CPU/GPU package C-state residency: 80.00%
Intel energy model derived package power (CPUs+GT+SA): 3.45W
`;
const CPU_ONLY = `
*** Sampled system activity (Tue Feb  1 10:00:00 2022 -0800) (250.00ms elapsed) ***
CPU Power: 800 mW
GPU Power: 150 mW
`;

function parseAll(text: string): PowermetricsSample[] {
  const parser = new PowermetricsTextParser();
  const samples: PowermetricsSample[] = [];
  for (const line of text.split('\n')) {
    const sample = parser.push(line);
    if (sample) samples.push(sample);
  }
  const last = parser.end();
  if (last) samples.push(last);
  return samples;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-powermetrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('powermetrics text parsing', () => {
  it('takes the combined power on Apple silicon, once per sample', () => {
    expect(parseAll(APPLE_SILICON)).toEqual([
      { elapsedMs: 200.51, watts: 1.29, parts: { cpu: 1.234, gpu: 0.056, ane: 0, combined: 1.29 } },
      { elapsedMs: 199.8, watts: 2.1, parts: { cpu: 2, gpu: 0.1, ane: 0, combined: 2.1 } },
    ]);
  });

  it('takes Package Power on macOS 12, the package on Intel, and CPU + GPU otherwise', () => {
    expect(parseAll(MONTEREY)).toEqual([
      { elapsedMs: 1001.2, watts: 0.45, parts: { cpu: 0.3, gpu: 0.02, package: 0.45 } },
    ]);
    expect(parseAll(INTEL)).toEqual([{ elapsedMs: 500, watts: 3.45, parts: { package: 3.45 } }]);
    const [cpuOnly, ...rest] = parseAll(CPU_ONLY);
    expect(rest).toEqual([]);
    expect(cpuOnly).toMatchObject({ elapsedMs: 250, parts: { cpu: 0.8, gpu: 0.15 } });
    expect(cpuOnly!.watts).toBeCloseTo(0.95, 12);
  });
});

describe('powermetrics source', () => {
  it('is opt-in and macOS only', async () => {
    expect(await new PowermetricsSource({ platform: 'darwin', enabled: false }).probe()).toEqual({
      ok: false,
      reason: POWERMETRICS_OPT_IN,
    });
    expect(await new PowermetricsSource({ platform: 'linux', enabled: true }).probe()).toEqual({
      ok: false,
      reason: 'powermetrics is macOS only; this is linux',
    });
  });

  it('streams samples from the child process once enabled', async () => {
    const exe = path.join(dir, 'powermetrics');
    const sample = CPU_ONLY.trim().replace(/\n/g, '\\n');
    writeFileSync(
      exe,
      `#!/bin/sh\ncase "$*" in *"-n 1"*) printf '${sample}\\n' ;; *) while true; do printf '${sample}\\n'; sleep 0.05; done ;; esac\n`,
    );
    chmodSync(exe, 0o755);
    const source = new PowermetricsSource({
      platform: 'darwin',
      enabled: true,
      executable: exe,
      isRoot: true,
      intervalMs: 50,
    });
    expect(await source.probe()).toEqual({
      ok: true,
      detail: 'powermetrics (cpu, gpu)',
      label: 'measured:sampled',
    });
    const reader = await source.open();
    await reader.settle(Date.now() + 100);
    const start = reader.mark();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const end = reader.mark();
    await reader.settle(end.at);
    expect(reader.joulesBetween(start, end)! / ((end.at - start.at) / 1000)).toBeCloseTo(0.95, 6);
    await reader.close();
  });
});
