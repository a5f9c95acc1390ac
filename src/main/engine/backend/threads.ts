/**
 * How many CPU threads this process's compute may use (`--threads`, Settings; default: every
 * core). Training spends them on data-parallel replicas first (see train/parallel/), and
 * whatever is left per replica goes to kernels that have a thread pool of their own.
 */
import os from 'node:os';

let threads: number | undefined;
let kernelThreads = 1;
const kernelThreadListeners = new Set<(threads: number) => void>();

export function availableCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Set once per job process from the job's spec; undefined: every core. */
export function setComputeThreads(value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new RangeError(`threads must be a positive integer, got ${value}`);
  }
  threads = value;
}

export function computeThreads(): number {
  return threads ?? availableCores();
}

/** Threads each kernel with its own pool may use in this thread (1 while replicas share the cores). */
export function setKernelThreads(value: number): void {
  kernelThreads = Math.max(1, Math.floor(value));
  for (const listener of kernelThreadListeners) listener(kernelThreads);
}

/** Called now and whenever the kernel thread count changes (native kernel providers subscribe). */
export function onKernelThreads(listener: (threads: number) => void): () => void {
  kernelThreadListeners.add(listener);
  listener(kernelThreads);
  return () => kernelThreadListeners.delete(listener);
}
