/**
 * Modelled CPU energy (`modelled:tdp-load`), CodeCarbon's approach: the CPU's TDP from a bundled
 * table × a load curve of the machine-wide CPU utilisation × time. It works everywhere, so a
 * report made on a machine without RAPL or a GPU (like CI) is still complete, and it is labelled
 * modelled wherever it is shown.
 *
 * - TDP: `resources/energy/cpu-tdp.json` (vendor spec sheets and CodeCarbon's MIT-licensed TDP
 *   table, each entry naming its source), matched on `os.cpus()[0].model` with (R), (TM),
 *   "CPU @ … GHz" and "N-Core Processor" removed. No exact entry: a family rule (EPYC generation,
 *   Xeon Scalable generation), which takes the family's part with the core count the name states.
 *   A match is scaled by the logical CPUs this OS sees over the part's threads, so a 2-vCPU VM
 *   on a 128-thread EPYC is attributed 2/128 of the package. No match: the table's stated
 *   per-logical-CPU fallback.
 * - Utilisation: this process's CPU time (the default sources: a job runs in a process of its
 *   own), or the whole machine, from `/proc/stat` deltas (os.cpus() times where there is no
 *   /proc), the same scope RAPL measures.
 * - Load curve: `linear` (default), P = TDP × (idle + (1 − idle) × u) with idle = 10 % of TDP, the
 *   floor CodeCarbon uses; or `cubic`, CodeCarbon 3's machine mode: P = TDP × (0.1 + 0.9 × u³).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import tdpTableJson from '../../../../resources/energy/cpu-tdp.json';
import {
  systemClock,
  type Clock,
  type EnergyPart,
  type EnergyReader,
  type EnergySource,
  type ProbeResult,
  type ReaderMark,
} from './types';

const partSchema = {
  pattern: z.string(),
  tdpWatts: z.number().positive(),
  cores: z.number().int().positive(),
  threads: z.number().int().positive(),
  source: z.string(),
};
const tdpTableSchema = z.object({
  description: z.string(),
  sources: z.record(z.string(), z.string()),
  fallback: z.object({ wattsPerLogicalCpu: z.number().positive(), note: z.string() }),
  entries: z.array(z.object({ model: z.string(), ...partSchema })),
  families: z.array(z.object({ family: z.string(), representative: z.string(), ...partSchema })).default([]),
});
export type CpuTdpTable = z.infer<typeof tdpTableSchema>;
export type CpuTdpEntry = Pick<CpuTdpTable['entries'][number], 'tdpWatts' | 'cores' | 'threads' | 'source'>;
type FamilyRule = CpuTdpTable['families'][number];

export const BUNDLED_CPU_TDP_TABLE: CpuTdpTable = tdpTableSchema.parse(tdpTableJson);

export type LoadCurve = { kind: 'linear'; idleFraction: number } | { kind: 'cubic' };
export const DEFAULT_LOAD_CURVE: LoadCurve = { kind: 'linear', idleFraction: 0.1 };

/** Fraction of full power at utilisation u (0..1). */
export function loadFactor(utilisation: number, curve: LoadCurve = DEFAULT_LOAD_CURVE): number {
  const u = Math.min(1, Math.max(0, utilisation));
  return curve.kind === 'linear' ? curve.idleFraction + (1 - curve.idleFraction) * u : 0.1 + 0.9 * u ** 3;
}

export interface CpuPowerRating {
  /** Power attributed to the CPUs this OS sees at full load. */
  watts: number;
  entry: CpuTdpEntry | null;
  /** How `watts` was found, with the table's source or the fallback's caveat (for `pollard info`). */
  detail: string;
  /** The same in a few words, for a figure's `source`. */
  brief: string;
}

/** The model name without the decorations /proc/cpuinfo and os.cpus() add. */
export function normaliseCpuModel(model: string): string {
  return model
    .replace(/\((?:R|TM)\)/gi, '')
    .replace(/\bCPU\b/g, '')
    .replace(/@\s*[\d.]+\s*GHz/gi, '')
    .replace(/\b\d+-Core Processor\b|\bProcessor\b(?!\s*\()/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
}

function matches(pattern: string, name: string): boolean {
  return new RegExp(pattern, 'i').test(name);
}

/** A family rule's part: the family's exact entries with the stated core count (median TDP), else its representative. */
function familyPart(rule: FamilyRule, model: string, table: CpuTdpTable): { part: CpuTdpEntry; why: string } {
  const cores = Number(/(\d+)-Core/i.exec(model)?.[1] ?? NaN);
  const sameCores = table.entries
    .filter((entry) => entry.cores === cores && matches(rule.pattern, entry.model))
    .sort((a, b) => a.tdpWatts - b.tdpWatts);
  const median = sameCores[Math.floor((sameCores.length - 1) / 2)];
  if (median) return { part: median, why: `${rule.family}, ${cores}-core part ${median.model}` };
  return { part: rule, why: `${rule.family}, as ${rule.representative}` };
}

function tablePart(model: string, table: CpuTdpTable): { part: CpuTdpEntry; label: string } | null {
  const name = normaliseCpuModel(model);
  const entry = table.entries.find((candidate) => matches(candidate.pattern, name));
  if (entry) return { part: entry, label: '' };
  const rule = table.families.find((candidate) => matches(candidate.pattern, name));
  if (!rule) return null;
  const { part, why } = familyPart(rule, model, table);
  return { part, label: ` (no exact entry: ${why})` };
}

/** TDP attributed to the CPUs this OS sees, from the table, a family rule, or the fallback. */
export function rateCpu(
  model: string,
  logicalCpus: number,
  table: CpuTdpTable = BUNDLED_CPU_TDP_TABLE,
): CpuPowerRating {
  const name = model.replace(/\s+/g, ' ').trim();
  const found = tablePart(name, table);
  if (found) {
    const { part, label } = found;
    const watts = (part.tdpWatts * logicalCpus) / part.threads;
    const share = logicalCpus === part.threads ? '' : ` × ${logicalCpus}/${part.threads} logical CPUs`;
    return {
      watts,
      entry: part,
      detail: `TDP table: ${name}${label} ${part.tdpWatts} W${share} = ${round(watts)} W (${table.sources[part.source] ?? part.source})`,
      brief: `${name}${label} ${part.tdpWatts} W TDP${share}`,
    };
  }
  const watts = table.fallback.wattsPerLogicalCpu * logicalCpus;
  return {
    watts,
    entry: null,
    detail: `no TDP entry for "${name}": ${table.fallback.wattsPerLogicalCpu} W × ${logicalCpus} logical CPUs = ${round(watts)} W (${table.fallback.note})`,
    brief: `"${name}" not in the TDP table: assumed ${table.fallback.wattsPerLogicalCpu} W × ${logicalCpus} logical CPUs`,
  };
}

/**
 * The CPU power the user gave for this machine (`--cpu-watts`, the job spec's `cpuWatts`, the
 * Settings field through POLLARD_CPU_WATTS): it replaces the TDP table, and figures say so.
 */
let userCpuWatts: number | undefined;

/** Sets (or, with undefined, clears) the user's CPU power for the CPU model in this process. */
export function setUserCpuWatts(watts: number | undefined): void {
  if (watts !== undefined && !(Number.isFinite(watts) && watts > 0)) {
    throw new Error(`CPU power must be a positive number of watts, got ${watts}`);
  }
  userCpuWatts = watts;
}

/** The user's CPU power: set in this process, else POLLARD_CPU_WATTS, else none. */
export function userCpuWattsSetting(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (userCpuWatts !== undefined) return userCpuWatts;
  const text = env.POLLARD_CPU_WATTS?.trim();
  if (!text) return undefined;
  const watts = Number(text);
  return Number.isFinite(watts) && watts > 0 ? watts : undefined;
}

/** A rating from the user's own figure for the CPUs this OS sees. */
export function userCpuRating(model: string, watts: number): CpuPowerRating {
  const name = model.replace(/\s+/g, ' ').trim();
  return {
    watts,
    entry: null,
    detail: `user-given: ${round(watts)} W for "${name}" at full load (--cpu-watts or Settings), instead of the TDP table`,
    brief: `${round(watts)} W user-given`,
  };
}

function round(value: number): string {
  return String(Math.round(value * 10) / 10);
}

export interface CpuTimes {
  busy: number;
  total: number;
}

/**
 * Aggregate CPU times: the `cpu` line of /proc/stat (user nice system idle iowait irq softirq
 * steal; guest time is already inside user), idle = idle + iowait.
 */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.split('\n').find((candidate) => candidate.startsWith('cpu '));
  if (!line) return null;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 4 || fields.some((value) => !Number.isFinite(value))) return null;
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

function osCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

export interface CpuTdpOptions {
  /** Default `/proc/stat`; where it cannot be read, os.cpus() times are used. */
  procStat?: string;
  cpuModel?: string;
  logicalCpus?: number;
  table?: CpuTdpTable;
  curve?: LoadCurve;
  clock?: Clock;
  /** Utilisation is re-read at most this often; marks in between reuse the last value. Default 250 ms, 0 in process scope. */
  minUtilisationMs?: number;
  /**
   * `machine` (this class's default): whole-machine utilisation and the curve's idle share, as RAPL
   * sees it. `process` (what `defaultEnergySources` uses): only this process's CPU time, without
   * the idle share (CodeCarbon's process mode), so a shared machine does not charge a job for
   * other users' load.
   */
  scope?: 'machine' | 'process';
  /** This process's CPU time in µs; injectable for tests. */
  processCpuMicros?: () => number;
  /** Background integration step, so a convex curve sees load changes inside long windows. */
  pollMs?: number;
  /** The user's CPU power (W) at full load; default: `setUserCpuWatts`, then POLLARD_CPU_WATTS. */
  userWatts?: number;
}

class CpuTdpReader implements EnergyReader {
  readonly id = 'cpu-tdp';
  readonly label = 'modelled:tdp-load' as const;
  readonly covers: readonly EnergyPart[] = ['cpu'];
  private joules = 0;
  private lastAt: number;
  private lastTimes: CpuTimes;
  private timesAt: number;
  private utilisation = 0;
  private readonly timer: NodeJS.Timeout;
  readonly idleWatts: number | undefined;

  constructor(
    readonly source: string,
    private readonly fullWatts: number,
    private readonly curve: LoadCurve,
    private readonly attributeIdle: boolean,
    private readonly readTimes: () => CpuTimes,
    private readonly clock: Clock,
    private readonly minUtilisationMs: number,
    pollMs: number,
  ) {
    this.lastAt = this.clock();
    this.timesAt = this.lastAt;
    this.lastTimes = this.readTimes();
    this.timer = setInterval(() => this.mark(), pollMs);
    this.timer.unref();
    // Without the idle share nothing is charged while this process does nothing: no idle draw to subtract.
    this.idleWatts = attributeIdle ? undefined : 0;
  }

  mark(): ReaderMark {
    const at = this.clock();
    if (at - this.timesAt >= this.minUtilisationMs) {
      const times = this.readTimes();
      const total = times.total - this.lastTimes.total;
      // No time passed: keep the last reading, so no CPU time between readings goes uncounted.
      if (total > 0) {
        this.utilisation = (times.busy - this.lastTimes.busy) / total;
        this.lastTimes = times;
        this.timesAt = at;
      }
    }
    if (at > this.lastAt) {
      this.joules += this.watts() * ((at - this.lastAt) / 1000);
      this.lastAt = at;
    }
    return { at, joules: this.joules };
  }

  joulesBetween(from: ReaderMark, to: ReaderMark): number | null {
    return from.joules === null || to.joules === null ? null : to.joules - from.joules;
  }

  watts(): number {
    const idle = this.attributeIdle ? 0 : loadFactor(0, this.curve);
    return this.fullWatts * (loadFactor(this.utilisation, this.curve) - idle);
  }

  failure(): null {
    return null;
  }

  async settle(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.timer);
  }
}

export class CpuTdpSource implements EnergySource {
  readonly id = 'cpu-tdp';
  readonly name = 'CPU model (TDP × load)';
  readonly kind = 'modelled' as const;
  readonly covers = ['cpu'] as const;
  private readonly options: CpuTdpOptions;

  constructor(options: CpuTdpOptions = {}) {
    this.options = options;
  }

  private readTimes(logicalCpus: number, clock: Clock): () => CpuTimes {
    if (this.options.scope === 'process') {
      const cpuMicros =
        this.options.processCpuMicros ??
        (() => {
          const usage = process.cpuUsage();
          return usage.user + usage.system;
        });
      // Busy: this process's CPU time; total: wall time on every logical CPU (both in µs).
      return () => ({ busy: cpuMicros(), total: clock() * 1000 * logicalCpus });
    }
    const file = this.options.procStat ?? '/proc/stat';
    return () => {
      try {
        return parseProcStat(readFileSync(file, 'utf8')) ?? osCpuTimes();
      } catch {
        return osCpuTimes();
      }
    };
  }

  private logicalCpus(): number {
    return this.options.logicalCpus ?? Math.max(1, os.cpus().length);
  }

  private describe(): { rating: CpuPowerRating; detail: string; source: string } {
    const model = this.options.cpuModel ?? os.cpus()[0]?.model ?? 'unknown CPU';
    const logicalCpus = this.logicalCpus();
    const userWatts = this.options.userWatts ?? userCpuWattsSetting();
    const rating =
      userWatts !== undefined
        ? userCpuRating(model, userWatts)
        : rateCpu(model, logicalCpus, this.options.table);
    const curve = this.options.curve ?? DEFAULT_LOAD_CURVE;
    const curveText =
      curve.kind === 'linear'
        ? `linear load curve, idle ${Math.round(curve.idleFraction * 100)} % of TDP`
        : 'cubic load curve (CodeCarbon machine mode)';
    const processScope = this.options.scope === 'process';
    const scopeText = processScope
      ? "this process's CPU time, idle share not attributed"
      : 'machine-wide utilisation';
    return {
      rating,
      detail: `${rating.detail}; ${scopeText}; ${curveText}`,
      source: `CPU model: ${rating.brief}, ${curve.kind} load curve${processScope ? ', this process only' : ''}`,
    };
  }

  async probe(): Promise<ProbeResult> {
    return { ok: true, detail: this.describe().detail, label: 'modelled:tdp-load' };
  }

  async open(): Promise<EnergyReader> {
    const { rating, source } = this.describe();
    const clock = this.options.clock ?? systemClock;
    return new CpuTdpReader(
      source,
      rating.watts,
      this.options.curve ?? DEFAULT_LOAD_CURVE,
      this.options.scope !== 'process',
      this.readTimes(this.logicalCpus(), clock),
      clock,
      // This process's CPU time is one cheap call: read at every mark, so a window's energy is
      // exactly power × the CPU time spent in it, however short the window.
      this.options.minUtilisationMs ?? (this.options.scope === 'process' ? 0 : 250),
      this.options.pollMs ?? 1000,
    );
  }
}
