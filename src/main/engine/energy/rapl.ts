/**
 * Linux RAPL through the powercap sysfs interface (Intel, and AMD Zen on kernels ≥ 5.8 through
 * the same `intel-rapl` control type). What is added up, and why:
 *   - `package-N` zones (top level): the whole socket, cores and uncore included;
 *   - `dram` zones, wherever sysfs nests them: the DRAM plane is NOT part of the package counter
 *     even where it appears as a child of the package (Intel SDM vol. 3, "RAPL interfaces";
 *     powercap/powercap issue #3), so it is added;
 *   - never `core`/`uncore` (inside the package) nor `psys` (the platform, which contains the
 *     package); psys is used alone only where there is no package zone;
 *   - `intel-rapl-mmio` zones repeat the MSR package counters on some client parts: used only
 *     when the MSR zone of the same name is absent.
 * Counters wrap at `max_energy_range_uj`; a background poll keeps reads closer together than
 * one wrap period, however long the gaps between the meter's marks.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import {
  errorMessage,
  systemClock,
  type Clock,
  type EnergyPart,
  type EnergyReader,
  type EnergySource,
  type ProbeResult,
  type ReaderMark,
} from './types';

export const DEFAULT_POWERCAP_ROOT = '/sys/class/powercap';

export type RaplZoneKind = 'package' | 'dram' | 'psys' | 'core' | 'uncore' | 'other';

export interface RaplZone {
  /** Directory name, e.g. `intel-rapl:0:2`. */
  id: string;
  /** Contents of `name`, e.g. `dram`. */
  name: string;
  kind: RaplZoneKind;
  /** Parent zone id (`intel-rapl:0` for `intel-rapl:0:2`), null at top level. */
  parent: string | null;
  energyFile: string;
  maxRangeMicrojoules: number;
}

export interface RaplLayout {
  zones: RaplZone[];
  /** The zones whose counters are added up. */
  counted: RaplZone[];
}

export interface RaplOptions {
  root?: string;
  clock?: Clock;
  platform?: NodeJS.Platform;
  /** Reads a sysfs file; injectable so tests can simulate permission errors. */
  readText?: (file: string) => string;
  /** Background read interval; default: a quarter of the fastest wrap period at 500 W, 1 s to 60 s. */
  pollMs?: number;
}

const ZONE_DIR = /^(intel-rapl|intel-rapl-mmio|amd-rapl):(\d+(?::\d+)*)$/;

/** The exact hint shown when `energy_uj` is root-only (kernel ≥ 5.10, CVE-2020-8694). */
export function raplPermissionHint(root: string, file: string): string {
  return (
    `${file}: readable by root only since Linux 5.10 (CVE-2020-8694); grant read access with ` +
    `\`sudo chmod o+r ${root}/intel-rapl:*/energy_uj\` (until reboot) or a udev rule that does the same at boot`
  );
}

function classify(name: string): RaplZoneKind {
  if (/^package-\d+$/.test(name)) return 'package';
  if (name === 'dram' || name === 'psys' || name === 'core' || name === 'uncore') return name;
  return 'other';
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EACCES' || code === 'EPERM';
}

function parseMicrojoules(text: string, file: string): number {
  const value = Number(text.trim());
  if (!Number.isFinite(value) || value < 0) throw new Error(`${file}: not a counter value: "${text.trim()}"`);
  return value;
}

/** Reads the zone tree under `root` and decides which counters to add. Throws with the reason. */
export function discoverRaplZones(
  root: string,
  readText: (file: string) => string = (file) => readFileSync(file, 'utf8'),
): RaplLayout {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    throw new Error(
      `${root} does not exist: no powercap driver (intel_rapl_common not loaded, or a virtual machine)`,
    );
  }
  const zones: RaplZone[] = [];
  for (const entry of entries.sort()) {
    const match = ZONE_DIR.exec(entry);
    if (!match) continue;
    const dir = path.join(root, entry);
    let name: string;
    let maxRange: number;
    try {
      name = readText(path.join(dir, 'name')).trim();
      maxRange = parseMicrojoules(
        readText(path.join(dir, 'max_energy_range_uj')),
        path.join(dir, 'max_energy_range_uj'),
      );
    } catch (error) {
      if (isPermissionError(error))
        throw new Error(raplPermissionHint(root, path.join(dir, 'max_energy_range_uj')));
      continue;
    }
    const parts = match[2]!.split(':');
    zones.push({
      id: entry,
      name,
      kind: classify(name),
      parent: parts.length > 1 ? `${match[1]}:${parts.slice(0, -1).join(':')}` : null,
      energyFile: path.join(dir, 'energy_uj'),
      maxRangeMicrojoules: maxRange,
    });
  }
  if (zones.length === 0) throw new Error(`${root} has no RAPL zones (no intel-rapl:* entries)`);

  // MMIO zones duplicate MSR zones of the same name under the same parent position.
  const msrNames = new Set(zones.filter((zone) => !zone.id.startsWith('intel-rapl-mmio')).map((z) => z.name));
  const usable = zones.filter((zone) => !zone.id.startsWith('intel-rapl-mmio') || !msrNames.has(zone.name));
  const packages = usable.filter((zone) => zone.kind === 'package' && zone.parent === null);
  const drams = usable.filter((zone) => zone.kind === 'dram');
  let counted: RaplZone[];
  if (packages.length > 0) counted = [...packages, ...drams];
  else {
    const psys = usable.filter((zone) => zone.kind === 'psys');
    counted = psys.length > 0 ? psys : drams;
  }
  if (counted.length === 0) {
    throw new Error(
      `${root}: no package, dram or psys zone among ${zones.map((z) => `${z.id} (${z.name})`).join(', ')}`,
    );
  }
  return { zones, counted };
}

function describeZones(zones: RaplZone[]): string {
  return `RAPL ${zones.map((zone) => zone.name).join(' + ')} (${zones.map((zone) => zone.id).join(', ')})`;
}

class RaplReader implements EnergyReader {
  readonly id = 'rapl';
  readonly label = 'measured:counter' as const;
  readonly source: string;
  readonly covers: readonly EnergyPart[];
  private readonly last: number[];
  private joules = 0;
  private wattsValue: number | null = null;
  private wattsFrom: { at: number; joules: number };
  private failed: string | null = null;
  private readonly timer: NodeJS.Timeout;

  /** Open descriptors re-read with pread at offset 0: one syscall per counter per mark. */
  private readonly fds: number[] | null;
  private readonly buffer = Buffer.alloc(32);

  constructor(
    private readonly zones: RaplZone[],
    private readonly root: string,
    private readonly readText: ((file: string) => string) | null,
    private readonly clock: Clock,
    pollMs: number,
  ) {
    this.source = describeZones(zones);
    this.fds = readText === null ? zones.map((zone) => this.openZone(zone)) : null;
    this.covers = zones.some((zone) => zone.kind === 'dram') ? ['cpu', 'dram'] : ['cpu'];
    this.last = zones.map((zone, i) => this.readZone(zone, i));
    this.wattsFrom = { at: this.clock(), joules: 0 };
    this.timer = setInterval(() => this.mark(), pollMs);
    this.timer.unref();
  }

  private openZone(zone: RaplZone): number {
    try {
      return openSync(zone.energyFile, 'r');
    } catch (error) {
      throw new Error(
        isPermissionError(error) ? raplPermissionHint(this.root, zone.energyFile) : errorMessage(error),
      );
    }
  }

  private readZone(zone: RaplZone, i: number): number {
    try {
      if (this.fds === null) return parseMicrojoules(this.readText!(zone.energyFile), zone.energyFile);
      const length = readSync(this.fds[i]!, this.buffer, 0, this.buffer.length, 0);
      return parseMicrojoules(this.buffer.toString('latin1', 0, length), zone.energyFile);
    } catch (error) {
      throw new Error(
        isPermissionError(error) ? raplPermissionHint(this.root, zone.energyFile) : errorMessage(error),
      );
    }
  }

  mark(): ReaderMark {
    const at = this.clock();
    if (this.failed === null) {
      try {
        let microjoules = 0;
        this.zones.forEach((zone, i) => {
          const raw = this.readZone(zone, i);
          const previous = this.last[i]!;
          microjoules += raw >= previous ? raw - previous : raw + zone.maxRangeMicrojoules - previous;
          this.last[i] = raw;
        });
        this.joules += microjoules / 1e6;
      } catch (error) {
        this.failed = errorMessage(error);
      }
    }
    if (at - this.wattsFrom.at >= 1000) {
      this.wattsValue = (this.joules - this.wattsFrom.joules) / ((at - this.wattsFrom.at) / 1000);
      this.wattsFrom = { at, joules: this.joules };
    }
    return { at, joules: this.failed === null ? this.joules : null };
  }

  joulesBetween(from: ReaderMark, to: ReaderMark): number | null {
    return from.joules === null || to.joules === null ? null : to.joules - from.joules;
  }

  watts(): number | null {
    return this.wattsValue;
  }

  failure(): string | null {
    return this.failed;
  }

  async settle(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const fd of this.fds ?? []) closeSync(fd);
  }
}

export class RaplSource implements EnergySource {
  readonly id = 'rapl';
  readonly name = 'Linux RAPL (powercap)';
  readonly kind = 'measured' as const;
  readonly covers: readonly EnergyPart[] = ['cpu', 'dram'];
  private readonly root: string;
  private readonly clock: Clock;
  private readonly platform: NodeJS.Platform;
  private readonly readText: (file: string) => string;
  private readonly injectedReadText: ((file: string) => string) | null;
  private readonly pollMs: number | undefined;

  constructor(options: RaplOptions = {}) {
    this.root = options.root ?? DEFAULT_POWERCAP_ROOT;
    this.clock = options.clock ?? systemClock;
    this.platform = options.platform ?? process.platform;
    this.readText = options.readText ?? ((file) => readFileSync(file, 'utf8'));
    this.injectedReadText = options.readText ?? null;
    this.pollMs = options.pollMs;
  }

  private layout(): RaplLayout {
    if (this.platform !== 'linux')
      throw new Error(`RAPL is read through Linux powercap; this is ${this.platform}`);
    const layout = discoverRaplZones(this.root, this.readText);
    for (const zone of layout.counted) {
      try {
        parseMicrojoules(this.readText(zone.energyFile), zone.energyFile);
      } catch (error) {
        throw new Error(
          isPermissionError(error) ? raplPermissionHint(this.root, zone.energyFile) : errorMessage(error),
        );
      }
    }
    return layout;
  }

  async probe(): Promise<ProbeResult> {
    try {
      const { counted } = this.layout();
      return { ok: true, detail: describeZones(counted), label: 'measured:counter' };
    } catch (error) {
      return { ok: false, reason: errorMessage(error) };
    }
  }

  async open(): Promise<EnergyReader> {
    const { counted } = this.layout();
    // A quarter of the shortest wrap period at 500 W per zone, kept between 1 s and 60 s.
    const wrapSeconds = Math.min(...counted.map((zone) => zone.maxRangeMicrojoules / 1e6 / 500));
    const pollMs = this.pollMs ?? Math.min(60_000, Math.max(1000, (wrapSeconds * 1000) / 4));
    return new RaplReader(counted, this.root, this.injectedReadText, this.clock, pollMs);
  }
}
