/**
 * Parameters and multiply-accumulates per layer, before and after a pruning selection, computed
 * from weight shapes and the graph's tensor shapes (no model is built). MACs come from the same
 * per-layer function as the model summary (`macsOf`, docs/macs.md), called with the channel
 * counts the slice leaves, so a plan's MACs equal the summary of the model it builds.
 */
import { tfl } from '../tf';
import { macsOf } from '../model/layers/registry';
import type { Shape } from '../model/layers/types';
import { layerMacs, macsConfig } from '../model/summary';
import type { DependencyGraph, LayerNode } from './graph';
import type { LayerSlice } from './slicing';
import { selectedShape, sliceLayer, weightKey } from './slicing';

export interface LayerCost {
  params: number;
  macs: number;
}

function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** A shape with the batch axis put back and the last axis set to `channels`. */
function withChannels(shape: number[], channels: number | undefined): Shape {
  const last = shape.length - 1;
  return [null, ...shape.map((d, axis) => (axis === last && channels !== undefined ? channels : d))];
}

function nodeMacs(graph: DependencyGraph, node: LayerNode, slice?: LayerSlice): number {
  if (node.layer instanceof tfl.LayersModel) return layerMacs(node.layer);
  const inputShapes = node.inputs.map((name, i) =>
    withChannels(graph.node(name).outputShape, slice?.keptIn[i]?.length),
  );
  return macsOf({
    className: node.className,
    config: macsConfig(node.layer),
    inputShapes,
    outputShapes: [withChannels(node.outputShape, slice?.keptOut.length)],
  });
}

/** Cost of one layer; with a slice, after the slice is applied. */
export function layerCost(graph: DependencyGraph, node: LayerNode, slice?: LayerSlice): LayerCost {
  let params = 0;
  for (const weight of node.layer.weights) {
    const key = weightKey(weight.originalName);
    params += product(selectedShape(weight.shape as number[], slice?.weights.get(key)));
  }
  return { params, macs: nodeMacs(graph, node, slice) };
}

export interface ModelCost {
  before: LayerCost;
  after: LayerCost;
  layers: Map<string, { before: LayerCost; after: LayerCost; slice: LayerSlice }>;
}

/** Cost of the whole model before and after removing the given units. */
export function modelCost(graph: DependencyGraph, removed: ReadonlySet<number>): ModelCost {
  const layers = new Map<string, { before: LayerCost; after: LayerCost; slice: LayerSlice }>();
  const before = { params: 0, macs: 0 };
  const after = { params: 0, macs: 0 };
  for (const node of graph.nodes) {
    const slice = sliceLayer(graph, node, removed);
    const costBefore = layerCost(graph, node);
    const costAfter = layerCost(graph, node, slice);
    layers.set(node.name, { before: costBefore, after: costAfter, slice });
    before.params += costBefore.params;
    before.macs += costBefore.macs;
    after.params += costAfter.params;
    after.macs += costAfter.macs;
  }
  return { before, after, layers };
}
