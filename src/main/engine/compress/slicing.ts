/**
 * What pruning a set of units does to each layer: which input and output positions survive and,
 * for every weight, which indices survive along each axis. The cost model (params, MACs) and the
 * graph surgery both read this one description, so the plan and the built model cannot disagree.
 */
import type { DependencyGraph, LayerNode } from './graph';
import { keptPositions } from './graph';

/** Per axis: the surviving indices, or null where the axis is untouched. */
export type AxisSelection = (number[] | null)[];

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

function expand(positions: number[], multiplier: number): number[] {
  const out: number[] = [];
  for (const c of positions) for (let k = 0; k < multiplier; k++) out.push(c * multiplier + k);
  return out;
}

function trailing(rank: number, selections: (number[] | null)[]): AxisSelection {
  const axes: AxisSelection = new Array<number[] | null>(rank).fill(null);
  selections.forEach((selection, i) => (axes[rank - selections.length + i] = selection));
  return axes;
}

export function sliceLayer(
  graph: DependencyGraph,
  node: LayerNode,
  removed: ReadonlySet<number>,
): LayerSlice {
  const keptIn = node.inputMaps.map((map) => keptPositions(graph, map, removed));
  const keptOut = keptPositions(graph, node.outputMap, removed);
  const weights = new Map<string, AxisSelection>();
  const shapes = new Map(node.layer.weights.map((w) => [weightKey(w.originalName), w.shape as number[]]));
  const rankOf = (key: string): number => shapes.get(key)?.length ?? 0;
  const input = keptIn[0] ?? [];
  const slice: LayerSlice = { node, keptIn, keptOut, weights };
  switch (node.role) {
    case 'producer':
      if (node.className === 'SeparableConv2D') {
        const multiplier = node.depthMultiplier ?? 1;
        weights.set('depthwise_kernel', trailing(4, [input, null]));
        weights.set('pointwise_kernel', trailing(4, [expand(input, multiplier), keptOut]));
      } else {
        weights.set('kernel', trailing(rankOf('kernel'), [input, keptOut]));
      }
      if (shapes.has('bias')) weights.set('bias', [keptOut]);
      slice.outChannels = keptOut.length;
      break;
    case 'depthwise':
      weights.set('depthwise_kernel', trailing(4, [input, null]));
      if (shapes.has('bias')) weights.set('bias', [keptOut]);
      break;
    case 'batchnorm':
      for (const key of shapes.keys()) weights.set(key, [keptOut]);
      break;
    default:
      break;
  }
  return slice;
}

/** Shape of a weight after selection. */
export function selectedShape(shape: number[], axes: AxisSelection | undefined): number[] {
  return shape.map((dim, axis) => axes?.[axis]?.length ?? dim);
}
