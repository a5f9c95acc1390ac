/**
 * Quantization-aware training on the weights, with a straight-through estimator:
 *  - before each batch's forward pass, every trainable weight is replaced by its fake-quantized
 *    value (quantize, then dequantize), so the loss and gradients see the quantized network;
 *  - before the optimizer applies the gradients, the float weights are put back, so the update
 *    lands on the float "master" weights (the rounding is treated as the identity in backprop).
 *
 * Per-tensor fake-quant is bit-for-bit what the exported tfjs model holds after stock TF.js
 * dequantizes it (`fakeQuantize` in model/weight-quantization.ts implements the converter's
 * affine rule). The tfjs weights manifest has ONE scale and min per tensor, so per-channel QAT
 * (one range per output channel) trains against a finer grid than the export can store; the
 * export re-quantizes per tensor. Per-channel is offered for study; per-tensor is what matches.
 */
import { fakeQuantize } from '../model/weight-quantization';
import type { WeightQuantization } from '../model/weight-quantization';
import { tf } from '../tf';
import type { LayersModel, Tensor } from '../tf';
import type { TrainHooks } from '../train/loop';
import { ActivationRangeObserver, type RecordedRange } from './qat-ranges';
import { weightKey } from './slicing';

export type QuantGranularity = 'tensor' | 'channel';

/** The axis holding output channels: the last one, except a depthwise kernel's input axis [kh, kw, in, m]. */
function channelAxis(key: string, rank: number): number {
  return key === 'depthwise_kernel' ? 2 : rank - 1;
}

/** Fake-quantize one weight's values (row-major) per tensor or per channel. */
export function fakeQuantizeWeight(
  values: Float32Array,
  shape: readonly number[],
  dtype: WeightQuantization,
  granularity: QuantGranularity,
  key = 'kernel',
): Float32Array {
  if (granularity === 'tensor' || dtype === 'float16' || shape.length < 2) return fakeQuantize(values, dtype);
  const axis = channelAxis(key, shape.length);
  const channels = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(values.length);
  const perChannel = values.length / channels;
  for (let c = 0; c < channels; c++) {
    // Gather channel c (every index whose coordinate on `axis` is c), quantize, scatter back.
    const slice = new Float32Array(perChannel);
    const positions = new Int32Array(perChannel);
    let n = 0;
    for (let outer = 0; outer < values.length; outer += channels * inner) {
      for (let i = 0; i < inner; i++) {
        const index = outer + c * inner + i;
        positions[n] = index;
        slice[n++] = values[index]!;
      }
    }
    const quantized = fakeQuantize(slice, dtype);
    for (let i = 0; i < perChannel; i++) out[positions[i]!] = quantized[i]!;
  }
  return out;
}

export class QuantizationAwareTraining {
  private readonly saved = new Map<tf.Variable, Tensor>();
  /** With `recordActivations`: each layer output's moving min/max (qat-ranges.ts). */
  private readonly observer: ActivationRangeObserver | undefined;

  constructor(
    readonly model: LayersModel,
    readonly options: {
      dtype: WeightQuantization;
      granularity: QuantGranularity;
      recordActivations?: boolean;
      /** Observe one batch in this many (default OBSERVE_EVERY). */
      observeEvery?: number;
    },
  ) {
    this.observer = options.recordActivations
      ? new ActivationRangeObserver(model, options.observeEvery)
      : undefined;
  }

  /** The activation ranges recorded so far by layer name (undefined unless recording). */
  activationRanges(): Record<string, RecordedRange> | undefined {
    return this.observer?.toJSON();
  }

  private variables(all: boolean): { variable: tf.Variable; key: string }[] {
    const weights = all ? this.model.weights : this.model.trainableWeights;
    return weights.map((w) => ({ variable: w.read() as tf.Variable, key: weightKey(w.originalName) }));
  }

  /**
   * Replace every trainable weight (with `all`, every weight, BN statistics included) by its
   * fake-quantized value, keeping the float value aside.
   */
  async swapInQuantized(all = false): Promise<void> {
    for (const { variable, key } of this.variables(all)) {
      if (this.saved.has(variable)) continue;
      // Read asynchronously: the webgpu backend cannot read synchronously in Node.
      const values = (await variable.data()) as Float32Array;
      const quantized = fakeQuantizeWeight(
        values,
        variable.shape,
        this.options.dtype,
        this.options.granularity,
        key,
      );
      this.saved.set(variable, tf.clone(variable));
      tf.tidy(() => variable.assign(tf.tensor(quantized, variable.shape)));
    }
  }

  /** Put the float weights back (the straight-through estimator's update target). */
  restoreFloat(): void {
    for (const [variable, float] of this.saved) {
      variable.assign(float);
      float.dispose();
    }
    this.saved.clear();
  }

  hooks(): TrainHooks {
    const observer = this.observer;
    return {
      beforeBatch: async (_model, x) => {
        await this.swapInQuantized();
        if (observer && x) await observer.observe(x);
      },
      beforeApply: () => this.restoreFloat(),
      ...(observer
        ? { saveState: () => observer.state(), restoreState: (state: unknown) => observer.restore(state) }
        : {}),
    };
  }

  /** Leave the model holding the fake-quantized value of every weight: what the export will hold. */
  async bakeQuantized(): Promise<void> {
    await this.swapInQuantized(true);
    for (const float of this.saved.values()) float.dispose();
    this.saved.clear();
  }

  dispose(): void {
    this.restoreFloat();
  }
}
