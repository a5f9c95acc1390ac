import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadNvmlWithKoffi, NvmlSource, type NvmlApi } from './nvml';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-nvml-'));
let library: string | null = null;
try {
  // fake-nvml.c has NVML's signatures; every energy read adds 1.5 J; GPU 1's counter is above 2^32 mJ.
  const fake = fileURLToPath(new URL('./fake-nvml.c', import.meta.url));
  execFileSync('cc', ['-shared', '-fPIC', '-o', path.join(dir, 'libfake-nvml.so'), fake]);
  library = path.join(dir, 'libfake-nvml.so');
} catch {
  // No C compiler: the FFI tests below say they are skipped.
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.FAKE_NVML_NO_ENERGY;
});

let now = 0;
const clock = (): number => now;

describe('NVML through koffi', () => {
  it('names the library that could not be loaded', async () => {
    expect(() => loadNvmlWithKoffi('/nonexistent/libnvidia-ml.so.1')).toThrow(
      '/nonexistent/libnvidia-ml.so.1 not found',
    );
    const source = new NvmlSource({ load: () => loadNvmlWithKoffi('/nonexistent/libnvidia-ml.so.1') });
    expect(await source.probe()).toEqual({
      ok: false,
      reason: 'NVML could not be loaded: /nonexistent/libnvidia-ml.so.1 not found',
    });
    expect(() => loadNvmlWithKoffi(undefined, 'darwin')).toThrow('NVML is not available on darwin');
  });

  it.skipIf(library === null)('marshals handles, names and 64-bit millijoule counters', () => {
    const api = loadNvmlWithKoffi(library!);
    expect(api.init()).toBe(0);
    expect(api.deviceCount()).toEqual({ status: 0, count: 2 });
    const { status, handle } = api.deviceHandle(1);
    expect(status).toBe(0);
    expect(api.deviceName(handle)).toEqual({ status: 0, name: 'Fake GPU 1' });
    expect(api.totalEnergyMillijoules(handle)).toEqual({ status: 0, millijoules: 5_000_001_500 });
    expect(api.powerMilliwatts(handle)).toEqual({ status: 0, milliwatts: 80_000 });
    expect(api.errorString(3)).toBe('Not Supported');
    expect(api.shutdown()).toBe(0);
  });

  it.skipIf(library === null)('uses the energy counter where every GPU has one', async () => {
    const source = new NvmlSource({ load: () => loadNvmlWithKoffi(library!), clock });
    expect(await source.probe()).toEqual({
      ok: true,
      detail: 'GPU 0 (Fake GPU 0, energy counter), GPU 1 (Fake GPU 1, energy counter)',
      label: 'measured:counter',
    });
    const reader = await source.open();
    expect(reader.label).toBe('measured:counter');
    now = 1000;
    const a = reader.mark();
    now = 3000;
    const b = reader.mark();
    expect(reader.joulesBetween(a, b)).toBeCloseTo(3, 9); // 1.5 J per GPU per read
    expect(reader.watts()).toBeCloseTo(1.5, 9); // 3 J over the 2 s since the previous estimate
    await reader.close();
  });

  it.skipIf(library === null)('samples power where the counter is NOT_SUPPORTED (pre-Volta)', async () => {
    process.env.FAKE_NVML_NO_ENERGY = '1';
    const source = new NvmlSource({ load: () => loadNvmlWithKoffi(library!), intervalMs: 20 });
    expect(await source.probe()).toMatchObject({ ok: true, label: 'measured:sampled' });
    const reader = await source.open();
    const start = reader.mark();
    await new Promise((resolve) => setTimeout(resolve, 150));
    const end = reader.mark();
    await reader.settle(end.at);
    expect(reader.label).toBe('measured:sampled');
    expect(reader.watts()).toBe(200);
    expect(reader.joulesBetween(start, end)! / ((end.at - start.at) / 1000)).toBeCloseTo(200, 6);
    await reader.close();
  });
});

describe('NVML status handling', () => {
  const failing = (init: number): NvmlApi => ({
    init: () => init,
    shutdown: () => 0,
    errorString: (status) => (status === 9 ? 'Driver Not Loaded' : 'Unknown Error'),
    deviceCount: () => ({ status: 0, count: 0 }),
    deviceHandle: () => ({ status: 0, handle: null }),
    deviceName: () => ({ status: 0, name: '' }),
    totalEnergyMillijoules: () => ({ status: 3, millijoules: 0 }),
    powerMilliwatts: () => ({ status: 3, milliwatts: 0 }),
  });

  it('reports the NVML error instead of a figure', async () => {
    expect(await new NvmlSource({ load: () => failing(9) }).probe()).toEqual({
      ok: false,
      reason: 'nvmlInit_v2 failed: Driver Not Loaded',
    });
    expect(await new NvmlSource({ load: () => failing(0) }).probe()).toEqual({
      ok: false,
      reason: 'NVML reports no GPU',
    });
  });
});
