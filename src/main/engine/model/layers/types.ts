/**
 * What Pollard knows about one layer class, in one entry: whether it is allowed, how its output
 * shape and weights follow from its configuration, its multiply-accumulates, its role in the
 * pruning dependency graph, and how its weights are sliced when channels are removed. The
 * registry (registry.ts) holds one entry per class; model/infer-shapes.ts, model/macs.ts,
 * compress/graph.ts, compress/slicing.ts and compress/surgery.ts read it, so adding a layer is
 * adding one entry (Torch-Pruning's `register_customized_layer`).
 */
import type { LayersModel } from '../../tf';
import type { ShapeContext } from './shape-context';

/** The tfjs layer type, without importing tfjs-layers' internal paths. */
export type Layer = LayersModel['layers'][number];

/** A shape with the batch dimension (null where undefined). */
export type Shape = (number | null)[];

/** The inputs of `macs`: a layer's tfjs config (`layer.getConfig()`, camelCase) and the shapes of one call. */
export interface MacsInput {
  className: string;
  config: Record<string, unknown>;
  inputShapes: readonly (readonly (number | null)[])[];
  outputShapes: readonly (readonly (number | null)[])[];
}

/**
 * A layer's part in the pruning dependency graph (see compress/graph.ts):
 *  - producer: creates its output channels (Conv, Dense): pruning removes its filters/units;
 *  - passthrough: passes channels through one to one, without weights (activations, pooling);
 *  - channelwise: passes channels through with one weight entry per channel (BatchNormalization);
 *  - depthwise: output channel c·m+k comes from input channel c (DepthwiseConv2D);
 *  - flatten: repeats the input's channels over the flattened positions (NHWC);
 *  - merge: joins its inputs position by position (Add, Multiply, …): their channels are tied;
 *  - concat: joins its inputs end to end along the channel axis;
 *  - opaque: the graph cannot reason about it; its inputs and outputs keep every channel.
 * 'input' is the model input (InputLayer).
 */
export type LayerRole =
  | 'input'
  | 'producer'
  | 'passthrough'
  | 'channelwise'
  | 'depthwise'
  | 'flatten'
  | 'merge'
  | 'concat'
  | 'opaque';

/** Per axis: the surviving indices, or null where the axis is untouched. */
export type AxisSelection = (number[] | null)[];

/** What a layer's slice rule sees: surviving input and output positions of the channel axis. */
export interface SliceArgs {
  /** Surviving positions of the first input's channel axis. */
  keptIn: number[];
  keptOut: number[];
  /** Weight key (kernel, bias, gamma, …) → shape. */
  weightShapes: ReadonlyMap<string, number[]>;
  /** Depthwise and separable layers: the depth multiplier. */
  depthMultiplier: number;
}

export interface PruningKnowledge {
  role: Exclude<LayerRole, 'input' | 'opaque'>;
  /** Why a call with this configuration cannot be pruned through (undefined: it can). */
  refuse?(config: Record<string, unknown>, inputShapes: number[][]): string | undefined;
  /** Depthwise and separable layers: the multiplier, from the layer (tfjs's getConfig may omit it). */
  depthMultiplier?(layer: Layer): number;
  /** Producers: the weight whose last axis holds the output channels (importance reads it). */
  outputKernel?: string;
  /** Weight slices; absent: no weight changes (or, for 'channelwise', every weight along the channels). */
  slice?(args: SliceArgs): Map<string, AxisSelection>;
  /** Producers: write the new output width into the serialised (snake_case) configuration. */
  resize?(config: Record<string, unknown>, outChannels: number, depthMultiplier: number): void;
}

export interface LayerKnowledge {
  className: string;
  /** Documentation group (docs/layers.md), e.g. "Convolution". */
  group: string;
  /** Refused on purpose: why, as a hint the user can act on (the entry holds nothing else). */
  refused?: string;
  /** A model nested inside a model (Sequential, Model, Functional): walked, not sized here. */
  container?: boolean;
  /** Wraps another layer in `config.layer` (Bidirectional, TimeDistributed). */
  wrapper?: boolean;
  /** Output shapes of one call; records the layer's weights through `ctx.addWeight`. */
  shapes?(ctx: ShapeContext): Shape[];
  /** Multiply-accumulates of one call for one sample (docs/macs.md); absent: 0. */
  macs?(input: MacsInput, macsOf: (inner: MacsInput) => number): number;
  /** The configuration as tfjs should report it (its getConfig omits some fields). */
  configOf?(layer: Layer): Record<string, unknown>;
  /** How the pruner treats it; absent: opaque. */
  pruning?: PruningKnowledge;
}
