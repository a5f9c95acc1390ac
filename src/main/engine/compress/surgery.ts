/**
 * Graph surgery: build a new, genuinely smaller model with the given units removed. The model's
 * own serialised topology is edited (producers' `filters` / `units`, written by the `resize` rule of
 * their entry in the layer table; every other width is inferred
 * by tfjs when the model is built), the model is rebuilt with `modelFromJSON`, and every layer gets
 * its old weights sliced along the surviving indices. The result is an ordinary LayersModel: it
 * saves and loads with stock TensorFlow.js.
 */
import { tf, tfl } from '../tf';
import type { LayersModel, Tensor } from '../tf';
import type { DependencyGraph } from './graph';
import type { AxisSelection } from './slicing';
import { selectedShape, sliceLayer, weightKey } from './slicing';
import { PollardError } from '../../../shared/errors';

type JsonObject = Record<string, unknown>;

function layerConfigs(topology: JsonObject): JsonObject[] {
  const config = topology.config as JsonObject | JsonObject[];
  // Old Sequential topologies store the layer list directly as the config.
  const layers = Array.isArray(config) ? config : (config.layers as JsonObject[]);
  return layers.map((entry) => entry.config as JsonObject);
}

/**
 * The sliced copy of a weight, in a buffer of its own: the wasm backend's GatherV2 returns a
 * reshape of a rank-4 buffer, and its FusedConv2D checks the buffer's recorded rank, so a
 * gathered bias assigned to a conv layer would fail there ("only supports rank-1 bias").
 */
async function selectAxes(tensor: Tensor, axes: AxisSelection | undefined): Promise<Tensor> {
  const selected = tf.tidy(() => {
    let out = tensor;
    axes?.forEach((indices, axis) => {
      if (indices && indices.length !== out.shape[axis])
        out = tf.gather(out, tf.tensor1d(indices, 'int32'), axis);
    });
    return out === tensor ? tf.clone(tensor) : out;
  });
  // Read asynchronously: the webgpu backend cannot read synchronously in Node.
  const fresh = tf.tensor(await selected.data(), selected.shape, selected.dtype);
  selected.dispose();
  return fresh;
}

/** A new model without the given units; the source model is left untouched. */
export async function buildPrunedModel(
  graph: DependencyGraph,
  removed: ReadonlySet<number>,
): Promise<LayersModel> {
  const model = graph.model;
  const topology = JSON.parse(JSON.stringify(model.toJSON(null, false))) as JsonObject;
  const slices = new Map(graph.nodes.map((node) => [node.name, sliceLayer(graph, node, removed)]));
  for (const config of layerConfigs(topology)) {
    const slice = slices.get(String(config.name));
    if (slice?.outChannels === undefined) continue;
    if (slice.outChannels === 0) {
      throw new PollardError('internal', `pruning would remove every channel of ${slice.node.name}`);
    }
    // The producer's entry in the layer table writes its new width (filters, units, …).
    slice.node.pruning?.resize?.(config, slice.outChannels, slice.node.depthMultiplier ?? 1);
  }
  const pruned = await tfl.models.modelFromJSON({
    modelTopology: topology,
  } as unknown as Parameters<typeof tfl.models.modelFromJSON>[0]);
  // Never a silently wrong model: every rebuilt layer must have exactly the planned width.
  for (const layer of pruned.layers) {
    const planned = slices.get(layer.name)?.keptOut.length;
    const shape = layer.outputShape;
    const width = Array.isArray(shape[0]) ? undefined : (shape as (number | null)[])[shape.length - 1];
    if (planned !== undefined && width !== undefined && width !== planned) {
      pruned.dispose();
      throw new PollardError(
        'internal',
        `${layer.name}: the rebuilt layer has ${String(width)} output channels, the plan ${planned}`,
      );
    }
  }
  for (const layer of pruned.layers) {
    const slice = slices.get(layer.name);
    const source = graph.node(layer.name).layer;
    if (!slice || layer.weights.length === 0) continue;
    const old = new Map(source.weights.map((w) => [weightKey(w.originalName), w]));
    // A layer left whole is copied weight for weight (a nested model has several `kernel`s).
    const whole = slice.weights.size === 0 && source.weights.length === layer.weights.length;
    const values = await Promise.all(
      layer.weights.map((w, index) => {
        const key = weightKey(w.originalName);
        const from = whole ? source.weights[index] : old.get(key);
        if (!from) throw new PollardError('internal', `${layer.name}: no weight ${key} in the source model`);
        const axes = slice.weights.get(key);
        const expected = selectedShape(from.shape as number[], axes);
        if (expected.join(',') !== (w.shape as number[]).join(',')) {
          throw new PollardError(
            'internal',
            `${layer.name}/${key}: sliced shape [${expected.join(',')}] does not match the rebuilt layer [${w.shape.join(',')}]`,
          );
        }
        return selectAxes(from.read(), axes);
      }),
    );
    layer.setWeights(values);
    tf.dispose(values);
  }
  return pruned;
}
