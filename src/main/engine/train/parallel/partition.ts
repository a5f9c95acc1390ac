/**
 * How one optimizer step's batch is divided: first across replicas (data parallelism, one per
 * worker thread), then, within a replica, into micro-batches whose gradients are accumulated
 * (when a whole slice would not fit in memory). Pure arithmetic, so the division — and with it
 * every result — depends only on the batch size, the replica count and the micro-batch size.
 */

export interface Slice {
  /** First sample of the batch this slice holds. */
  start: number;
  size: number;
}

/**
 * `size` samples divided into `parts` contiguous slices whose sizes differ by at most one, the
 * larger ones first; empty slices are dropped (a last batch smaller than the replica count).
 */
export function partition(size: number, parts: number): Slice[] {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`partition: bad size ${size}`);
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`partition: bad part count ${parts}`);
  const base = Math.floor(size / parts);
  const extra = size % parts;
  const slices: Slice[] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const length = base + (i < extra ? 1 : 0);
    if (length === 0) break;
    slices.push({ start, size: length });
    start += length;
  }
  return slices;
}

/** A slice cut into micro-batches of at most `microBatch` samples (in order). */
export function microBatches(slice: Slice, microBatch: number): Slice[] {
  if (!Number.isInteger(microBatch) || microBatch < 1) {
    throw new RangeError(`microBatches: bad micro-batch size ${microBatch}`);
  }
  const out: Slice[] = [];
  for (let offset = 0; offset < slice.size; offset += microBatch) {
    out.push({ start: slice.start + offset, size: Math.min(microBatch, slice.size - offset) });
  }
  return out;
}

/**
 * Replicas worth running for a batch: no more than the threads allowed, and none with fewer than
 * `minSlice` samples, where a replica's fixed costs (weight sync, per-op overhead) outweigh its work.
 */
export function replicaCount(threads: number, batchSize: number, minSlice = 8): number {
  return Math.max(1, Math.min(threads, Math.floor(batchSize / minSlice)));
}
