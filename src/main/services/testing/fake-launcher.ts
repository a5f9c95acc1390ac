/**
 * For tests: a WorkerLauncher whose "process" runs a script in memory, so the queue, the
 * server and the IPC layer can be tested without starting the engine.
 */
import type { JobResult } from '../../../shared/job-results';
import type { JobCommand, JobEvent, JobEventBody, JobSpec } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import type { WorkerLauncher, WorkerProcess } from '../job-host';

export const FAKE_BACKEND: BackendReport = {
  used: 'cpu',
  device: 'pure JavaScript',
  rungs: [{ name: 'cpu', status: 'used', device: 'pure JavaScript' }],
};

export interface FakeJob {
  spec: JobSpec;
  emit(body: JobEventBody): void;
  /** End the process: code 0/1 as the job process would, null with a reason for a crash. */
  exit(code: number | null, reason?: string): void;
  /** Resolves when the host asks for a soft cancel. */
  cancelled: Promise<void>;
  pid: number;
}

export type FakeScript = (job: FakeJob) => void | Promise<void>;

let nextPid = 90_000;

export function fakeLauncher(script: FakeScript, launched: JobSpec[] = []): WorkerLauncher {
  return () => {
    const messageListeners: ((event: JobEvent) => void)[] = [];
    const exitListeners: ((code: number | null, reason: string) => void)[] = [];
    let seq = 0;
    let exited = false;
    let onCancel!: () => void;
    const cancelled = new Promise<void>((resolve) => (onCancel = resolve));
    const pid = nextPid++;
    const exit = (code: number | null, reason?: string): void => {
      if (exited) return;
      exited = true;
      const why = reason ?? `exit code ${code}`;
      setImmediate(() => exitListeners.forEach((listener) => listener(code, why)));
    };
    const worker: WorkerProcess = {
      pid,
      send(command: JobCommand) {
        if (command.type === 'cancel') {
          onCancel();
          return;
        }
        launched.push(command.spec);
        const job: FakeJob = {
          spec: command.spec,
          pid,
          cancelled,
          exit,
          emit(body) {
            if (exited) return;
            const event = { ...body, seq: seq++, time: Date.now() } as JobEvent;
            messageListeners.forEach((listener) => listener(event));
          },
        };
        setImmediate(() => void script(job));
      },
      onMessage: (listener) => messageListeners.push(listener),
      onExit: (listener) => exitListeners.push(listener),
      onOutput: () => undefined,
      kill: () => exit(null, 'killed by SIGKILL'),
    };
    return worker;
  };
}

export function started(job: FakeJob): void {
  job.emit({
    type: 'started',
    kind: job.spec.kind,
    backend: FAKE_BACKEND,
    pid: job.pid,
    versions: { node: process.versions.node },
    ...('out' in job.spec ? { runDir: job.spec.out } : {}),
  });
}

/** A job that reports `epochs` epochs and then its result. */
export function completes(result: JobResult, epochs = 0): FakeScript {
  return (job) => {
    started(job);
    for (let epoch = 1; epoch <= epochs; epoch++) {
      job.emit({
        type: 'epoch',
        epoch,
        epochs,
        loss: 1 / epoch,
        accuracy: 0.5 + epoch / 100,
        learningRate: 0.001,
        seconds: 1,
        samplesPerSecond: 100,
      });
    }
    job.emit({ type: 'result', result });
    job.exit(0);
  };
}

/** A job that runs until it is cancelled, then stops as the real one does. */
export function runsUntilCancelled(): FakeScript {
  return async (job) => {
    started(job);
    job.emit({ type: 'stage', stage: 'train' });
    await job.cancelled;
    job.emit({ type: 'cancelled', epoch: 1, batch: 3 });
    job.exit(0);
  };
}

/** A job that ignores a soft cancel (stuck in a long kernel): only the kill stops it. */
export function ignoresCancel(): FakeScript {
  return (job) => {
    started(job);
  };
}

/** A job whose process dies after starting. */
export function crashes(reason = 'killed by SIGSEGV'): FakeScript {
  return (job) => {
    started(job);
    job.exit(null, reason);
  };
}

export function fails(code: 'bad-input' | 'io', message: string): FakeScript {
  return (job) => {
    started(job);
    job.emit({ type: 'error', error: { code, message } });
    job.exit(1);
  };
}
