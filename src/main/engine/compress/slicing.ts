/**
 * What pruning a set of units does to each layer: which input and output positions survive and,
 * for every weight, which indices survive along each axis (the `slice` rule of the layer's entry
 * in the layer table, model/layers/). The cost model (params, MACs) and the graph surgery both
 * read this one description, so the plan and the built model cannot disagree.
 */
import type { AxisSelection } from '../model/layers/types';
import type { DependencyGraph, LayerNode } from './graph';
import { keptPositions } from './graph';

export type { AxisSelection };

export interface LayerSlice {
  node: LayerNode;
  /** Surviving positions of each input's last axis. */
  keptIn: number[][];
  /** Surviving positions of the output's last axis. */
  keptOut: number[];
  /** Weight key (last segment of the weight's name: kernel, bias, gamma, …) → axis selection. */
  weights: Map<string, AxisSelection>;
  /** The new output channel count written into the layer configuration (producers only). */
  outChannels?: number;
}

/** The weight's key within its layer: `conv1/kernel` → `kernel`. */
export function weightKey(originalName: string): string {
  return originalName.slice(originalName.lastIndexOf('/') + 1);
}

export function sliceLayer(
  graph: DependencyGraph,
  node: LayerNode,
  removed: ReadonlySet<number>,
): LayerSlice {
  const keptIn = node.inputMaps.map((map) => keptPositions(graph, map, removed));
  const keptOut = keptPositions(graph, node.outputMap, removed);
  const rule = node.pruning?.slice;
  const weights =
    rule === undefined
      ? new Map<string, AxisSelection>()
      : rule({
          keptIn: keptIn[0] ?? [],
          keptOut,
          weightShapes: new Map(
            node.layer.weights.map((w) => [weightKey(w.originalName), w.shape as number[]]),
          ),
          depthMultiplier: node.depthMultiplier ?? 1,
        });
  const slice: LayerSlice = { node, keptIn, keptOut, weights };
  if (node.role === 'producer') slice.outChannels = keptOut.length;
  return slice;
}

/** Shape of a weight after selection. */
export function selectedShape(shape: number[], axes: AxisSelection | undefined): number[] {
  return shape.map((dim, axis) => axes?.[axis]?.length ?? dim);
}
