/**
 * How a training run spreads its steps over the CPU: how many data-parallel replicas, how many
 * threads each replica's native kernels get, and the micro-batch that fits the memory budget —
 * planned before training (a model that cannot fit one sample is refused there), then the
 * replica workers started, or one thread kept with the reason logged.
 */
import type { BackendName } from '../../../../shared/types';
import { helperFailure, helpersStarted, kernelParts } from '../../backend/ort-helpers';
import { setKernelThreads } from '../../backend/threads';
import { webgpuAdapter } from '../../backend/webgpu-rung';
import type { JobContext } from '../../job/context';
import { summarizeLayers } from '../../model/summary';
import { type LayersModel, tf } from '../../tf';
import type { OutputKind } from '../loss';
import {
  fitGpuMicroBatch,
  fitMicroBatch,
  memoryBudgetBytes,
  type TrainingMemoryEstimate,
} from '../memory-estimate';
import { replicaCount } from './partition';
import { ReplicaPool } from './replica-pool';

export interface Parallelism {
  /** The threads allowed (--threads). */
  threads: number;
  /** Data-parallel replicas (worker threads, this one included). */
  replicas: number;
  /** The most samples of a batch one replica gets. */
  sliceSize: number;
  /** Samples per forward/backward pass; below `sliceSize`, gradients are accumulated. */
  microBatch: number;
  /** Threads each replica's native kernels may use. */
  kernelThreads: number;
}

/**
 * Replicas for the CPU backends (each a worker thread with its own WebAssembly instance); the
 * GPU backends run a batch as one. On the CPU backends the micro-batch is the largest whose step fits the
 * memory budget (a PollardError('oom') before training where not even one sample fits).
 */
export function planParallelism(
  model: LayersModel,
  memory: TrainingMemoryEstimate,
  batchSize: number,
  backend: BackendName,
  threads: number,
  wantedReplicas?: number,
): Parallelism {
  const onCpu = backend === 'wasm' || backend === 'cpu';
  // Layers only: summarizeModel would read every weight back (a GPU backend in Node cannot read synchronously).
  const macs = summarizeLayers(model).reduce((sum, layer) => sum + layer.macs, 0);
  const replicas = !onCpu
    ? 1
    : wantedReplicas !== undefined
      ? Math.min(wantedReplicas, replicaCount(threads, batchSize))
      : replicaCount(threads, batchSize, macs);
  // The threads left to each replica cut its large native kernels along the batch (helper
  // threads, backend/ort-helpers.ts): LeNet on one replica at 2 threads.
  const kernelThreads = onCpu ? Math.max(1, Math.floor(threads / replicas)) : 1;
  const slice = Math.ceil(batchSize / replicas);
  const adapter = backend === 'webgpu' ? webgpuAdapter() : undefined;
  const microBatch = onCpu
    ? fitMicroBatch(model, slice, memoryBudgetBytes(), memory)
    : adapter
      ? fitGpuMicroBatch(model, slice, adapter.maxStorageBufferBindingSize, memoryBudgetBytes(), memory)
      : slice;
  return {
    threads,
    replicas,
    sliceSize: slice,
    microBatch,
    kernelThreads,
  };
}

/** The log's note on gradient accumulation, where a slice is trained in micro-batches. */
function microNote(parallelism: Parallelism): string {
  return parallelism.microBatch < parallelism.sliceSize
    ? `; micro-batches of ${parallelism.microBatch} with gradient accumulation, so that a step fits in memory`
    : '';
}

/** Starts the replica workers, or says why training stays on one thread. */
async function startReplicas(
  model: LayersModel,
  variables: tf.Variable[],
  kind: OutputKind,
  data: { classes: number; shape: [number, number, number] },
  batchSize: number,
  parallelism: Parallelism,
  ctx: JobContext,
): Promise<ReplicaPool | undefined> {
  const micro = microNote(parallelism);
  if (parallelism.replicas <= 1) {
    // With kernel threads, startParallelism says how they were used once their helpers started.
    if (micro && parallelism.kernelThreads <= 1) ctx.log('info', `training on 1 thread${micro}`);
    return undefined;
  }
  try {
    const pool = await ReplicaPool.start(model, variables, {
      replicas: parallelism.replicas,
      backend: tf.getBackend() as BackendName,
      kind,
      classes: data.classes,
      sampleShape: data.shape,
      batchSize,
      kernelThreads: parallelism.kernelThreads,
      microBatch: parallelism.microBatch,
    });
    ctx.log(
      'info',
      `training on ${parallelism.replicas} threads: data-parallel replicas, each batch of ${batchSize} split between them${micro}`,
    );
    return pool;
  } catch (error) {
    ctx.log(
      'warn',
      `training on 1 thread: the replica workers could not start (${error instanceof Error ? error.message : String(error)})`,
    );
    return undefined;
  }
}

/**
 * Starts the planned replicas (falling back to the one-thread plan, with the reason logged,
 * where their workers cannot start) and gives this thread's kernels their share of the threads.
 */
export async function startParallelism(
  model: LayersModel,
  variables: tf.Variable[],
  kind: OutputKind,
  data: { classes: number; shape: [number, number, number] },
  batchSize: number,
  planned: Parallelism,
  memory: TrainingMemoryEstimate,
  ctx: JobContext,
): Promise<{ pool: ReplicaPool | undefined; parallelism: Parallelism }> {
  const pool = await startReplicas(model, variables, kind, data, batchSize, planned, ctx);
  const parallelism =
    !pool && planned.replicas > 1
      ? planParallelism(model, memory, batchSize, tf.getBackend() as BackendName, 1)
      : planned;
  setKernelThreads(parallelism.kernelThreads);
  // Every step cuts its native kernels the same way (results depend on the seed and the thread
  // count alone): the helper threads are ready, or have failed to start, before the first step.
  await helpersStarted();
  if (pool === undefined && parallelism.kernelThreads > 1) {
    const micro = microNote(parallelism);
    const parts = kernelParts();
    const failure = helperFailure();
    ctx.log(
      parts > 1 || failure === undefined ? 'info' : 'warn',
      parts > 1
        ? `training on ${parts} threads: one replica, its large native kernels cut along the batch across them${micro}`
        : `training on 1 thread: ${failure === undefined ? 'no native kernels to spread across threads' : `the kernel helper threads could not start (${failure})`}${micro}`,
    );
  }
  return { pool, parallelism };
}
