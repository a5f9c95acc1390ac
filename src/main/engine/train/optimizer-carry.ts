/**
 * Carrying the optimizer's state across a structured prune: every slot variable (Adam's m and v,
 * momentum's accumulation) has its variable's shape, so it is sliced along the same surviving
 * indices as the weight itself (compress/slicing.ts) and handed to the new model's optimizer
 * under the new variable's name. The iteration count is kept, so Adam's bias correction goes on
 * where it was. Slots are kept in their order: tfjs optimizers match slots to variables by position.
 */
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import { buildDependencyGraph } from '../compress/graph';
import type { PrunePlan } from '../compress/pruner';
import { planRemovedUnits } from '../compress/pruner';
import { type AxisSelection, sliceLayer, weightKey } from '../compress/slicing';
import { type LayersModel, tf } from '../tf';
import { PollardError } from '../../../shared/errors';
import type { Optimizer } from './optimizer';

/** Per variable name of the model before the prune: its weight's original name and surviving indices. */
export type WeightSelections = Map<string, { originalName: string; axes: AxisSelection | undefined }>;

/** What the plan keeps of every weight of `model`, keyed by the weight's variable name. */
export function weightSelections(model: LayersModel, plan: PrunePlan): WeightSelections {
  const graph = buildDependencyGraph(model, { ignoredLayers: plan.ignoredLayers });
  const removed = planRemovedUnits(graph, plan);
  const out: WeightSelections = new Map();
  for (const node of graph.nodes) {
    const slice = sliceLayer(graph, node, removed);
    for (const weight of node.layer.weights) {
      const name = (weight.read() as tf.Variable).name;
      out.set(name, {
        originalName: weight.originalName,
        axes: slice.weights.get(weightKey(weight.originalName)),
      });
    }
  }
  return out;
}

function sliceSlot(tensor: tf.Tensor, axes: AxisSelection | undefined): tf.Tensor {
  return tf.tidy(() => {
    let out = tensor;
    axes?.forEach((indices, axis) => {
      if (indices && indices.length !== out.shape[axis]) {
        out = tf.gather(out, tf.tensor1d(indices, 'int32'), axis);
      }
    });
    return out === tensor ? tf.clone(tensor) : out;
  });
}

/**
 * Moves `from`'s state into `to` for the pruned model `model`. Returns how many slots were
 * carried. A slot whose variable the model no longer has fails loudly (never a misaligned slot).
 */
export async function carryOptimizerState(
  from: Optimizer,
  to: Optimizer,
  selections: WeightSelections,
  model: LayersModel,
): Promise<number> {
  const newNames = new Map(model.weights.map((w) => [w.originalName, (w.read() as tf.Variable).name]));
  const weights = await from.getWeights();
  const carried: NamedTensor[] = [];
  const owned: tf.Tensor[] = [];
  for (const { name, tensor } of weights) {
    if (name === 'iter') {
      carried.push({ name, tensor });
      owned.push(tensor);
      continue;
    }
    const cut = name.lastIndexOf('/');
    const selection = selections.get(name.slice(0, cut));
    const target = selection && newNames.get(selection.originalName);
    if (!selection || !target) {
      tf.dispose(owned);
      throw new PollardError('internal', `optimizer slot ${name}: no matching weight in the pruned model`);
    }
    const sliced = sliceSlot(tensor, selection.axes);
    owned.push(sliced);
    carried.push({ name: `${target}${name.slice(cut)}`, tensor: sliced });
  }
  await to.setWeights(carried);
  tf.dispose(owned);
  return carried.length - 1;
}
