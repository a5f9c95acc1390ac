/**
 * The per-step handshake between rank 0 and one replica thread, through shared memory instead of
 * messages. A message between threads is delivered by the receiver's event loop, which sleeps
 * while it waits, and waking a sleeping thread on these shared VMs is slow: on LeNet, 2 replicas,
 * a step message reached the replica 0.9 ms after rank 0 posted it, and rank 0's own half plus
 * its wait exceeded the replica's working time by 2.1–3.3 ms a step (of 12–15 ms); through this
 * channel that excess measured 1.3–1.6 ms. Here each side spins on a shared counter for up to SPIN_MS (the
 * gaps between steps are shorter than that, so neither side falls asleep while training), then
 * sleeps on it: the replica in Atomics.wait, rank 0 in Atomics.waitAsync (so that its event
 * loop still hears a replica that exits).
 *
 * Layout (one SharedArrayBuffer per thread, kept for the thread's life):
 *   Int32 [0] request counter (rank 0 increments), [1] kind, [2] samples, [3] micro-batch,
 *         [4] done counter (the replica sets it to the request's), [5] status, [6] error bytes,
 *         [7] the whole batch's size;
 *   Float64 at byte 32: Σ loss, correct count, finite (1/0);
 *   bytes 64… : the error's message, UTF-8.
 */

export type RequestKind = 'step' | 'predict' | 'release';

export interface ReplicaRequest {
  kind: RequestKind;
  size: number;
  microBatch: number;
  /** Samples in the whole batch, over all ranks: a step's gradients are shares of its mean (0 for other kinds). */
  batchSize: number;
}

export interface ReplicaOutcome {
  lossSum: number;
  correct: number;
  finite: boolean;
}

export interface ReplicaFailure {
  message: string;
  /** A WebAssembly abort: the replica's heap is unusable. */
  abort: boolean;
}

/** How long either side spins on the other's counter before it sleeps. */
export const SPIN_MS = 10;
/** How long rank 0 sleeps at a time before it looks at the replica's health again. */
const SLEEP_MS = 250;

const REQUEST = 0;
const KIND = 1;
const SIZE = 2;
const MICRO = 3;
const DONE = 4;
const STATUS = 5;
const TEXT_LENGTH = 6;
const BATCH = 7;
const RESULTS_BYTE = 32;
const TEXT_BYTE = 64;
const TEXT_BYTES = 4096;
export const CHANNEL_BYTES = TEXT_BYTE + TEXT_BYTES;

/** Atomics.waitAsync (ES2024; in Node since 16), typed here as the TypeScript lib in use lacks it. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

const KINDS: readonly RequestKind[] = ['step', 'predict', 'release'];
const OK = 0;
const FAILED = 1;
const ABORTED = 2;

export class StepChannel {
  private readonly ints: Int32Array;
  private readonly results: Float64Array;
  private readonly text: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    if (buffer.byteLength !== CHANNEL_BYTES) {
      throw new RangeError(`step channel: ${buffer.byteLength} bytes, expected ${CHANNEL_BYTES}`);
    }
    this.ints = new Int32Array(buffer, 0, 8);
    this.results = new Float64Array(buffer, RESULTS_BYTE, 3);
    this.text = new Uint8Array(buffer, TEXT_BYTE, TEXT_BYTES);
  }

  static create(): StepChannel {
    return new StepChannel(new SharedArrayBuffer(CHANNEL_BYTES));
  }

  /** The last request posted (a replica starts serving after it). */
  get lastRequest(): number {
    return Atomics.load(this.ints, REQUEST);
  }

  // Rank 0's side.

  /** Posts a request and wakes the replica; returns its number. */
  post(request: ReplicaRequest): number {
    const ints = this.ints;
    ints[KIND] = KINDS.indexOf(request.kind);
    ints[SIZE] = request.size;
    ints[MICRO] = request.microBatch;
    ints[BATCH] = request.batchSize;
    const seq = (Atomics.load(ints, REQUEST) + 1) | 0;
    Atomics.store(ints, REQUEST, seq);
    Atomics.notify(ints, REQUEST);
    return seq;
  }

  isDone(seq: number): boolean {
    return Atomics.load(this.ints, DONE) === seq;
  }

  /**
   * The replica's answer to request `seq`, once it has given it: spinning first, then asleep in
   * steps of SLEEP_MS, asking `failure` between them (a thread that exited never answers).
   */
  async waitFor(seq: number, failure: () => Error | undefined): Promise<ReplicaOutcome | ReplicaFailure> {
    const until = performance.now() + SPIN_MS;
    while (!this.isDone(seq) && performance.now() < until);
    for (;;) {
      const seen = Atomics.load(this.ints, DONE);
      if (seen === seq) break;
      const wait = waitAsync(this.ints, DONE, seen, SLEEP_MS);
      if (wait.async) await wait.value;
      const failed = failure();
      if (failed && !this.isDone(seq)) throw failed;
    }
    const status = Atomics.load(this.ints, STATUS);
    if (status !== OK) {
      const bytes = this.text.slice(0, this.ints[TEXT_LENGTH]);
      return { message: new TextDecoder().decode(bytes), abort: status === ABORTED };
    }
    const [lossSum, correct, finite] = this.results;
    return { lossSum: lossSum!, correct: correct!, finite: finite === 1 };
  }

  // The replica's side.

  /** The next request after `seen`: spinning first, then asleep until rank 0 posts one. */
  next(seen: number): { seq: number; request: ReplicaRequest } {
    const ints = this.ints;
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(ints, REQUEST) === seen && performance.now() < until);
    while (Atomics.load(ints, REQUEST) === seen) Atomics.wait(ints, REQUEST, seen);
    const seq = Atomics.load(ints, REQUEST);
    const kind = KINDS[ints[KIND]!];
    if (kind === undefined) throw new Error(`step channel: unknown request kind ${ints[KIND]}`);
    return {
      seq,
      request: { kind, size: ints[SIZE]!, microBatch: ints[MICRO]!, batchSize: ints[BATCH]! },
    };
  }

  /** Answers request `seq` with an outcome or a failure, and wakes rank 0. */
  answer(seq: number, result: ReplicaOutcome | ReplicaFailure): void {
    const ints = this.ints;
    if (isFailure(result)) {
      const { written } = new TextEncoder().encodeInto(result.message, this.text);
      ints[TEXT_LENGTH] = written;
      ints[STATUS] = result.abort ? ABORTED : FAILED;
    } else {
      this.results[0] = result.lossSum;
      this.results[1] = result.correct;
      this.results[2] = result.finite ? 1 : 0;
      ints[STATUS] = OK;
    }
    Atomics.store(ints, DONE, seq);
    Atomics.notify(ints, DONE);
  }
}

export function isFailure(result: ReplicaOutcome | ReplicaFailure): result is ReplicaFailure {
  return 'message' in result;
}
