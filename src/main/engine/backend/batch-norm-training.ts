/**
 * BatchNormalization in training mode with a closed-form backward pass, on every backend.
 *
 * tfjs-layers normalises a training batch with `tf.moments` then `tf.batchNorm` (the
 * FusedBatchNorm kernel), so its gradient is tfjs-core's FusedBatchNorm gradient plus the
 * gradient of the moments. The former broadcasts 1/σ to the whole activation with `tile`
 * (wasm's Tile is a generic scalar loop), the latter adds a dozen small elementwise ops and
 * reductions. Profiled on wasm, one ResNet-20 step at batch 64 spent 669 ms of 1970 ms in Tile
 * (21 calls) and ~300 ms more in BN's Multiply/Sum/Sub.
 *
 * With N values per channel, x̂ = (x − μ)/σ, σ = √(var + ε) and y = γ·x̂ + β, the whole
 * batch-statistics gradient is, per channel:
 *   dβ = Σ dy,   dγ = Σ dy·x̂,   dx = (γ/σ)·(dy − dβ/N − x̂·dγ/N).
 * `normalizeBatchInTraining` computes y with `tf.customGrad` and that closed form: as tf ops
 * with broadcasting on any backend, or as the wasm kernel of ./batch-norm-grad-wasm where the
 * wasm backend is active (two passes over the heap instead of ~20 kernels).
 *
 * The layer's training path is patched in one place, `patchBatchNormalizationLayer`: for the
 * channels-last case Pollard builds (axis = last, scale and center on, rank 2–4) it
 * normalises with this op, then updates the moving mean and variance exactly as tfjs-layers
 * does (moving ← moving − (moving − batch)·(1 − momentum), batch variance biased). Every
 * other case, and inference, runs tfjs-layers' own code.
 */
import type { GradSaveFunc, Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../tf';
import { BATCH_NORM_FORWARD_KERNEL, registerBatchNormForwardWasmKernel } from './batch-norm-forward-wasm';
import { BATCH_NORM_GRAD_KERNEL, registerBatchNormGradWasmKernel } from './batch-norm-grad-wasm';

/** Axes [0, …, rank − 2]: every axis but the channels. */
function leadingAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, i) => i);
}

/** The closed-form gradient as tf ops (broadcasting [C] against [..., C]; no tile). */
function gradientWithOps(
  dy: Tensor,
  x: Tensor,
  mean: Tensor,
  variance: Tensor,
  gamma: Tensor,
  epsilon: number,
): Tensor[] {
  return tf.tidy(() => {
    const axes = leadingAxes(x.rank);
    const count = x.size / (x.shape[x.rank - 1] as number);
    const invStd = tf.rsqrt(tf.add(variance, tf.scalar(epsilon)));
    const xHat = tf.mul(tf.sub(x, mean), invStd);
    const dBeta = tf.sum(dy, axes);
    const dGamma = tf.sum(tf.mul(dy, xHat), axes);
    const k = tf.mul(gamma, invStd);
    // dx = k·dy − x̂·(k·dγ/N) − k·dβ/N
    const xHatScale = tf.mul(k, tf.div(dGamma, tf.scalar(count)));
    const shift = tf.mul(k, tf.div(dBeta, tf.scalar(count)));
    const dx = tf.sub(tf.mul(dy, k), tf.add(tf.mul(xHat, xHatScale), shift));
    return [dx, dGamma, dBeta];
  });
}

function gradient(
  dy: Tensor,
  x: Tensor,
  mean: Tensor,
  variance: Tensor,
  gamma: Tensor,
  epsilon: number,
): Tensor[] {
  if (tf.getKernel(BATCH_NORM_GRAD_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, { dy, x, mean, variance, scale: gamma }, {
      varianceEpsilon: epsilon,
    } as never) as Tensor[];
  }
  return gradientWithOps(dy, x, mean, variance, gamma, epsilon);
}

/**
 * Training-mode batch normalisation over every axis but the last: [normed, mean, variance],
 * as tfjs-layers' `normalizeBatchInTraining` returns them (variance biased), with the
 * closed-form gradient for x, gamma and beta. Mean and variance carry no gradient (as in
 * tfjs-layers, where only the moving averages read them).
 */
export function normalizeBatchInTraining(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  epsilon: number,
): [Tensor, Tensor, Tensor] {
  let stats: [Tensor, Tensor] | undefined;
  const normalize = tf.customGrad((xIn, gammaIn, betaIn, save) => {
    const [input, scale, offset] = [xIn, gammaIn, betaIn] as Tensor[];
    let value: Tensor;
    let mean: Tensor;
    let variance: Tensor;
    if (tf.getKernel(BATCH_NORM_FORWARD_KERNEL, tf.getBackend()) !== undefined) {
      [value, mean, variance] = tf
        .engine()
        .runKernel(
          BATCH_NORM_FORWARD_KERNEL,
          { x: input as Tensor, scale: scale as Tensor, offset: offset as Tensor },
          { varianceEpsilon: epsilon },
        ) as Tensor[] as [Tensor, Tensor, Tensor];
    } else {
      ({ mean, variance } = tf.moments(input as Tensor, leadingAxes((input as Tensor).rank)));
      value = tf.batchNorm(input as Tensor, mean, variance, offset, scale, epsilon);
    }
    // customGrad runs this inside a tidy: keep the statistics for the caller.
    stats = [tf.keep(mean), tf.keep(variance)];
    (save as GradSaveFunc)([input as Tensor, mean, variance, scale as Tensor]);
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [savedX, savedMean, savedVariance, savedGamma] = saved as [Tensor, Tensor, Tensor, Tensor];
        return gradient(dy, savedX, savedMean, savedVariance, savedGamma, epsilon);
      },
    };
  });
  const normed = normalize(x, gamma, beta);
  const [keptMean, keptVariance] = stats as [Tensor, Tensor];
  // Hand back ordinary (scope-tracked) tensors: clones share the data, no copy.
  const mean = tf.clone(keptMean);
  const variance = tf.clone(keptVariance);
  keptMean.dispose();
  keptVariance.dispose();
  return [normed, mean, variance];
}

/** The fields of tfjs-layers' BatchNormalization that its training path reads and writes. */
interface LayerVariable {
  read(): Tensor;
  write(value: Tensor): void;
}
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma?: LayerVariable | null;
  beta?: LayerVariable | null;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
}
type LayerCall = (this: BatchNormLayer, inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) => Tensor;
let layerPatched = false;

/** tfjs-layers' `doMovingAverage`, op for op. */
function movingAverage(variable: LayerVariable, value: Tensor, momentum: number): void {
  tf.tidy(() => {
    const decay = 1 - momentum;
    const original = variable.read();
    const updateDelta = tf.mul(tf.sub(original, value), decay);
    variable.write(tf.sub(original, updateDelta));
  });
}

/** BatchNormalization layers train through `normalizeBatchInTraining` (see the header). */
function patchBatchNormalizationLayer(): void {
  if (layerPatched) return;
  // The class as tfjs-layers registered it for deserialization (building a layer to reach its
  // prototype would take a name from tfjs's counter).
  const registered = tf.serialization.SerializationMap.getMap().classNameMap.BatchNormalization;
  if (registered === undefined) throw new Error('tfjs-layers registered no BatchNormalization class');
  const prototype = (registered[0] as unknown as { prototype: { call: LayerCall } }).prototype;
  const original = prototype.call;
  prototype.call = function (this: BatchNormLayer, inputs, kwargs) {
    const training = (kwargs?.training ?? false) as boolean;
    const input = Array.isArray(inputs) && inputs.length === 1 ? inputs[0] : inputs;
    const gamma = this.gamma;
    const beta = this.beta;
    if (
      !training ||
      Array.isArray(input) ||
      input === undefined ||
      input.rank < 2 ||
      input.rank > 4 ||
      (this.axis !== -1 && this.axis !== input.rank - 1) ||
      !gamma ||
      !beta
    ) {
      return original.call(this, inputs, kwargs);
    }
    return tf.tidy(() => {
      const [normed, mean, variance] = normalizeBatchInTraining(
        input,
        gamma.read(),
        beta.read(),
        this.epsilon,
      );
      movingAverage(this.movingMean, mean, this.momentum);
      movingAverage(this.movingVariance, variance, this.momentum);
      return normed;
    });
  };
  layerPatched = true;
}

/** Installs the training-mode BatchNormalization (idempotent, process-wide, every backend). */
export function registerBatchNormTraining(): void {
  registerBatchNormGradWasmKernel();
  registerBatchNormForwardWasmKernel();
  patchBatchNormalizationLayer();
}
