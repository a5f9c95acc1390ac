/**
 * Parameters and multiply-accumulates per layer, before and after a pruning selection, computed
 * from weight shapes alone (no model is built). MACs for one sample follow the usual convention:
 * every kernel weight is used once per output position — Conv and Dense: kernel elements × output
 * positions; DepthwiseConv2D: depthwise kernel elements × output positions; SeparableConv2D: both
 * of its kernels × output positions. Biases, BatchNormalization, activations, pooling and merges
 * count parameters but no MACs.
 */
import type { DependencyGraph, LayerNode } from './graph';
import type { LayerSlice } from './slicing';
import { selectedShape, sliceLayer, weightKey } from './slicing';

export interface LayerCost {
  params: number;
  macs: number;
}

const KERNELS = new Set(['kernel', 'depthwise_kernel', 'pointwise_kernel']);
const MAC_ROLES = new Set(['producer', 'depthwise']);

function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** Cost of one layer; with a slice, after the slice is applied. */
export function layerCost(node: LayerNode, slice?: LayerSlice): LayerCost {
  let params = 0;
  let kernelElements = 0;
  for (const weight of node.layer.weights) {
    const key = weightKey(weight.originalName);
    const size = product(selectedShape(weight.shape as number[], slice?.weights.get(key)));
    params += size;
    if (KERNELS.has(key)) kernelElements += size;
  }
  // Output positions: every axis but the last (channels); a Dense on a vector has one.
  const positions = product(node.outputShape.slice(0, -1).map((dim) => Math.max(dim, 1)));
  const macs = MAC_ROLES.has(node.role) ? kernelElements * positions : 0;
  return { params, macs };
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
    const costBefore = layerCost(node);
    const costAfter = layerCost(node, slice);
    layers.set(node.name, { before: costBefore, after: costAfter, slice });
    before.params += costBefore.params;
    before.macs += costBefore.macs;
    after.params += costAfter.params;
    after.macs += costAfter.macs;
  }
  return { before, after, layers };
}
