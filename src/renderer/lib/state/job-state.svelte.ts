/**
 * One job as the UI sees it: the JobModel shape with `$state` fields, fed by the event stream.
 * Metric histories and logs are `$state.raw` (replaced on each change, never proxied), so a
 * long run costs one array swap per event.
 */
import type { JobStatus } from '../../../shared/api';
import type { SerializedError } from '../../../shared/errors';
import type { JobResult } from '../../../shared/job-results';
import type { JobEvent, JobKind, JobSpec, LiveEnergy } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import {
  applyJobEvent,
  type BatchStatus,
  isTerminal,
  type JobModel,
  type JobPhase,
  type LogLine,
  MAX_LOG_LINES,
  type MetricPoint,
  modelFromEvents,
  SERIES_KEYS,
  spliceSeries,
} from './job-model';
import { SeqWindow } from './seq-window';

export class JobState implements JobModel {
  readonly jobId: string;
  readonly seen = new SeqWindow();
  kind = $state<JobKind | null>(null);
  phase = $state<JobPhase>('queued');
  backend = $state.raw<BackendReport | null>(null);
  runDir = $state<string | null>(null);
  stage = $state<string | null>(null);
  stageDetail = $state<string | null>(null);
  fraction = $state<number | null>(null);
  etaSeconds = $state<number | null>(null);
  batch = $state.raw<BatchStatus | null>(null);
  loss = $state.raw<MetricPoint[]>([]);
  accuracy = $state.raw<MetricPoint[]>([]);
  valLoss = $state.raw<MetricPoint[]>([]);
  valAccuracy = $state.raw<MetricPoint[]>([]);
  power = $state.raw<MetricPoint[]>([]);
  energy = $state.raw<LiveEnergy | null>(null);
  logs = $state.raw<LogLine[]>([]);
  result = $state.raw<JobResult | null>(null);
  error = $state.raw<SerializedError | null>(null);
  startedAt = $state<number | null>(null);
  prunes = $state.raw<JobModel['prunes']>([]);
  /** What the job was asked to do, once the host's status said. */
  spec = $state.raw<JobSpec | null>(null);

  readonly finished = $derived(isTerminal(this.phase));
  private readonly waiting: ((phase: JobPhase) => void)[] = [];

  constructor(jobId: string, kind: JobKind | null = null) {
    this.jobId = jobId;
    this.kind = kind;
  }

  apply(event: JobEvent): boolean {
    const applied = applyJobEvent(this, event);
    if (applied) this.settle();
    return applied;
  }

  /** Resolves with the final phase once the job has completed, failed or been cancelled. */
  done(): Promise<JobPhase> {
    if (isTerminal(this.phase)) return Promise.resolve(this.phase);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private settle(): void {
    if (!isTerminal(this.phase)) return;
    for (const resolve of this.waiting.splice(0)) resolve(this.phase);
  }

  /**
   * Put the run's history from its events.jsonl (every process that worked on it) before what
   * this window saw live: a reloaded page or a resumed run keeps its charts and log.
   */
  loadHistory(events: readonly JobEvent[]): void {
    const file = modelFromEvents(this.jobId, events);
    for (const key of SERIES_KEYS) this[key] = spliceSeries(file[key], this[key]);
    const firstLive = this.logs[0]?.time ?? Infinity;
    const logs = [...file.logs.filter((line) => line.time < firstLive), ...this.logs];
    this.logs = logs.slice(Math.max(0, logs.length - MAX_LOG_LINES));
    if (this.prunes.length === 0) this.prunes = file.prunes;
    this.backend ??= file.backend;
    this.stage ??= file.stage;
    this.fraction ??= file.fraction;
    this.batch ??= file.batch;
    this.energy ??= file.energy;
    // The file's last stretch is this job's own process when it started when this job did:
    // its events are now shown, so a later replay of them is a repeat.
    const lastStart = events.findLastIndex((event) => event.type === 'started');
    if (lastStart >= 0 && this.startedAt !== null && events[lastStart]!.time === this.startedAt)
      for (const event of events.slice(lastStart)) this.seen.add(event.seq);
  }

  /** Take what the host's status knows that the events did not say (e.g. a job that ended before this window opened). */
  sync(status: JobStatus): void {
    this.kind ??= status.kind;
    this.spec ??= status.spec;
    if (status.runDir && !this.runDir) this.runDir = status.runDir;
    if (isTerminal(this.phase)) return;
    if (status.state === 'running' && this.phase === 'queued') this.phase = 'running';
    if (isTerminal(status.state)) {
      this.phase = status.state;
      if (status.result) this.result = status.result;
      if (status.error) this.error = status.error;
      this.settle();
    }
  }
}
