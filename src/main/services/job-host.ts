/**
 * Runs one engine job in a separate process and turns its event stream into a JobOutcome.
 * The process is launched by a `WorkerLauncher`: Node's child_process.fork here (CLI,
 * `pollard serve`, tests), Electron's utilityProcess in the desktop app (src/main/electron).
 *
 * Cancel is soft first (the job stops at the next batch boundary and checkpoints), then hard
 * (kill) after a grace period. A process that dies without a terminal event is a crash and
 * is reported with its exit code or signal.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SerializedError } from '../../shared/errors';
import type { JobResult } from '../../shared/job-results';
import type { JobCommand, JobEvent, JobSpec } from '../../shared/jobs';

export interface WorkerProcess {
  readonly pid: number | undefined;
  send(command: JobCommand): void;
  onMessage(listener: (event: JobEvent) => void): void;
  /** `reason` is human-readable, e.g. "exit code 1" or "killed by SIGKILL". */
  onExit(listener: (code: number | null, reason: string) => void): void;
  /** Lines the process printed on stdout/stderr (tfjs and native libraries print there). */
  onOutput(listener: (stream: 'stdout' | 'stderr', line: string) => void): void;
  kill(): void;
}

export type WorkerLauncher = () => WorkerProcess;

export type JobOutcome =
  | { status: 'completed'; result: JobResult }
  | { status: 'failed'; error: SerializedError }
  | { status: 'cancelled' };

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Where the job process entry is when running from the TypeScript sources (CLI, tests). */
export const SOURCE_WORKER_ENTRY = path.resolve(here, '../engine/job/worker.ts');

function splitLines(listener: (line: string) => void): (chunk: Buffer | string) => void {
  let buffered = '';
  return (chunk) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') listener(line);
  };
}

/**
 * `WorkerProcess.onOutput` over a child's stdout and stderr (a Node child or an Electron
 * utility process): each non-empty line goes to every listener.
 */
export function outputLines(
  stdout: NodeJS.ReadableStream | null | undefined,
  stderr: NodeJS.ReadableStream | null | undefined,
): WorkerProcess['onOutput'] {
  const listeners: ((stream: 'stdout' | 'stderr', line: string) => void)[] = [];
  stdout?.on(
    'data',
    splitLines((line) => listeners.forEach((l) => l('stdout', line))),
  );
  stderr?.on(
    'data',
    splitLines((line) => listeners.forEach((l) => l('stderr', line))),
  );
  return (listener) => {
    listeners.push(listener);
  };
}

/**
 * Launch the job process with child_process.fork. From the TypeScript sources the process
 * loads tsx first; a bundled build passes its compiled entry and no loader.
 */
export function nodeWorkerLauncher(
  options: { entry?: string; execArgv?: string[]; env?: NodeJS.ProcessEnv } = {},
): WorkerLauncher {
  const entry = options.entry ?? SOURCE_WORKER_ENTRY;
  const execArgv =
    options.execArgv ??
    (entry.endsWith('.ts') ? ['--import', pathToFileURL(require.resolve('tsx')).href] : []);
  return () => {
    const child = fork(entry, [], {
      execArgv,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const onOutput = outputLines(child.stdout, child.stderr);
    return {
      get pid() {
        return child.pid;
      },
      send: (command) => {
        if (child.connected) child.send(command);
      },
      onMessage: (listener) => child.on('message', (message) => listener(message as JobEvent)),
      onExit: (listener) =>
        child.on('exit', (code, signal) =>
          listener(code, signal ? `killed by ${signal}` : `exit code ${code === null ? 'unknown' : code}`),
        ),
      onOutput,
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}

export interface StartJobOptions {
  launcher?: WorkerLauncher;
  /** Milliseconds between the soft cancel and the kill. */
  graceMs?: number;
}

export class JobHandle {
  readonly id = randomUUID();
  readonly spec: JobSpec;
  readonly done: Promise<JobOutcome>;
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private readonly worker: WorkerProcess;
  private readonly graceMs: number;
  private terminal: JobOutcome | undefined;
  private cancelRequested = false;
  private killTimer: NodeJS.Timeout | undefined;
  private lastSeq = -1;
  private synthesizedSeq = 1_000_000_000;

  constructor(spec: JobSpec, options: StartJobOptions = {}) {
    this.spec = spec;
    this.graceMs = options.graceMs ?? 10_000;
    this.worker = (options.launcher ?? nodeWorkerLauncher())();
    this.done = new Promise<JobOutcome>((resolve) => {
      this.worker.onMessage((event) => {
        this.lastSeq = event.seq;
        if (event.type === 'result') this.terminal = { status: 'completed', result: event.result };
        else if (event.type === 'error') this.terminal = { status: 'failed', error: event.error };
        else if (event.type === 'cancelled') this.terminal = { status: 'cancelled' };
        this.dispatch(event);
      });
      this.worker.onOutput((stream, line) =>
        this.dispatch({
          type: 'log',
          level: stream === 'stderr' ? 'warn' : 'debug',
          message: line,
          seq: this.synthesizedSeq++,
          time: Date.now(),
        }),
      );
      this.worker.onExit((_code, reason) => {
        if (this.killTimer) clearTimeout(this.killTimer);
        if (this.terminal) {
          resolve(this.terminal);
          return;
        }
        if (this.cancelRequested) {
          this.dispatch({ type: 'cancelled', seq: this.lastSeq + 1, time: Date.now() });
          resolve({ status: 'cancelled' });
          return;
        }
        const error: SerializedError = {
          code: 'crash',
          message: `the job process stopped unexpectedly (${reason})${reason.includes('SIGKILL') ? '; it may have run out of memory' : ''}`,
        };
        this.dispatch({ type: 'error', error, seq: this.lastSeq + 1, time: Date.now() });
        resolve({ status: 'failed', error });
      });
    });
    this.worker.send({ type: 'start', spec });
  }

  get pid(): number | undefined {
    return this.worker.pid;
  }

  /** Subscribe to events; returns an unsubscribe function. */
  on(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Soft cancel now, hard kill after the grace period. */
  cancel(): void {
    if (this.cancelRequested) return;
    this.cancelRequested = true;
    this.worker.send({ type: 'cancel' });
    this.killTimer = setTimeout(() => this.worker.kill(), this.graceMs);
    this.killTimer.unref();
  }

  /** Kill at once (used by tests that simulate a crash, and on app quit). */
  kill(): void {
    this.worker.kill();
  }

  private dispatch(event: JobEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

export function startJob(spec: JobSpec, options: StartJobOptions = {}): JobHandle {
  return new JobHandle(spec, options);
}
