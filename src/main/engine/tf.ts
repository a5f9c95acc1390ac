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

export { tf, tfl };
export type Tensor = tf.Tensor;
export type LayersModel = tfl.LayersModel;
