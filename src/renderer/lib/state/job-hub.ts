/**
 * One subscription to the host's event stream for the whole window; each message goes to the
 * JobState of its job, created on first sight (so a reloaded page picks up running jobs from
 * the replayed events).
 */
import type { JobStatus, PollardApi } from '../../../shared/api';
import type { JobKind, JobSpecInput } from '../../../shared/jobs';
import { JobState } from './job-state.svelte';

export class JobHub {
  private readonly jobs = new Map<string, JobState>();
  private readonly withHistory = new WeakSet<JobState>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly api: PollardApi) {}

  /** Start listening; returns the jobs the host had queued or running when this window opened. */
  async connect(): Promise<JobState[]> {
    this.unsubscribe ??= this.api.subscribe((message) => this.job(message.jobId).apply(message.event));
    const statuses = await this.api.listJobs();
    return statuses.filter((s) => s.state === 'queued' || s.state === 'running').map((s) => this.track(s));
  }

  disconnect(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  job(jobId: string, kind: JobKind | null = null): JobState {
    let job = this.jobs.get(jobId);
    if (!job) {
      job = new JobState(jobId, kind);
      this.jobs.set(jobId, job);
    }
    return job;
  }

  track(status: JobStatus): JobState {
    const job = this.job(status.jobId, status.kind);
    job.sync(status);
    return job;
  }

  async start(spec: JobSpecInput): Promise<JobState> {
    return this.track(await this.api.startJob(spec));
  }

  /** The job the host is running (or has queued) in `runDir`, tracked here; null when none is. */
  async attach(runDir: string): Promise<JobState | null> {
    const status = (await this.api.listJobs()).find(
      (s) => s.runDir === runDir && (s.state === 'queued' || s.state === 'running'),
    );
    return status ? this.track(status) : null;
  }

  /** A resumed run is a new job in the same folder: its charts start with the earlier history. */
  async resume(runDir: string): Promise<JobState> {
    const job = this.track(await this.api.resumeRun(runDir));
    await this.loadHistory(job);
    return job;
  }

  /**
   * Give a job the history of its run folder (events.jsonl), once: for a job found running after
   * a reload, opened from Recent runs, or resumed. A run without readable events keeps what the
   * live stream gives.
   */
  async loadHistory(job: JobState): Promise<void> {
    if (!job.runDir || this.withHistory.has(job)) return;
    this.withHistory.add(job);
    try {
      job.loadHistory(await this.api.getRunEvents(job.runDir));
    } catch {
      this.withHistory.delete(job);
    }
  }

  async cancel(job: JobState): Promise<void> {
    await this.api.cancelJob(job.jobId);
  }
}
