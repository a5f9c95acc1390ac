import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverRaplZones, RaplSource, raplPermissionHint } from './rapl';

const roots: string[] = [];

/** Writes a powercap tree as the kernel lays it out: every zone flat under the root. */
function fixture(zones: Record<string, { name: string; uj: number; max?: number }>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pollard-rapl-'));
  roots.push(root);
  mkdirSync(path.join(root, 'intel-rapl')); // the control type itself has no counter
  writeFileSync(path.join(root, 'intel-rapl', 'enabled'), '1\n');
  for (const [id, zone] of Object.entries(zones)) {
    mkdirSync(path.join(root, id));
    writeFileSync(path.join(root, id, 'name'), `${zone.name}\n`);
    writeFileSync(path.join(root, id, 'energy_uj'), `${zone.uj}\n`);
    writeFileSync(path.join(root, id, 'max_energy_range_uj'), `${zone.max ?? 262143328850}\n`);
  }
  return root;
}

function setCounter(root: string, id: string, uj: number): void {
  writeFileSync(path.join(root, id, 'energy_uj'), `${uj}\n`);
}

let now = 0;
const clock = (): number => now;

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('RAPL zone discovery', () => {
  it('adds packages and DRAM, never core, uncore or psys (which contain or are contained by package)', () => {
    const root = fixture({
      'intel-rapl:0': { name: 'package-0', uj: 1_000_000 },
      'intel-rapl:0:0': { name: 'core', uj: 500_000 },
      'intel-rapl:0:1': { name: 'uncore', uj: 100_000 },
      'intel-rapl:0:2': { name: 'dram', uj: 300_000 },
      'intel-rapl:1': { name: 'psys', uj: 9_000_000 },
    });
    const layout = discoverRaplZones(root);
    expect(layout.zones.map((zone) => [zone.id, zone.kind, zone.parent])).toEqual([
      ['intel-rapl:0', 'package', null],
      ['intel-rapl:0:0', 'core', 'intel-rapl:0'],
      ['intel-rapl:0:1', 'uncore', 'intel-rapl:0'],
      ['intel-rapl:0:2', 'dram', 'intel-rapl:0'],
      ['intel-rapl:1', 'psys', null],
    ]);
    expect(layout.counted.map((zone) => zone.id)).toEqual(['intel-rapl:0', 'intel-rapl:0:2']);
  });

  it('counts two sockets, skips MMIO duplicates of a package, and uses psys only without a package', () => {
    const twoSockets = fixture({
      'intel-rapl:0': { name: 'package-0', uj: 1 },
      'intel-rapl:0:0': { name: 'dram', uj: 1 },
      'intel-rapl:1': { name: 'package-1', uj: 1 },
      'intel-rapl:1:0': { name: 'dram', uj: 1 },
      'intel-rapl-mmio:0': { name: 'package-0', uj: 1 },
    });
    expect(discoverRaplZones(twoSockets).counted.map((zone) => zone.id)).toEqual([
      'intel-rapl:0',
      'intel-rapl:1',
      'intel-rapl:0:0',
      'intel-rapl:1:0',
    ]);
    const psysOnly = fixture({ 'intel-rapl:1': { name: 'psys', uj: 1 } });
    expect(discoverRaplZones(psysOnly).counted.map((zone) => zone.id)).toEqual(['intel-rapl:1']);
  });

  it('names the missing root', async () => {
    const source = new RaplSource({ root: '/nonexistent/powercap', platform: 'linux' });
    expect(await source.probe()).toEqual({
      ok: false,
      reason:
        '/nonexistent/powercap does not exist: no powercap driver (intel_rapl_common not loaded, or a virtual machine)',
    });
    expect(await new RaplSource({ platform: 'darwin' }).probe()).toEqual({
      ok: false,
      reason: 'RAPL is read through Linux powercap; this is darwin',
    });
  });
});

describe('RAPL reader', () => {
  it('measures package + DRAM deltas in joules, ignoring nested core and psys', async () => {
    const root = fixture({
      'intel-rapl:0': { name: 'package-0', uj: 1_000_000 },
      'intel-rapl:0:0': { name: 'core', uj: 500_000 },
      'intel-rapl:0:2': { name: 'dram', uj: 300_000 },
      'intel-rapl:1': { name: 'psys', uj: 9_000_000 },
    });
    const source = new RaplSource({ root, clock, platform: 'linux' });
    expect(await source.probe()).toEqual({
      ok: true,
      detail: 'RAPL package-0 + dram (intel-rapl:0, intel-rapl:0:2)',
      label: 'measured:counter',
    });
    now = 10_000;
    const reader = await source.open();
    const start = reader.mark();
    setCounter(root, 'intel-rapl:0', 21_000_000); // +20 J
    setCounter(root, 'intel-rapl:0:0', 15_500_000); // +15 J, inside the package: not added
    setCounter(root, 'intel-rapl:0:2', 2_300_000); // +2 J
    setCounter(root, 'intel-rapl:1', 99_000_000); // +90 J, contains the package: not added
    now = 12_000;
    const end = reader.mark();
    expect(reader.joulesBetween(start, end)).toBeCloseTo(22, 9);
    expect(reader.watts()).toBeCloseTo(11, 9); // 22 J over 2 s
    expect(reader.covers).toEqual(['cpu', 'dram']);
    await reader.close();
  });

  it('handles a counter wrap with max_energy_range_uj', async () => {
    const max = 262_143_328_850;
    const root = fixture({ 'intel-rapl:0': { name: 'package-0', uj: max - 1_000_000, max } });
    const reader = await new RaplSource({ root, clock, platform: 'linux' }).open();
    const start = reader.mark();
    setCounter(root, 'intel-rapl:0', 4_000_000); // wrapped: 1 J before the wrap + 4 J after
    const middle = reader.mark();
    setCounter(root, 'intel-rapl:0', 6_500_000);
    const end = reader.mark();
    expect(reader.joulesBetween(start, middle)).toBeCloseTo(5, 9);
    expect(reader.joulesBetween(start, end)).toBeCloseTo(7.5, 9);
    await reader.close();
  });

  it('keeps reading between marks so that one long window still sees every wrap', async () => {
    const max = 10_000_000; // 10 J range: wraps often
    const root = fixture({ 'intel-rapl:0': { name: 'package-0', uj: 0, max } });
    const reader = await new RaplSource({ root, clock, platform: 'linux', pollMs: 20 }).open();
    const start = reader.mark();
    for (const uj of [6_000_000, 2_000_000, 8_000_000]) {
      setCounter(root, 'intel-rapl:0', uj); // +6 J, +6 J (wrap), +6 J
      await new Promise((resolve) => setTimeout(resolve, 80));
    }
    expect(reader.joulesBetween(start, reader.mark())).toBeCloseTo(18, 9);
    await reader.close();
  });

  it('explains how to grant access when energy_uj is root-only (CVE-2020-8694)', async () => {
    const root = fixture({
      'intel-rapl:0': { name: 'package-0', uj: 1 },
      'intel-rapl:0:2': { name: 'dram', uj: 1 },
    });
    // Tests run as root, where chmod cannot deny a read: simulate the kernel's EACCES.
    const readText = (file: string): string => {
      if (file.endsWith('energy_uj')) {
        throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' });
      }
      return readFileSync(file, 'utf8');
    };
    const source = new RaplSource({ root, platform: 'linux', readText });
    const file = path.join(root, 'intel-rapl:0', 'energy_uj');
    const expected =
      `${file}: readable by root only since Linux 5.10 (CVE-2020-8694); grant read access with ` +
      `\`sudo chmod o+r ${root}/intel-rapl:*/energy_uj\` (until reboot) or a udev rule that does the same at boot`;
    expect(raplPermissionHint(root, file)).toBe(expected);
    expect(await source.probe()).toEqual({ ok: false, reason: expected });
    await expect(source.open()).rejects.toThrow(expected);
  });

  it('marks the reader failed, not zero, when a counter becomes unreadable mid-run', async () => {
    const root = fixture({ 'intel-rapl:0': { name: 'package-0', uj: 1_000_000 } });
    let deny = false;
    const readText = (file: string): string => {
      if (deny && file.endsWith('energy_uj')) throw Object.assign(new Error('denied'), { code: 'EPERM' });
      return readFileSync(file, 'utf8');
    };
    const reader = await new RaplSource({ root, clock, platform: 'linux', readText }).open();
    const start = reader.mark();
    deny = true;
    const end = reader.mark();
    expect(end.joules).toBeNull();
    expect(reader.joulesBetween(start, end)).toBeNull();
    expect(reader.failure()).toMatch(/readable by root only since Linux 5\.10/);
    await reader.close();
  });
});
