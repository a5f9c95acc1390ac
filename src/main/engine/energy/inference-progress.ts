/**
 * Progress and ETA of the inference-energy phase. The protocol reports a step only at the end of
 * a whole run (idle, each warm-up and measured run), so the bar sat on one value for seconds at a
 * time (33 % after warm-up and idle with three repetitions) and had no ETA until the first
 * measured run ended. Here the unit is one batch: every batch of every run moves the bar, the
 * idle wait is counted as the batches it stands for, and the ETA is known from the start (the
 * original's latency at batch 32 predicts the phase's length) and then follows the pace measured.
 */
import type { JobEventBody } from '../../../shared/jobs';

export interface InferencePlan {
  /** Batches in one run of either model. */
  batchesPerRun: number;
  /** Runs of both models together: 2 × (warm-up runs + repetitions). */
  runs: number;
  idleSeconds: number;
  /** The original's latency at batch 32, in ms. */
  batchMs: number;
}

export class InferenceProgress {
  readonly total: number;
  private done = 0;
  private lastEmit = -Infinity;
  private readonly startedAt: number;
  private readonly idleUnits: number;

  constructor(
    private readonly plan: InferencePlan,
    private readonly emit: (event: JobEventBody) => void,
    private readonly now: () => number = Date.now,
    private readonly everyMs = 250,
  ) {
    this.idleUnits = Math.round((plan.idleSeconds * 1000) / Math.max(plan.batchMs, 1e-3));
    this.total = plan.batchesPerRun * plan.runs + this.idleUnits;
    this.startedAt = now();
  }

  /** The phase's expected length before any of it ran, in seconds. */
  expectedSeconds(): number {
    return this.plan.idleSeconds + (this.plan.batchesPerRun * this.plan.runs * this.plan.batchMs) / 1000;
  }

  start(): void {
    this.send(this.expectedSeconds());
  }

  /** The idle wait is over: its share of the bar is done. */
  idleDone(): void {
    this.done += this.idleUnits;
    this.maybeSend();
  }

  batch(): void {
    this.done = Math.min(this.total, this.done + 1);
    this.maybeSend();
  }

  private maybeSend(): void {
    const at = this.now();
    if (at - this.lastEmit < this.everyMs && this.done < this.total) return;
    const elapsed = (at - this.startedAt) / 1000;
    const pace = this.done > 0 ? elapsed / this.done : this.expectedSeconds() / Math.max(1, this.total);
    this.send(pace * (this.total - this.done));
  }

  private send(etaSeconds: number): void {
    this.lastEmit = this.now();
    this.emit({
      type: 'progress',
      stage: 'energy: inference',
      done: this.done,
      total: this.total,
      etaSeconds: Math.max(0, etaSeconds),
    });
  }
}
