/**
 * The worker threads behind replicas, kept warm between training runs in one process. A replica
 * worker's first steps are slow: V8 compiles its JavaScript (TensorFlow.js's engine, Pollard's
 * training step) to optimised code only once that code is hot, and its WebAssembly heap and
 * kernel sessions grow on first use. Measured on LeNet, batch 64, 2 replicas: a fresh worker
 * averaged 11.1 ms per half-batch over its first 100 steps and 7.4–8.2 ms over 800, still
 * falling, against 7.5 ms for the job process's own half, so every step waited for the worker. A job runs
 * several training runs (explore's candidates, each fine-tune after a pruning round, a
 * prune-while-training run that restarts its replicas whenever the architecture shrinks): each
 * now takes the threads the previous one released, with their compiled code, instead of starting
 * cold ones.
 *
 * A released thread drops its model and waits, not keeping the process alive (`unref`); threads
 * idle for REPLICA_IDLE_MS are ended, so a long-lived process does not hold their heaps. A
 * thread that failed, or was still busy when its pool closed (a cancel mid-step), is ended, never
 * reused.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../../../../shared/types';
import type { FromReplica, ReplicaInit } from './protocol';
import { isFailure, type ReplicaOutcome, type ReplicaRequest, StepChannel } from './step-channel';

const require = createRequire(import.meta.url);

/** How long a released thread waits for the next training run before it is ended. */
export const REPLICA_IDLE_MS = 60_000;

export class ReplicaError extends Error {
  constructor(
    message: string,
    readonly abort: boolean,
  ) {
    super(message);
    this.name = 'ReplicaError';
  }
}

/**
 * A replica worker: the bundle beside the job process's, or, from the TypeScript sources, a
 * two-line bootstrap that registers tsx's loader first (a worker's execArgv cannot --import it).
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('../replica/index.js', import.meta.url));
  // require.resolve gives the package's CommonJS build; the loader must be its ES module twin.
  const tsx = pathToFileURL(require.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL('./replica-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true });
}

/**
 * One worker thread. `init` travels as a message (the model's topology, the shared buffers);
 * once the thread has built the model it serves steps, predictions and its release through its
 * StepChannel until released.
 */
export class ReplicaThread {
  private readonly worker = startWorker();
  private readonly channel = StepChannel.create();
  private pendingInit?: { resolve: () => void; reject: (error: Error) => void };
  /** The request in flight on the channel (posted, not yet answered). */
  private inFlight?: number;
  /** Whether the worker serves its channel (an init succeeded and it has not been released). */
  private serving = false;
  private failure?: Error;
  /** The rank this thread serves in its current pool (named in errors). */
  rank = 0;

  constructor(readonly backend: BackendName) {
    this.worker.on('message', (message: FromReplica) => {
      const pending = this.pendingInit;
      this.pendingInit = undefined;
      if (!pending) return;
      if (message.type === 'ready') {
        this.serving = true;
        pending.resolve();
      } else if (message.type === 'error') {
        pending.reject(new ReplicaError(`replica ${this.rank}: ${message.message}`, message.abort));
      }
    });
    this.worker.on('error', (error) =>
      this.fail(new ReplicaError(`replica ${this.rank} failed: ${error.message}`, false)),
    );
    this.worker.on('exit', (code) =>
      this.fail(new ReplicaError(`replica ${this.rank} exited (code ${code})`, false)),
    );
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.pendingInit;
    this.pendingInit = undefined;
    pending?.reject(error);
  }

  /** Whether the thread can serve another pool: alive, and not in the middle of a request. */
  get reusable(): boolean {
    return this.failure === undefined && this.pendingInit === undefined && this.inFlight === undefined;
  }

  /** Builds the pool's model in the thread; resolves once it serves its channel. */
  init(message: Omit<ReplicaInit, 'control'>): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.reusable || this.serving) {
      return Promise.reject(new Error(`replica ${this.rank}: init while it serves another pool`));
    }
    return new Promise<void>((resolve, reject) => {
      this.pendingInit = { resolve, reject };
      this.worker.postMessage({ ...message, control: this.channel.buffer });
    });
  }

  /** Starts a step or a prediction (answered through `finish`). */
  post(request: ReplicaRequest): void {
    if (this.failure) throw this.failure;
    if (!this.serving || this.inFlight !== undefined) {
      throw new Error(`replica ${this.rank}: ${request.kind} while it is not ready for one`);
    }
    this.inFlight = this.channel.post(request);
  }

  /** The answer to the request `post` started; a failure the replica reported is thrown. */
  async finish(): Promise<ReplicaOutcome> {
    const seq = this.inFlight;
    if (seq === undefined) throw new Error(`replica ${this.rank}: nothing to finish`);
    const result = await this.channel.waitFor(seq, () => this.failure);
    this.inFlight = undefined;
    if (!isFailure(result)) return result;
    const error = new ReplicaError(`replica ${this.rank}: ${result.message}`, result.abort);
    // A WebAssembly abort leaves the thread's heap unusable: it is ended at release.
    if (result.abort) this.failure ??= error;
    throw error;
  }

  /** Drops the pool's model; the thread waits for its next init. */
  async release(): Promise<void> {
    if (!this.serving) return;
    this.post({ kind: 'release', size: 0, microBatch: 0, batchSize: 0 });
    await this.finish();
    this.serving = false;
  }

  hold(): void {
    this.worker.ref();
  }

  letGo(): void {
    this.worker.unref();
  }

  async end(): Promise<void> {
    this.fail(new ReplicaError(`replica ${this.rank} was closed`, false));
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

const idle: ReplicaThread[] = [];
let idleTimer: NodeJS.Timeout | undefined;

/** A thread for `backend`: the most recently released one, else a new one. */
export function acquireThread(backend: BackendName, rank: number): ReplicaThread {
  const index = idle.findLastIndex((thread) => thread.backend === backend);
  const thread = index >= 0 ? idle.splice(index, 1)[0]! : new ReplicaThread(backend);
  thread.rank = rank;
  thread.hold();
  return thread;
}

/**
 * Gives a thread back after its pool closes: its model is dropped and it waits for the next pool,
 * or it is ended where it cannot be reused.
 */
export async function releaseThread(thread: ReplicaThread): Promise<void> {
  if (!thread.reusable) return thread.end();
  try {
    await thread.release();
  } catch {
    return thread.end();
  }
  thread.letGo();
  idle.push(thread);
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void endIdleThreads(), REPLICA_IDLE_MS);
  idleTimer.unref();
}

/** Ends every idle thread (their heaps are freed); the next pool starts fresh ones. */
export async function endIdleThreads(): Promise<void> {
  clearTimeout(idleTimer);
  idleTimer = undefined;
  await Promise.all(idle.splice(0).map((thread) => thread.end()));
}

/** Idle threads waiting for a pool (for tests and diagnostics). */
export function idleThreadCount(): number {
  return idle.length;
}
