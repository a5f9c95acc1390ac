/**
 * A model whose input is [H, W] (a Keras MNIST model: 28×28, no channel axis, then Reshape or
 * Flatten) takes Pollard's H×W×1 images once its input is declared [H, W, 1]: a Reshape or a
 * Flatten gives the same tensor from either, so the weights and outputs are unchanged.
 */
import { tfl, type LayersModel } from '../tf';

/** Layers that read an [H, W] input and an [H, W, 1] input alike. */
const SHAPE_AGNOSTIC = new Set(['Reshape', 'Flatten']);

type LayerJson = { class_name?: string; config?: { batch_input_shape?: (number | null)[] } };
type TopologyJson = { config?: { layers?: LayerJson[] } };

/** True when the only input is [H, W] and each layer reading it is a Reshape or a Flatten. */
export function lacksChannelAxis(model: LayersModel): boolean {
  if (model.inputs.length !== 1) return false;
  const input = model.inputs[0]!;
  if (input.shape.length !== 3) return false;
  const readers = model.layers.filter((layer) =>
    layer.inboundNodes.some((node) => node.inputTensors.some((tensor) => tensor.id === input.id)),
  );
  return readers.length > 0 && readers.every((layer) => SHAPE_AGNOSTIC.has(layer.getClassName()));
}

/** The same model with an [H, W, 1] input (weights copied), or the model itself when it needs none. */
export async function withChannelAxis(model: LayersModel): Promise<LayersModel> {
  if (!lacksChannelAxis(model)) return model;
  const topology = model.toJSON(null, false) as TopologyJson;
  for (const layer of topology.config?.layers ?? []) {
    const shape = layer.config?.batch_input_shape;
    if (shape?.length === 3) layer.config!.batch_input_shape = [...shape, 1];
  }
  const rebuilt = await tfl.models.modelFromJSON({
    modelTopology: topology as unknown as NonNullable<
      Parameters<typeof tfl.models.modelFromJSON>[0]['modelTopology']
    >,
  });
  const weights = model.getWeights();
  rebuilt.setWeights(weights);
  model.dispose();
  return rebuilt;
}
