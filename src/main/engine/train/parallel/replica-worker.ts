/**
 * A replica: a worker thread with its own TensorFlow.js, its own WebAssembly instance and a copy
 * of the model. Each step it loads the weights rank 0 wrote to shared memory, computes the
 * gradient of its slice as a share of the batch's mean (the same `sliceGradients` rank 0 runs)
 * and writes it back. It never applies an update: rank 0 owns the optimizer, so every replica
 * always holds exactly rank 0's weights. Steps arrive through the thread's StepChannel (shared
 * memory, no messages); between training runs the thread drops its model and waits for the next
 * init (replica-threads.ts keeps it warm).
 */
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../../backend/ladder';
import { helpersStarted } from '../../backend/ort-helpers';
import { adoptSimdModule, compiledSimdModule } from '../../backend/simd/simd-kernels';
import { setKernelThreads } from '../../backend/threads';
import { adoptTfjsWasmModule } from '../../backend/wasm-module-share';
import { type LayersModel, tf, tfl } from '../../tf';
import { isWasmAbort } from '../memory-estimate';
import type { FromReplica, ReplicaInit, ToReplica } from './protocol';
import { sliceGradients } from './slice-gradients';
import { type ReplicaFailure, type ReplicaOutcome, StepChannel } from './step-channel';

const port = parentPort;
if (!port) throw new Error('replica-worker.ts runs only as a worker thread');

function send(message: FromReplica): void {
  port!.postMessage(message);
}

interface Replica {
  init: ReplicaInit;
  model: LayersModel;
  variables: tf.Variable[];
  params: Float32Array;
  input: Float32Array;
  labels: Int32Array;
  grads: Float32Array;
  outputs: Float32Array;
}

async function createReplica(init: ReplicaInit): Promise<Replica> {
  if (init.simdModule !== undefined && compiledSimdModule() === undefined) adoptSimdModule(init.simdModule);
  if (init.tfjsWasm !== undefined) adoptTfjsWasmModule(init.tfjsWasm);
  await initBackend(init.backend);
  setKernelThreads(init.kernelThreads);
  // Every step cuts its kernels the same way: the helpers are ready (or failed) before the first.
  await helpersStarted();
  const model = await tfl.models.modelFromJSON({ modelTopology: init.topology as never });
  const mismatch = init.weights.findIndex((weight, i) => {
    const own = model.weights[i];
    return own === undefined || own.shape.join('×') !== weight.shape.join('×');
  });
  if (mismatch >= 0 || model.weights.length !== init.weights.length) {
    throw new Error(
      `the rebuilt model's weights differ from the original's (weight ${mismatch}: ${init.weights[mismatch]?.name ?? 'count'})`,
    );
  }
  const variables = init.trainable.map((index) => model.weights[index]!.read() as tf.Variable);
  await warmUp(model, variables, init);
  return {
    init,
    model,
    variables,
    params: new Float32Array(init.params),
    input: new Float32Array(init.input),
    labels: new Int32Array(init.labels),
    grads: new Float32Array(init.grads),
    outputs: new Float32Array(init.outputs),
  };
}

/** One forward/backward pass on zeros, gradients discarded (the weights are not touched). */
async function warmUp(model: LayersModel, variables: tf.Variable[], init: ReplicaInit): Promise<void> {
  const size = Math.max(1, Math.min(init.warmupSize, init.maxSlice));
  const x = tf.zeros([size, ...init.sampleShape]) as tf.Tensor4D;
  const labels = tf.zeros([size], 'int32') as tf.Tensor1D;
  const y = tf.tidy(() => tf.cast(tf.oneHot(labels, init.classes), 'float32') as tf.Tensor2D);
  try {
    const result = await sliceGradients(
      model,
      variables,
      init.kind,
      { x, y, labels },
      { start: 0, size },
      size,
      size,
    );
    tf.dispose(result.grads);
  } finally {
    tf.dispose([x, y, labels]);
  }
}

/** Copy rank 0's weights from shared memory into the replica's variables. */
function loadWeights(replica: Replica): void {
  let offset = 0;
  tf.tidy(() => {
    for (const weight of replica.model.weights) {
      const size = weight.shape.reduce<number>((a, b) => a * (b ?? 1), 1);
      weight.write(tf.tensor(replica.params.subarray(offset, offset + size), weight.shape as number[]));
      offset += size;
    }
  });
}

async function step(
  replica: Replica,
  size: number,
  microBatch: number,
  batchSize: number,
): Promise<ReplicaOutcome> {
  loadWeights(replica);
  const [h, w, c] = replica.init.sampleShape;
  const x = tf.tensor4d(replica.input.subarray(0, size * h * w * c), [size, h, w, c]);
  const labels = tf.tensor1d(replica.labels.subarray(0, size), 'int32');
  const y = tf.tidy(() => tf.cast(tf.oneHot(labels, replica.init.classes), 'float32') as tf.Tensor2D);
  try {
    const result = await sliceGradients(
      replica.model,
      replica.variables,
      replica.init.kind,
      { x, y, labels },
      { start: 0, size },
      microBatch,
      batchSize,
    );
    let offset = 0;
    for (const share of result.grads) {
      replica.grads.set(share.dataSync() as Float32Array, offset);
      offset += share.size;
    }
    tf.dispose(result.grads);
    return { lossSum: result.lossSum, correct: result.correct, finite: result.finite };
  } finally {
    tf.dispose([x, y, labels]);
  }
}

function predict(replica: Replica, size: number): ReplicaOutcome {
  loadWeights(replica);
  const [h, w, c] = replica.init.sampleShape;
  const output = tf.tidy(() => {
    const x = tf.tensor4d(replica.input.subarray(0, size * h * w * c), [size, h, w, c]);
    return replica.model.predict(x, { batchSize: size }) as tf.Tensor;
  });
  try {
    replica.outputs.set(output.dataSync() as Float32Array);
  } finally {
    output.dispose();
  }
  return { lossSum: 0, correct: 0, finite: true };
}

/** What rank 0 is told of an error here: its message, and whether it was a WebAssembly abort. */
function failureOf(error: unknown): ReplicaFailure {
  return { message: error instanceof Error ? error.message : String(error), abort: isWasmAbort(error) };
}

/**
 * Serves the pool through the thread's channel (requests after `after`) until it is released: the thread's event loop
 * does not turn meanwhile (nothing else is asked of it), and the model is dropped at the end.
 */
async function serve(replica: Replica, channel: StepChannel, after: number): Promise<void> {
  let seen = after;
  try {
    for (;;) {
      const { seq, request } = channel.next(seen);
      seen = seq;
      if (request.kind === 'release') {
        channel.answer(seq, { lossSum: 0, correct: 0, finite: true });
        return;
      }
      try {
        channel.answer(
          seq,
          request.kind === 'step'
            ? await step(replica, request.size, request.microBatch, request.batchSize)
            : predict(replica, request.size),
        );
      } catch (error) {
        channel.answer(seq, failureOf(error));
      }
    }
  } finally {
    replica.model.dispose();
  }
}

let queue: Promise<void> = Promise.resolve();

port.on('message', (message: ToReplica) => {
  queue = queue.then(async () => {
    let replica: Replica;
    try {
      replica = await createReplica(message);
    } catch (error) {
      send({ type: 'error', ...failureOf(error) });
      return;
    }
    // Read before `ready`: rank 0 may post the first request as soon as it hears it.
    const channel = new StepChannel(message.control);
    const after = channel.lastRequest;
    send({ type: 'ready', rank: message.rank });
    await serve(replica, channel, after);
  });
});
