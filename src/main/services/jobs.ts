/**
 * The one way the CLI, `pollard serve` and the app run engine work: a JobSpec goes to a job
 * process; its events are recorded in the run folder (when the job has one) and passed on.
 */
import { usageError } from '../../shared/errors';
import type { JobEvent, JobSpec } from '../../shared/jobs';
import { runDirOf } from '../../shared/run-record';
import { type JobHandle, type JobOutcome, startJob, type WorkerLauncher } from './job-host';
import { readRun, type RunRecord, RunRecorder } from './runs';

export interface RunJobOptions {
  launcher?: WorkerLauncher;
  onEvent?: (event: JobEvent) => void;
  /** The command line, recorded in run.json. */
  command?: string[];
  /** Aborting it cancels the job (soft, then hard after `graceMs`). */
  signal?: AbortSignal;
  graceMs?: number;
  /** Called once the job process is started. */
  onStart?: (handle: JobHandle) => void;
}

export interface JobRun {
  outcome: JobOutcome;
  run?: RunRecord;
}

export async function runJob(spec: JobSpec, options: RunJobOptions = {}): Promise<JobRun> {
  const runDir = runDirOf(spec);
  const handle = startJob(spec, {
    ...(options.launcher ? { launcher: options.launcher } : {}),
    ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
  });
  // Listen before the first await: the job process may speak before the run folder is ready.
  const early: JobEvent[] = [];
  let recorder: RunRecorder | undefined;
  let recording = runDir === undefined;
  handle.on((event) => {
    if (!recording) {
      early.push(event);
      return;
    }
    recorder?.onEvent(event);
    options.onEvent?.(event);
  });
  if (runDir) {
    recorder = await RunRecorder.open(runDir, spec, {
      id: handle.id,
      ...(options.command ? { command: options.command } : {}),
    }).catch((error: unknown) => {
      handle.kill();
      throw error;
    });
    recording = true;
    for (const event of early.splice(0)) {
      recorder.onEvent(event);
      options.onEvent?.(event);
    }
  }
  options.onStart?.(handle);
  const onAbort = (): void => handle.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) handle.cancel();
  try {
    const outcome = await handle.done;
    const run = recorder ? await recorder.finish(outcome) : undefined;
    return { outcome, ...(run ? { run } : {}) };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The spec to continue a run: its recorded spec with `resume` set. */
export async function resumeSpec(runDir: string): Promise<JobSpec> {
  const run = await readRun(runDir);
  if (!('resume' in run.spec)) {
    throw usageError(`${runDir}: a ${run.kind} run cannot be resumed; only train and compress runs can`);
  }
  return { ...run.spec, out: runDir, resume: true } as JobSpec;
}
