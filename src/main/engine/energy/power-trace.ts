/**
 * Power samples over time, integrated with the trapezoid rule. Before the first sample and after
 * the last the power is held constant, so a window edge that falls between polls is still counted.
 * Prefix sums keep each integral O(log n) however long a training run gets.
 */
export class PowerTrace {
  private readonly times: number[] = [];
  private readonly powers: number[] = [];
  /** Joules from the first sample to sample i. */
  private readonly prefix: number[] = [];

  get size(): number {
    return this.times.length;
  }

  get lastTime(): number | null {
    return this.times.at(-1) ?? null;
  }

  get lastWatts(): number | null {
    return this.powers.at(-1) ?? null;
  }

  /** Adds a sample at `at` ms; samples that do not move time forward are dropped. */
  add(at: number, watts: number): void {
    if (!Number.isFinite(at) || !Number.isFinite(watts) || watts < 0) return;
    const n = this.times.length;
    if (n === 0) {
      this.times.push(at);
      this.powers.push(watts);
      this.prefix.push(0);
      return;
    }
    const lastAt = this.times[n - 1]!;
    if (at <= lastAt) return;
    const lastW = this.powers[n - 1]!;
    this.times.push(at);
    this.powers.push(watts);
    this.prefix.push(this.prefix[n - 1]! + ((lastW + watts) / 2) * ((at - lastAt) / 1000));
  }

  /** Joules from the first sample to `at` (negative before it); null without samples. */
  private energyTo(at: number): number | null {
    const n = this.times.length;
    if (n === 0) return null;
    const t0 = this.times[0]!;
    if (at <= t0) return this.powers[0]! * ((at - t0) / 1000);
    const tLast = this.times[n - 1]!;
    if (at >= tLast) return this.prefix[n - 1]! + this.powers[n - 1]! * ((at - tLast) / 1000);
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! <= at) lo = mid;
      else hi = mid;
    }
    const ta = this.times[lo]!;
    const tb = this.times[hi]!;
    const wa = this.powers[lo]!;
    const wb = this.powers[hi]!;
    const wAt = wa + ((wb - wa) * (at - ta)) / (tb - ta);
    return this.prefix[lo]! + ((wa + wAt) / 2) * ((at - ta) / 1000);
  }

  /** Joules between two times (ms); null without samples. */
  energyBetween(from: number, to: number): number | null {
    const a = this.energyTo(from);
    const b = this.energyTo(to);
    return a === null || b === null ? null : b - a;
  }
}
