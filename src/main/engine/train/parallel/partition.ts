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

/** Forward multiply-adds below which one more replica costs more (per-op overhead, sync) than it saves. */
export const MIN_MACS_PER_REPLICA = 100e6;

/**
 * Replicas worth running for a batch: no more than the threads allowed, none with fewer than
 * `minSlice` samples, and none with less than MIN_MACS_PER_REPLICA of forward work. LeNet's batch
 * of 64 is 27 M multiply-adds, most of its step per-op overhead that a second replica repeats
 * rather than halves. For a while 2 replicas paid on it (1.18–1.21× one, warm, with replica
 * threads that stay warm and share compiled code, when the threshold was 10 M); once the one-thread
 * step got faster (ONNX Runtime through its C API, LeNet's first filter gradient as one
 * convolution), they no longer did: 4,806–5,887 samples/s against 5,767–7,265 for one replica
 * (3 alternated pairs of fresh processes, 600 steps after 300 of warm-up, 2 cores). MobileNet-small
 * (433 M a batch) and up keep their replicas.
 */
export function replicaCount(
  threads: number,
  batchSize: number,
  macsPerSample = Infinity,
  minSlice = 8,
): number {
  const byWork = Math.floor((batchSize * macsPerSample) / MIN_MACS_PER_REPLICA);
  return Math.max(1, Math.min(threads, Math.floor(batchSize / minSlice), byWork));
}
