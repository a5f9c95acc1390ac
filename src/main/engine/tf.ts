/**
 * The one place the engine imports TensorFlow.js from, so that every module shares a single
 * tfjs-core instance (and so the backend chosen by the ladder is the one everybody uses).
 * Use the functional API (`tf.matMul(a, b)`), not chained ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

// PROD mode silences tfjs's "install tfjs-node" banner and skips per-op debug checks.
tf.env().set('PROD', true);

// tfjs-layers' Orthogonal initializer (the default recurrent_initializer of LSTM and GRU) calls
// chained ops (`rMat.flatten().stridedSlice(…)`, `diag.sign()`, `qMat.transpose()`,
// `qMat.reshape(…)`), which the Node bundle of tfjs-core does not register; define just those.
type AnyOp = (tensor: tf.Tensor, ...args: never[]) => tf.Tensor;
const chainedOpsUsedByLayers: Record<string, AnyOp> = {
  flatten: (tensor) => tf.reshape(tensor, [tensor.size]),
  stridedSlice: tf.stridedSlice as AnyOp,
  sign: tf.sign as AnyOp,
  transpose: tf.transpose as AnyOp,
  reshape: tf.reshape as AnyOp,
};
const tensorPrototype = tf.Tensor.prototype as unknown as Record<string, unknown>;
for (const [name, op] of Object.entries(chainedOpsUsedByLayers)) {
  tensorPrototype[name] ??= function (this: tf.Tensor, ...args: never[]) {
    return op(this, ...args);
  };
}

export { tf, tfl };
export type Tensor = tf.Tensor;
export type LayersModel = tfl.LayersModel;
