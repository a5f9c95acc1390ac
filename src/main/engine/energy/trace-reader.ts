/**
 * A reader for sources that report power rather than energy (NVML power, nvidia-smi, powermetrics):
 * samples go into one PowerTrace per channel (one per GPU), marks are timestamps, and energy is
 * the sum of the channels' integrals between them.
 */
import type { EnergyLabel } from '../../../shared/types';
import { PowerTrace } from './power-trace';
import type { Clock, EnergyPart, EnergyReader, ReaderMark } from './types';

export interface TraceReaderOptions {
  id: string;
  source: string;
  covers: readonly EnergyPart[];
  clock: Clock;
  /** Expected time between samples; `settle` waits up to a few of these. */
  intervalMs: number;
  label?: EnergyLabel;
  stop: () => Promise<void>;
}

export class TraceReader implements EnergyReader {
  readonly id: string;
  readonly label: EnergyLabel;
  readonly source: string;
  readonly covers: readonly EnergyPart[];
  private readonly traces = new Map<number, PowerTrace>();
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly stop: () => Promise<void>;
  private failed: string | null = null;
  private closed = false;

  constructor(options: TraceReaderOptions) {
    this.id = options.id;
    this.label = options.label ?? 'measured:sampled';
    this.source = options.source;
    this.covers = options.covers;
    this.clock = options.clock;
    this.intervalMs = options.intervalMs;
    this.stop = options.stop;
  }

  /** Records a power sample of one channel; `at` defaults to now. */
  add(watts: number, at: number = this.clock(), channel = 0): void {
    let trace = this.traces.get(channel);
    if (!trace) {
      trace = new PowerTrace();
      this.traces.set(channel, trace);
    }
    trace.add(at, watts);
  }

  fail(reason: string): void {
    this.failed ??= reason;
  }

  failure(): string | null {
    return this.failed;
  }

  /** The time up to which every channel has data; -Infinity before the first sample. */
  private coveredUntil(): number {
    if (this.traces.size === 0) return -Infinity;
    let until = Infinity;
    for (const trace of this.traces.values()) until = Math.min(until, trace.lastTime ?? -Infinity);
    return until;
  }

  mark(): ReaderMark {
    return { at: this.clock(), joules: null };
  }

  joulesBetween(from: ReaderMark, to: ReaderMark): number | null {
    if (this.failed !== null && this.coveredUntil() < to.at) return null;
    if (this.traces.size === 0) return null;
    let joules = 0;
    for (const trace of this.traces.values()) joules += trace.energyBetween(from.at, to.at) ?? 0;
    return joules;
  }

  watts(): number | null {
    if (this.traces.size === 0) return null;
    let watts = 0;
    for (const trace of this.traces.values()) watts += trace.lastWatts ?? 0;
    return watts;
  }

  async settle(at: number): Promise<void> {
    const deadline = this.clock() + 3 * this.intervalMs + 500;
    while (!this.closed && this.failed === null && this.coveredUntil() < at) {
      if (this.clock() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, Math.max(5, this.intervalMs / 4)));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.stop();
  }
}
