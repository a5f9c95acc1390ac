/**
 * A deterministic energy source for tests and the protocol's self-checks: constant power on an
 * injected clock, reported as a counter (or as the label given). Not used in production.
 */
import type { EnergyLabel } from '../../../shared/types';
import type { Clock, EnergyPart, EnergyReader, EnergySource, ProbeResult, ReaderMark } from './types';

export interface FakeSourceOptions {
  id: string;
  kind?: 'measured' | 'modelled';
  covers?: EnergyPart[];
  label?: EnergyLabel;
  clock: Clock;
  /** Power in watts: constant (integrated exactly), or a function of time in ms (1 ms steps). */
  watts: number | ((at: number) => number);
  /** When set, probe and open fail with this reason. */
  unavailable?: string;
  /** Idle power the reader knows without recording it (as the process-scoped CPU model: 0). */
  idleWatts?: number;
}

export class FakeEnergySource implements EnergySource {
  readonly id: string;
  readonly name: string;
  readonly kind: 'measured' | 'modelled';
  readonly covers: readonly EnergyPart[];
  constructor(private readonly options: FakeSourceOptions) {
    this.id = options.id;
    this.name = `fake ${options.id}`;
    this.kind = options.kind ?? 'measured';
    this.covers = options.covers ?? ['cpu'];
  }

  async probe(): Promise<ProbeResult> {
    if (this.options.unavailable) return { ok: false, reason: this.options.unavailable };
    return { ok: true, detail: this.name, label: this.options.label ?? 'measured:counter' };
  }

  async open(): Promise<EnergyReader> {
    if (this.options.unavailable) throw new Error(this.options.unavailable);
    const { clock } = this.options;
    const power = this.options.watts;
    const watts = typeof power === 'number' ? () => power : power;
    const label = this.options.label ?? (this.kind === 'modelled' ? 'modelled:tdp-load' : 'measured:counter');
    let joules = 0;
    let last = clock();
    const advance = (): number => {
      const now = clock();
      if (typeof power === 'number') joules += (power * (now - last)) / 1000;
      // A power that depends on time is followed in 1 ms steps.
      else for (let t = last; t < now; t += 1) joules += power(t) * (Math.min(1, now - t) / 1000);
      last = Math.max(last, now);
      return now;
    };
    return {
      id: this.id,
      label,
      source: this.name,
      covers: this.covers,
      ...(this.options.idleWatts !== undefined ? { idleWatts: this.options.idleWatts } : {}),
      mark(): ReaderMark {
        const at = advance();
        return { at, joules };
      },
      joulesBetween: (from, to) =>
        from.joules === null || to.joules === null ? null : to.joules - from.joules,
      watts: () => watts(clock()),
      failure: () => null,
      settle: async () => {},
      close: async () => {},
    };
  }
}
