/**
 * One active job and a FIFO queue behind it. Every event of every job fans out to the
 * subscribers as a JobMessage; each unfinished job keeps a bounded replay buffer so a window
 * that reloads (or a browser that reconnects) can rebuild its state.
 */
import { randomUUID } from 'node:crypto';
import type { JobMessage, JobState, JobStatus } from '../../shared/api';
import { serializeError, usageError } from '../../shared/errors';
import type { JobEvent, JobSpec } from '../../shared/jobs';
import { runDirOf } from '../../shared/run-record';
import type { JobRun, RunJobOptions } from './jobs';

/** How the queue runs a job: `runJob` from services/jobs, or a fake in tests. */
export type JobRunner = (
  spec: JobSpec,
  options: Pick<RunJobOptions, 'onEvent' | 'signal'>,
) => Promise<JobRun>;

export interface JobQueueOptions {
  runner: JobRunner;
  /** Batch, progress and log events kept per unfinished job (started, stage and epoch events are always kept). */
  replayLimit?: number;
  /** Finished jobs still listed by `list()`. */
  finishedLimit?: number;
}

interface QueuedJob {
  status: JobStatus;
  controller: AbortController;
  /** Events always replayed, and the last `replayLimit` others, each with its arrival number. */
  pinned: { order: number; event: JobEvent }[];
  recent: { order: number; event: JobEvent }[];
  received: number;
  done: Promise<void>;
  resolveDone: () => void;
}

const PINNED_EVENTS = new Set<JobEvent['type']>(['started', 'stage', 'epoch', 'checkpoint', 'pruned']);
const TERMINAL: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

export class JobQueue {
  private readonly runner: JobRunner;
  private readonly replayLimit: number;
  private readonly finishedLimit: number;
  private readonly jobs = new Map<string, QueuedJob>();
  private readonly waiting: QueuedJob[] = [];
  private active: QueuedJob | undefined;
  private readonly finished: string[] = [];
  private readonly listeners = new Set<(message: JobMessage) => void>();

  constructor(options: JobQueueOptions) {
    this.runner = options.runner;
    this.replayLimit = options.replayLimit ?? 500;
    this.finishedLimit = options.finishedLimit ?? 100;
  }

  /** Queue a validated spec; it starts at once when nothing else runs. */
  enqueue(spec: JobSpec): JobStatus {
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const runDir = runDirOf(spec);
    const job: QueuedJob = {
      status: { jobId: randomUUID(), kind: spec.kind, state: 'queued', spec, ...(runDir ? { runDir } : {}) },
      controller: new AbortController(),
      pinned: [],
      recent: [],
      received: 0,
      done,
      resolveDone,
    };
    this.jobs.set(job.status.jobId, job);
    this.waiting.push(job);
    this.pump();
    return this.snapshot(job);
  }

  /** Cancel a queued job at once, or a running one softly (then hard after the grace period). */
  cancel(jobId: string): void {
    const job = this.jobs.get(jobId);
    if (!job) throw usageError(`cancelJob: no job ${jobId} in this session`);
    if (TERMINAL.has(job.status.state)) return;
    if (job.status.state === 'queued') {
      this.waiting.splice(this.waiting.indexOf(job), 1);
      this.emit(job, { type: 'cancelled', seq: 0, time: Date.now() });
      this.finish(job, 'cancelled');
      return;
    }
    job.controller.abort();
  }

  status(jobId: string): JobStatus | undefined {
    const job = this.jobs.get(jobId);
    return job ? this.snapshot(job) : undefined;
  }

  /** Running job first, then the queue in order, then finished jobs (newest first). */
  list(): JobStatus[] {
    const order = [
      ...(this.active ? [this.active] : []),
      ...this.waiting,
      ...[...this.finished].reverse().map((id) => this.jobs.get(id)!),
    ];
    return order.map((job) => this.snapshot(job));
  }

  subscribe(listener: (message: JobMessage) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** The buffered events of jobs still queued or running, in the order they arrived. */
  replay(): JobMessage[] {
    const messages: JobMessage[] = [];
    for (const job of [...(this.active ? [this.active] : []), ...this.waiting]) {
      const entries = [...job.pinned, ...job.recent].sort((a, b) => a.order - b.order);
      for (const { event } of entries) messages.push({ jobId: job.status.jobId, event });
    }
    return messages;
  }

  /** Resolves when the job has finished (any outcome). */
  async waitFor(jobId: string): Promise<JobStatus> {
    const job = this.jobs.get(jobId);
    if (!job) throw usageError(`no job ${jobId} in this session`);
    await job.done;
    return this.snapshot(job);
  }

  /** Cancel everything (queued jobs at once, the running one soft then hard) and wait. */
  async shutdown(): Promise<void> {
    for (const job of [...this.waiting]) this.cancel(job.status.jobId);
    const running = this.active;
    if (running) {
      running.controller.abort();
      await running.done;
    }
  }

  private snapshot(job: QueuedJob): JobStatus {
    const position = this.waiting.indexOf(job);
    return { ...job.status, ...(position >= 0 ? { queuePosition: position } : {}) };
  }

  private pump(): void {
    if (this.active) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.active = next;
    next.status.state = 'running';
    void this.execute(next);
  }

  private async execute(job: QueuedJob): Promise<void> {
    try {
      const { outcome } = await this.runner(job.status.spec, {
        onEvent: (event) => this.emit(job, event),
        signal: job.controller.signal,
      });
      if (outcome.status === 'completed') job.status.result = outcome.result;
      if (outcome.status === 'failed') job.status.error = outcome.error;
      this.finish(job, outcome.status);
    } catch (error) {
      // The job could not start (e.g. its run folder cannot be created): report it as its error event.
      const serialized = serializeError(error);
      this.emit(job, { type: 'error', error: serialized, seq: job.received, time: Date.now() });
      job.status.error = serialized;
      this.finish(job, 'failed');
    }
  }

  private finish(job: QueuedJob, state: JobState): void {
    job.status.state = state;
    job.pinned = [];
    job.recent = [];
    this.finished.push(job.status.jobId);
    while (this.finished.length > this.finishedLimit) this.jobs.delete(this.finished.shift()!);
    if (this.active === job) this.active = undefined;
    job.resolveDone();
    this.pump();
  }

  private emit(job: QueuedJob, event: JobEvent): void {
    const entry = { order: job.received++, event };
    if (event.type === 'started' && event.runDir) job.status.runDir = event.runDir;
    if (PINNED_EVENTS.has(event.type)) job.pinned.push(entry);
    else {
      job.recent.push(entry);
      if (job.recent.length > this.replayLimit) job.recent.shift();
    }
    const message: JobMessage = { jobId: job.status.jobId, event };
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch {
        // One broken subscriber (a closed window) must not stop the others.
      }
    }
  }
}
