/**
 * tfjs's Adam, with the per-variable update fused into one kernel on wasm (PollardAdamUpdate,
 * backend/adam-wasm.ts) and into three shaders on webgpu (backend/adam-webgpu.ts). Everything else is AdamOptimizer's own: the slot variables and their
 * names (`<variable>/m`, `<variable>/v`, kept by position as tfjs does), β1ᵗ and β2ᵗ as
 * variables, the iteration counter, getWeights/setWeights (so checkpoints are unchanged) and
 * dispose. On any other backend, or for a non-float32 variable, it is AdamOptimizer itself.
 */
import type { NamedTensor, NamedVariableMap } from '@tensorflow/tfjs-core/dist/tensor_types';
import { ADAM_UPDATE_KERNEL, type AdamUpdateAttrs, registerAdamUpdateWasmKernel } from '../backend/adam-wasm';
import { adamUpdateWebgpu } from '../backend/adam-webgpu';
import { tf } from '../tf';

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** The protected fields of tfjs's AdamOptimizer this class reads. */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  incrementIterations(): void;
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
  }

  override applyGradients(variableGradients: NamedVariableMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const variables = names.map((name) => tf.engine().registeredVariables[name]);
    const backend = tf.getBackend();
    if (
      (backend !== 'wasm' && backend !== 'webgpu') ||
      variables.some((variable) => variable === undefined || variable.dtype !== 'float32')
    ) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as AdamInternals;
    let update: Update;
    if (backend === 'webgpu') {
      // β·ᵗ stay on the GPU (the shaders read them): nothing is read back.
      const attrs = {
        beta1: self.beta1,
        beta2: self.beta2,
        epsilon: self.epsilon,
        learningRate: self.learningRate,
      };
      update = (value, m, v, gradient) =>
        adamUpdateWebgpu(value, m, v, gradient, self.accBeta1, self.accBeta2, attrs);
    } else {
      registerAdamUpdateWasmKernel();
      const [acc1, acc2] = [self.accBeta1.dataSync()[0] as number, self.accBeta2.dataSync()[0] as number];
      const attrs: AdamUpdateAttrs = {
        beta1: self.beta1,
        beta2: self.beta2,
        epsilon: self.epsilon,
        learningRate: self.learningRate,
        correction1: 1 - acc1,
        correction2: 1 - acc2,
      };
      update = (value, m, v, gradient) =>
        tf
          .engine()
          .runKernel(ADAM_UPDATE_KERNEL, { value, m, v, gradient }, attrs as unknown as tf.NamedAttrMap) as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
        ];
    }
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = variables[i] as tf.Variable;
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: zeroSlot(value) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: zeroSlot(value) };
        const gradient = Array.isArray(variableGradients)
          ? variableGradients[i]?.tensor
          : variableGradients[name];
        if (gradient === undefined) return;
        const m = (self.accumulatedFirstMoment[i] as Slot).variable;
        const v = (self.accumulatedSecondMoment[i] as Slot).variable;
        const [newValue, newM, newV] = update(value, m, v, gradient);
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      // As AdamOptimizer: β·ᵗ⁺¹ = β·ᵗ · β·, in float32.
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  }
}

/** One variable's Adam step on the current backend: its new value, m and v. */
type Update = (
  value: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  gradient: tf.Tensor,
) => [tf.Tensor, tf.Tensor, tf.Tensor];

function zeroSlot(value: tf.Variable): tf.Variable {
  return tf.tidy(() => tf.zerosLike(value).variable(false));
}
