/**
 * Kernel threads for the native kernels: helper threads that run part of a large native
 * kernel's batch while the calling thread runs the rest, so that one training replica uses the
 * cores it is given (LeNet at 2 threads trains on one replica, where a second replica does not
 * pay: a step is too short for the fixed cost of another copy of the model).
 *
 * Why not ONNX Runtime's own intra-op threads: each session gets its own pool, whose threads
 * sleep between runs (spinning pools would burn the cores other replicas need), and ORT splits
 * every node of a graph. Measured here with 2 intra-op threads against 1, ms per call: a
 * Transpose of 64×10×10×16 0.022 → 0.15, LeNet's second input gradient 0.49 → 1.29, a 5×5
 * filter gradient (64×32×32×3 → 32) 6.8 → 10.9 — slower, though a bare 512³ MatMul gains 1.7×.
 * Here a kernel is cut once, along its batch, into contiguous parts (NHWC), and each part runs
 * as a whole graph on one thread: LeNet's first filter gradient 0.94 → 0.50 ms on two.
 *
 * A helper is a worker thread with its own koffi binding of the same library. The calling
 * thread binds every part's OrtValues itself (views of its wasm heap, which cannot grow while
 * it waits), passes the addresses through shared memory, runs its own part, and waits for the
 * others. ORT sessions may be run from several threads at once. Each helper spins for a few
 * milliseconds after a part, since the next native kernel of a step follows within that, and
 * then sleeps on Atomics.wait; it keeps no event loop busy and does not keep the process alive.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { API, API_VERSION, type BoundRun, FfiSession, RUN_SIGNATURE, ortLibraryPath } from './ort-ffi';
import type { KernelSession } from './ort-session-cache';

const require = createRequire(import.meta.url);

// Int32 control words of a helper.
const REQUEST = 0; // the latest request's number (this thread writes; −1 stops the helper)
const DONE = 1; // the latest finished request's number (the helper writes)
const STATUS = 2; // 0: the part ran; 1: ORT failed (message in the text buffer)
const STATE = 3; // 0: starting; 1: ready; −1: could not start (message in the text buffer)
const CONTROL_WORDS = 4;
// A part's BigUint64 words: the session's address, the input count, the byte length of the
// names (inputs then the output, newline-separated, in their own buffer), the inputs'
// OrtValue addresses and the output's.
const MAX_INPUTS = 8;
const TEXT_BYTES = 4096;
/** How long a helper spins for the next part before it sleeps. */
export const HELPER_SPIN_MS = 5;
/** Spins on a helper's answer before this thread sleeps on it. */
const WAIT_SPINS = 1 << 20;
/** How long this thread waits for a helper's part before it gives up on the helper. */
const PART_TIMEOUT_MS = 120_000;

/** The helper thread's program: plain CommonJS, evaluated by the Worker (no bundling, no loader). */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const ctrl = new Int32Array(workerData.control);
const addresses = new BigUint64Array(workerData.addresses);
const names = new Uint8Array(workerData.names);
const message = new Uint8Array(workerData.message);
const [REQUEST, DONE, STATUS, STATE] = [${REQUEST}, ${DONE}, ${STATUS}, ${STATE}];
const writeMessage = (text) => {
  const bytes = new TextEncoder().encode(String(text)).subarray(0, message.length - 4);
  new DataView(message.buffer).setUint32(0, bytes.length, true);
  message.set(bytes, 4);
};
let koffi, run, getErrorMessage, releaseStatus;
try {
  koffi = require(workerData.koffi);
  const lib = koffi.load(workerData.library);
  const base = lib.func('void *OrtGetApiBase()')();
  const [getApi] = koffi.decode(base, 'void *', 2);
  const api = koffi.call(getApi, koffi.proto('void *GetApi(uint32_t)'), workerData.apiVersion);
  if (api === null) throw new Error('no C API version ' + workerData.apiVersion);
  const table = koffi.decode(api, 'void *', workerData.slots.count);
  run = koffi.decode(table[workerData.slots.run], koffi.proto(workerData.runSignature));
  getErrorMessage = koffi.decode(table[workerData.slots.getErrorMessage], koffi.proto('const char *GetErrorMessage(void *status)'));
  releaseStatus = koffi.decode(table[workerData.slots.releaseStatus], koffi.proto('void ReleaseStatus(void *status)'));
  Atomics.store(ctrl, STATE, 1);
} catch (error) {
  writeMessage(error && error.message ? error.message : error);
  Atomics.store(ctrl, STATE, -1);
}
Atomics.notify(ctrl, STATE);
const pointer = (address) => koffi.decode(BigUint64Array.of(address), 'void *');
const decoder = new TextDecoder();
let seen = 0;
while (Atomics.load(ctrl, STATE) === 1) {
  let request = Atomics.load(ctrl, REQUEST);
  if (request === seen) {
    const until = performance.now() + workerData.spinMs;
    for (let i = 1; (request = Atomics.load(ctrl, REQUEST)) === seen; i++) {
      if ((i & 1023) === 0 && performance.now() > until) break;
    }
    while ((request = Atomics.load(ctrl, REQUEST)) === seen) Atomics.wait(ctrl, REQUEST, seen);
  }
  if (request < 0) break;
  seen = request;
  const count = Number(addresses[1]);
  const list = decoder.decode(names.slice(0, Number(addresses[2]))).split('\\n');
  const inputs = [];
  for (let i = 0; i < count; i++) inputs.push(pointer(addresses[3 + i]));
  const status = run(pointer(addresses[0]), null, list.slice(0, count), inputs, count, [list[count]], 1, [pointer(addresses[3 + count])]);
  if (status === null) {
    Atomics.store(ctrl, STATUS, 0);
  } else {
    writeMessage(getErrorMessage(status));
    releaseStatus(status);
    Atomics.store(ctrl, STATUS, 1);
  }
  Atomics.store(ctrl, DONE, seen);
  Atomics.notify(ctrl, DONE);
}
`;

let blocking: boolean | undefined;

/**
 * Whether this thread may block in Atomics.wait: a Node thread may; a thread that must not block
 * (a browser-like main thread, as Electron's may be) throws, and then keeps spinning instead.
 */
function canBlock(): boolean {
  if (blocking === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0);
      blocking = true;
    } catch {
      blocking = false;
    }
  }
  return blocking;
}

function readMessage(bytes: Uint8Array): string {
  const length = new DataView(bytes.buffer).getUint32(0, true);
  return new TextDecoder().decode(bytes.slice(4, 4 + length));
}

class Helper {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly addresses = new BigUint64Array(new SharedArrayBuffer((3 + MAX_INPUTS + 1) * 8));
  private readonly names = new Uint8Array(new SharedArrayBuffer(TEXT_BYTES));
  private readonly message = new Uint8Array(new SharedArrayBuffer(TEXT_BYTES));
  private readonly worker: Worker;
  private request = 0;
  private failed: string | undefined;

  constructor() {
    this.worker = new Worker(HELPER_SOURCE, {
      eval: true,
      workerData: {
        control: this.control.buffer,
        addresses: this.addresses.buffer,
        names: this.names.buffer,
        message: this.message.buffer,
        koffi: require.resolve('koffi'),
        library: ortLibraryPath(),
        apiVersion: API_VERSION,
        runSignature: RUN_SIGNATURE,
        slots: {
          count: Math.max(...Object.values(API)) + 1,
          run: API.Run,
          getErrorMessage: API.GetErrorMessage,
          releaseStatus: API.ReleaseStatus,
        },
        spinMs: HELPER_SPIN_MS,
      },
    });
    this.worker.unref();
    this.worker.on('error', (error) => {
      this.failed = error.message;
    });
    this.worker.on('exit', () => {
      this.failed ??= 'the helper thread ended';
    });
  }

  /** Whether the helper has bound ORT and waits for parts. */
  get ready(): boolean {
    return this.failed === undefined && Atomics.load(this.control, STATE) === 1;
  }

  /** Why the helper could not start, once it has said so. */
  get startFailure(): string | undefined {
    return Atomics.load(this.control, STATE) === -1 ? readMessage(this.message) : this.failed;
  }

  /** Resolves once the helper is ready or has failed to start. */
  async started(): Promise<void> {
    while (Atomics.load(this.control, STATE) === 0 && this.failed === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  post(bound: BoundRun, address: (pointer: unknown) => bigint): void {
    const count = bound.inputs.length;
    if (count > MAX_INPUTS) throw new Error(`native kernel helper: ${count} inputs, at most ${MAX_INPUTS}`);
    const text = new TextEncoder().encode([...bound.inputNames, bound.outputName].join('\n'));
    if (text.length > TEXT_BYTES) throw new Error('native kernel helper: input names too long');
    this.names.set(text);
    this.addresses[0] = address(bound.session);
    this.addresses[1] = BigInt(count);
    this.addresses[2] = BigInt(text.length);
    bound.inputs.forEach((value, i) => (this.addresses[3 + i] = address(value)));
    this.addresses[3 + count] = address(bound.output);
    this.request++;
    Atomics.store(this.control, REQUEST, this.request);
    Atomics.notify(this.control, REQUEST);
  }

  /** Waits for the part posted last; throws ORT's message where it failed. */
  wait(): void {
    const request = this.request;
    // A part takes about as long as this thread's own, so spin first; sleep only on a long one.
    for (let spins = 0; spins < WAIT_SPINS && Atomics.load(this.control, DONE) !== request; spins++);
    const deadline = performance.now() + PART_TIMEOUT_MS;
    let done: number;
    while ((done = Atomics.load(this.control, DONE)) !== request) {
      if (canBlock()) Atomics.wait(this.control, DONE, done, 10);
      if (performance.now() > deadline) {
        this.failed = `no answer in ${PART_TIMEOUT_MS / 1000} s`;
        throw new Error(`native kernel helper thread: ${this.failed}`);
      }
    }
    if (Atomics.load(this.control, STATUS) !== 0) {
      throw new Error(`ONNX Runtime Run (helper thread): ${readMessage(this.message)}`);
    }
  }

  stop(): void {
    Atomics.store(this.control, REQUEST, -1);
    Atomics.notify(this.control, REQUEST);
    void this.worker.terminate();
  }
}

const helpers: Helper[] = [];

/**
 * Keeps `n` helper threads (0 stops them all). New ones start in the background; until one is
 * ready, kernels run whole on the calling thread (kernelParts counts only ready helpers).
 */
export function setHelperThreads(n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`helper threads must be a whole number, not ${n}`);
  while (helpers.length > n) helpers.pop()?.stop();
  while (helpers.length < n) helpers.push(new Helper());
}

/** Resolves once every helper has started or failed to (tests, benchmarks). */
export async function helpersStarted(): Promise<void> {
  await Promise.all(helpers.map((helper) => helper.started()));
}

/** Why a helper could not start, if one could not. */
export function helperFailure(): string | undefined {
  return helpers.map((helper) => helper.startFailure).find((reason) => reason !== undefined);
}

/** How many parts a native kernel may be cut into now: this thread and each ready helper. */
export function kernelParts(): number {
  let parts = 1;
  for (const helper of helpers) {
    if (!helper.ready) break;
    parts++;
  }
  return parts;
}

let partRuns = 0;

/** Parts that ran on helper threads so far (tests check that a kernel was split). */
export function helperPartCount(): number {
  return partRuns;
}

/** One part of a kernel: its session and the views of its inputs and output. */
export interface KernelPart {
  session: KernelSession;
  inputs: Readonly<Record<string, Float32Array>>;
  output: Float32Array;
}

/**
 * Runs the parts at once: the first on this thread, the others on the ready helpers (a part
 * whose session is not an FfiSession, or beyond the ready helpers, runs here after the first).
 * Returns once every part has finished, even where one failed (a helper may still be writing
 * into the heap), and then throws the first failure.
 */
export function runParts(parts: readonly KernelPart[]): void {
  const posted: { helper: Helper; session: FfiSession; bound: BoundRun }[] = [];
  const local: KernelPart[] = [];
  let failure: unknown;
  try {
    parts.slice(1).forEach((part, i) => {
      const helper = helpers[i];
      const session = part.session;
      if (helper?.ready && session instanceof FfiSession) {
        const bound = session.bind(part.inputs, part.output);
        try {
          helper.post(bound, (pointer) => session.binding.address(pointer));
        } catch (error) {
          session.release(bound);
          throw error;
        }
        posted.push({ helper, session, bound });
      } else {
        local.push(part);
      }
    });
    const [first] = parts;
    if (first !== undefined) first.session.run(first.inputs, first.output);
    for (const part of local) part.session.run(part.inputs, part.output);
  } catch (error) {
    failure = error;
  }
  for (const { helper, session, bound } of posted) {
    try {
      helper.wait();
      partRuns++;
    } catch (error) {
      failure ??= error;
    } finally {
      session.release(bound);
    }
  }
  if (failure !== undefined) throw failure;
}

/**
 * `total` items (a batch) cut into at most `parts` contiguous ranges, as even as possible,
 * the larger first: [start, size] each.
 */
export function splitRanges(total: number, parts: number): [number, number][] {
  const count = Math.max(1, Math.min(parts, total));
  const ranges: [number, number][] = [];
  let start = 0;
  for (let p = 0; p < count; p++) {
    const size = Math.floor(total / count) + (p < total % count ? 1 : 0);
    ranges.push([start, size]);
    start += size;
  }
  return ranges;
}
