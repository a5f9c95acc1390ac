/**
 * The contract every energy source implements. A source says whether it works on this machine
 * (`probe`), and opens a reader that the meter marks at window edges. Readers are synchronous
 * and cheap on purpose: the training loop marks them every batch.
 */
import type { EnergyLabel } from '../../../shared/types';

/** Milliseconds on a monotonic-enough wall clock (epoch based, sub-millisecond resolution). */
export type Clock = () => number;

export const systemClock: Clock = () => performance.timeOrigin + performance.now();

/** What a source measures; two measured sources that cover the same part are never added. */
export type EnergyPart = 'cpu' | 'dram' | 'gpu';

/** `label` is what the source's figures will carry on this machine (NVML: counter or sampled). */
export type ProbeResult = { ok: true; detail: string; label: EnergyLabel } | { ok: false; reason: string };

export interface EnergySource {
  /** Stable id: 'rapl', 'nvml', 'nvidia-smi', 'powermetrics', 'cpu-tdp'. */
  readonly id: string;
  /** Human name for `pollard info`, e.g. "Linux RAPL (powercap)". */
  readonly name: string;
  readonly kind: 'measured' | 'modelled';
  readonly covers: readonly EnergyPart[];
  probe(): Promise<ProbeResult>;
  /** Throws an Error whose message is the reason when the source does not work. */
  open(): Promise<EnergyReader>;
}

/**
 * A point on a reader's timeline. Counter and model readers store cumulative joules since the
 * reader opened; trace readers (power sampling) store only the time and integrate later.
 */
export interface ReaderMark {
  at: number;
  joules: number | null;
}

export interface EnergyReader {
  readonly id: string;
  /** The label its figures carry (NVML is a counter on Volta and newer, sampled before). */
  readonly label: EnergyLabel;
  /** What was read, e.g. "RAPL package-0 + dram (intel-rapl:0, intel-rapl:0:2)". */
  readonly source: string;
  readonly covers: readonly EnergyPart[];
  /**
   * Idle power known without recording it, where the figures hold no idle draw by construction
   * (the CPU model in process scope charges only this process's CPU time: 0 W). Undefined: unknown
   * until recorded.
   */
  readonly idleWatts?: number;
  mark(): ReaderMark;
  /** Joules between two marks of this reader; null when it has no data for that window. */
  joulesBetween(from: ReaderMark, to: ReaderMark): number | null;
  /** Most recent power estimate, null until there is one. */
  watts(): number | null;
  /** Why the reader stopped working mid-run (a poller died, a counter became unreadable), else null. */
  failure(): string | null;
  /** Resolves once the reader has data up to `at` (power samplers lag by one interval). */
  settle(at: number): Promise<void>;
  close(): Promise<void>;
}

export function errorMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
}
