/**
 * Messages between the job process (rank 0) and its replica workers (ranks 1…R−1). Bulk data
 * never travels in messages: weights, input slices, labels and gradient sums live in
 * SharedArrayBuffers laid out once at `init`; after `init`, steps are requested and answered
 * through the thread's StepChannel (step-channel.ts), not messages.
 */
import type { BackendName } from '../../../../shared/types';
import type { OutputKind } from '../loss';

export interface ReplicaInit {
  type: 'init';
  rank: number;
  backend: BackendName;
  /** model.toJSON(null, false): the topology the replica rebuilds. */
  topology: unknown;
  /** Every weight of the model in model.weights order (name and shape), to check the replica. */
  weights: { name: string; shape: number[] }[];
  /** Indices into `weights` of the trainable ones, in model.trainableWeights order. */
  trainable: number[];
  kind: OutputKind;
  classes: number;
  /** [h, w, c] */
  sampleShape: [number, number, number];
  /** The most samples one step can hand this replica. */
  maxSlice: number;
  /** Float32: all weights, concatenated in `weights` order. Written by rank 0 before each step. */
  params: SharedArrayBuffer;
  /** Float32: this replica's input slice, NHWC. */
  input: SharedArrayBuffer;
  /** Int32: this replica's labels. */
  labels: SharedArrayBuffer;
  /** Float32: this replica's gradient sums, trainable weights concatenated. */
  grads: SharedArrayBuffer;
  /** Float32: this replica's model outputs for a `predict` ([maxSlice, classes]). */
  outputs: SharedArrayBuffer;
  /** Threads for native kernels inside this replica (ONNX Runtime's intra-op pool), if any. */
  kernelThreads: number;
  /**
   * Samples of one forward/backward pass: the replica runs one such pass on zeros before it
   * says it is ready, so kernel set-up (ONNX Runtime sessions) is not paid inside the first step.
   */
  warmupSize: number;
  /**
   * Pollard's SIMD kernels as rank 0 compiled them (a WebAssembly.Module crosses to a worker as
   * is), so that no replica loads wabt and compiles them again; absent where rank 0 has none.
   */
  simdModule?: WebAssembly.Module;
  /**
   * tfjs-backend-wasm's compiled module from rank 0 (wasm-module-share.ts): its code, tiered up
   * by rank 0's steps, is shared instead of compiled again; absent on other backends.
   */
  tfjsWasm?: { module: WebAssembly.Module; bytes: number };
  /** The thread's StepChannel (step-channel.ts), through which it serves the pool once ready. */
  control: SharedArrayBuffer;
}

export type ToReplica = ReplicaInit;

export type FromReplica =
  { type: 'ready'; rank: number } | { type: 'error'; message: string; abort: boolean };
