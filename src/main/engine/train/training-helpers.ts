/** Small pieces of the training loop (training-run.ts) that need none of its state. */
import { PollardError } from '../../../shared/errors';
import { type LayersModel, tf } from '../tf';
import { Rng } from '../util/rng';
import type { NamedTensor } from './checkpoint';
import type { TrainData } from './loop';
import type { Optimizer } from './optimizer';

export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function trainableVariables(model: LayersModel): tf.Variable[] {
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}

export function namedModelWeights(model: LayersModel): NamedTensor[] {
  return model.weights.map((weight) => ({ name: weight.originalName, tensor: weight.read() }));
}

export async function optimizerWeights(
  optimizer: Optimizer,
): Promise<{ named: NamedTensor[]; owned: tf.Tensor[] }> {
  const weights = await optimizer.getWeights();
  // getWeights() returns the slot variables themselves plus a fresh iteration-count scalar.
  const owned = weights.filter((w) => w.name === 'iter').map((w) => w.tensor);
  return { named: weights.map((w) => ({ name: w.name, tensor: w.tensor })), owned };
}

/** Per-batch augmentation stream, derived from the seed so a resumed epoch replays it exactly. */
export function augmentationRng(seed: number, epoch: number, batch: number): Rng {
  return new Rng((seed * 2_654_435_761 + epoch * 40_503 + batch * 9_973 + 1) >>> 0);
}

export function checkModelFitsData(model: LayersModel, data: TrainData): void {
  const input = model.inputs[0]?.shape.slice(1) ?? [];
  const [h, w, c] = data.shape;
  if (input.length !== 3 || input[0] !== h || input[1] !== w || input[2] !== c) {
    throw new PollardError(
      'bad-input',
      `the model "${model.name}" expects inputs of shape [${input.map(String).join(', ')}] but the dataset has [${h}, ${w}, ${c}]`,
    );
  }
  const units = model.outputs[0]?.shape[model.outputs[0].shape.length - 1];
  if (units !== data.classes) {
    throw new PollardError(
      'bad-input',
      `the model "${model.name}" has ${String(units)} outputs but the dataset has ${data.classes} classes`,
    );
  }
}

/** Decoupled weight decay (Loshchilov & Hutter) on kernels only, not on biases or BN parameters. */
export function applyWeightDecay(model: LayersModel, factor: number): void {
  tf.tidy(() => {
    for (const weight of model.trainableWeights) {
      if (!/kernel$/.test(weight.originalName)) continue;
      const variable = weight.read() as tf.Variable;
      variable.assign(tf.mul(variable, 1 - factor));
    }
  });
}
