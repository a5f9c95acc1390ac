import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUNDLED_CPU_TDP_TABLE,
  CpuTdpSource,
  loadFactor,
  parseProcStat,
  rateCpu,
  setUserCpuWatts,
  userCpuWattsSetting,
} from './cpu-tdp';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-cpu-tdp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stat(user: number, system: number, idle: number, iowait: number): string {
  return `cpu  ${user} 0 ${system} ${idle} ${iowait} 0 0 0 0 0\ncpu0 ${user} 0 ${system} ${idle} ${iowait} 0 0 0 0 0\nintr 1\n`;
}

describe('TDP table', () => {
  it('matches vendor model names exactly, not their variants', () => {
    const tdp = (model: string): number | null => rateCpu(model, 1).entry?.tdpWatts ?? null;
    expect(tdp('AMD EPYC 7763 64-Core Processor')).toBe(280);
    expect(tdp('Intel(R) Xeon(R) Platinum 8480+')).toBe(350);
    expect(tdp('Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz')).toBe(270);
    expect(tdp('12th Gen Intel(R) Core(TM) i5-12400F')).toBe(65);
    expect(tdp('13th Gen Intel(R) Core(TM) i9-13900K')).toBe(125);
    expect(tdp('13th Gen Intel(R) Core(TM) i9-13900KS')).toBe(150); // not the 13900K's 125 W
    expect(tdp('AMD Ryzen 9 7950X3D 16-Core Processor')).toBe(120); // not the 7950X's 170 W
    expect(tdp('Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz')).toBe(135);
    expect(tdp('Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz')).toBe(15);
    expect(tdp('Apple M1')).toBe(10);
    expect(tdp('Apple M1 Pro')).toBeNull();
    expect(tdp('AMD Ryzen Threadripper PRO 5995WX 64-Cores')).toBe(280);
    for (const entry of [...BUNDLED_CPU_TDP_TABLE.entries, ...BUNDLED_CPU_TDP_TABLE.families]) {
      expect(BUNDLED_CPU_TDP_TABLE.sources[entry.source]).toBeDefined();
    }
    expect(BUNDLED_CPU_TDP_TABLE.sources.codecarbon).toContain('MIT licence');
    expect(BUNDLED_CPU_TDP_TABLE.entries.length).toBeGreaterThanOrEqual(250);
  });

  it('every exact entry matches its own model name, and only its own entry', () => {
    for (const entry of BUNDLED_CPU_TDP_TABLE.entries) {
      expect(rateCpu(entry.model, entry.threads).entry).toBe(entry);
    }
  });

  it('rates cloud and VM model strings by family, with the core count the name states', () => {
    const milan = rateCpu('AMD EPYC 7B13 64-Core Processor', 2);
    expect(milan.watts).toBe((225 * 2) / 128);
    expect(milan.brief).toBe(
      'AMD EPYC 7B13 64-Core Processor (no exact entry: AMD EPYC (3rd gen, Milan), 64-core part AMD EPYC 7713) 225 W TDP × 2/128 logical CPUs',
    );
    const genoa = rateCpu('AMD EPYC 9R14 96-Core Processor', 4);
    expect(genoa.watts).toBe(7.5); // 9654: 360 W × 4/192
    const iceLake = rateCpu('Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz', 8);
    expect(iceLake.watts).toBe(27); // 8380: 270 W × 8/80
    expect(iceLake.brief).toBe(
      'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz (no exact entry: Intel Xeon Scalable 3rd gen (Ice Lake), as Intel Xeon Platinum 8380) 270 W TDP × 8/80 logical CPUs',
    );
    expect(rateCpu('Intel Xeon Processor (Cascadelake)', 4).watts).toBe((205 * 4) / 56);
    expect(rateCpu('Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz', 4).watts).toBe((120 * 4) / 28);
    const epyc = rateCpu('AMD EPYC', 2); // what a VM here reports
    expect(epyc.watts).toBe(3.515625); // 7742: 225 W × 2/128
    expect(epyc.brief).toBe(
      'AMD EPYC (no exact entry: AMD EPYC (model number not reported), as AMD EPYC 7742) 225 W TDP × 2/128 logical CPUs',
    );
  });

  it('attributes a share of the package to the CPUs this OS sees, or states the fallback', () => {
    expect(rateCpu('AMD EPYC 7763 64-Core Processor', 2)).toMatchObject({
      watts: 4.375,
      detail:
        "TDP table: AMD EPYC 7763 64-Core Processor 280 W × 2/128 logical CPUs = 4.4 W (AMD product specification pages (amd.com, 'Default TDP'))",
    });
    expect(rateCpu('AMD EPYC 7763 64-Core Processor', 256).watts).toBe(560); // two sockets
    const fallback = rateCpu('Some Future CPU', 2);
    expect(fallback.watts).toBe(8);
    expect(fallback.brief).toBe('"Some Future CPU" not in the TDP table: assumed 4 W × 2 logical CPUs');
    expect(fallback.detail).toBe(
      `no TDP entry for "Some Future CPU": 4 W × 2 logical CPUs = 8 W (${BUNDLED_CPU_TDP_TABLE.fallback.note})`,
    );
  });
});

describe('load curve and utilisation', () => {
  it('computes the linear and cubic curves', () => {
    expect(loadFactor(0)).toBeCloseTo(0.1, 12);
    expect(loadFactor(0.5)).toBeCloseTo(0.55, 12);
    expect(loadFactor(1)).toBeCloseTo(1, 12);
    expect(loadFactor(0.5, { kind: 'cubic' })).toBeCloseTo(0.2125, 12);
    expect(loadFactor(2, { kind: 'linear', idleFraction: 0.3 })).toBe(1);
  });

  it('parses the cpu line of /proc/stat (idle includes iowait)', () => {
    expect(parseProcStat(stat(100, 50, 800, 50))).toEqual({ busy: 150, total: 1000 });
    expect(parseProcStat('intr 1\n')).toBeNull();
  });

  it('integrates TDP × load over time from /proc/stat deltas', async () => {
    const file = path.join(dir, 'stat');
    writeFileSync(file, stat(100, 50, 800, 50));
    let now = 0;
    const source = new CpuTdpSource({
      procStat: file,
      cpuModel: 'AMD EPYC 7763 64-Core Processor',
      logicalCpus: 128,
      clock: () => now,
    });
    const probe = await source.probe();
    expect(probe).toEqual({
      ok: true,
      label: 'modelled:tdp-load',
      detail:
        "TDP table: AMD EPYC 7763 64-Core Processor 280 W = 280 W (AMD product specification pages (amd.com, 'Default TDP')); machine-wide utilisation; linear load curve, idle 10 % of TDP",
    });
    const reader = await source.open();
    expect(reader.source).toBe('CPU model: AMD EPYC 7763 64-Core Processor 280 W TDP, linear load curve');
    const start = reader.mark();
    writeFileSync(file, stat(350, 100, 850, 100)); // +300 busy of +400: 75 %
    now = 2000;
    const busy = reader.mark();
    expect(reader.joulesBetween(start, busy)).toBeCloseTo(280 * (0.1 + 0.9 * 0.75) * 2, 9);
    expect(reader.watts()).toBeCloseTo(217, 9);
    writeFileSync(file, stat(350, 100, 1250, 100)); // idle from here
    now = 2100; // under 250 ms: utilisation is not re-read yet
    const soon = reader.mark();
    expect(reader.joulesBetween(busy, soon)).toBeCloseTo(217 * 0.1, 9);
    now = 3100;
    const idle = reader.mark();
    expect(reader.joulesBetween(soon, idle)).toBeCloseTo(28, 9); // 10 % of 280 W for 1 s
    expect(reader.label).toBe('modelled:tdp-load');
    // Machine-wide figures include the idle draw: it has to be recorded to be subtracted.
    expect(reader.idleWatts).toBeUndefined();
    await reader.close();
  });

  it("attributes only this process's CPU time, without the idle share, in process scope", async () => {
    let now = 0;
    let cpuMicros = 0;
    const source = new CpuTdpSource({
      scope: 'process',
      cpuModel: 'AMD EPYC 7763 64-Core Processor',
      logicalCpus: 2, // 4.375 W for the 2 CPUs this VM sees
      clock: () => now,
      processCpuMicros: () => cpuMicros,
    });
    expect(await source.probe()).toMatchObject({
      detail: expect.stringContaining("this process's CPU time"),
    });
    const reader = await source.open();
    expect(reader.source).toBe(
      'CPU model: AMD EPYC 7763 64-Core Processor 280 W TDP × 2/128 logical CPUs, linear load curve, this process only',
    );
    const start = reader.mark();
    now = 1000;
    cpuMicros = 1_000_000; // one CPU busy for the second: 50 % of 2
    const busy = reader.mark();
    expect(reader.joulesBetween(start, busy)).toBeCloseTo(4.375 * 0.9 * 0.5, 9);
    now = 2000; // no CPU time: nothing attributed, not even idle power
    const quiet = reader.mark();
    expect(reader.joulesBetween(busy, quiet)).toBe(0);
    expect(reader.idleWatts).toBe(0);
    // Windows far shorter than a utilisation interval still get exactly their own CPU time.
    now = 2010;
    cpuMicros += 20_000; // 10 ms on both CPUs
    const short = reader.mark();
    expect(reader.joulesBetween(quiet, short)).toBeCloseTo(4.375 * 0.9 * (20_000 / 1e6 / 2), 12);
    now = 2012;
    cpuMicros += 1_000;
    expect(reader.joulesBetween(short, reader.mark())).toBeCloseTo(4.375 * 0.9 * (1_000 / 1e6 / 2), 12);
    await reader.close();
  });

  it('uses the power the user gave (--cpu-watts, Settings) instead of the table, and says so', async () => {
    let now = 0;
    let cpuMicros = 0;
    const options = {
      scope: 'process' as const,
      cpuModel: 'AMD EPYC 7B13', // as issue 14 saw it: not in the table
      logicalCpus: 2,
      clock: () => now,
      processCpuMicros: () => cpuMicros,
    };
    const given = new CpuTdpSource({ ...options, userWatts: 20 });
    expect(await given.probe()).toMatchObject({ detail: expect.stringMatching(/^user-given: 20 W/) });
    const reader = await given.open();
    expect(reader.source).toBe('CPU model: 20 W user-given, linear load curve, this process only');
    const start = reader.mark();
    now = 1000;
    cpuMicros = 2_000_000; // both CPUs busy for the second
    expect(reader.joulesBetween(start, reader.mark())).toBeCloseTo(20 * 0.9, 9);
    await reader.close();

    // Set for the process (the job spec's cpuWatts), or from POLLARD_CPU_WATTS (Settings).
    expect(userCpuWattsSetting({ POLLARD_CPU_WATTS: '35' })).toBe(35);
    expect(userCpuWattsSetting({ POLLARD_CPU_WATTS: 'lots' })).toBeUndefined();
    setUserCpuWatts(12);
    try {
      expect(userCpuWattsSetting({ POLLARD_CPU_WATTS: '35' })).toBe(12);
      expect((await new CpuTdpSource(options).open()).source).toMatch(/^CPU model: 12 W user-given/);
    } finally {
      setUserCpuWatts(undefined);
    }
    expect(() => setUserCpuWatts(-1)).toThrow('CPU power must be a positive number of watts, got -1');
  });
});
