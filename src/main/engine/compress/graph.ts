/**
 * DependencyGraph: which channels of a tfjs LayersModel are coupled and must be pruned together.
 *
 * Every tensor's last axis is described by a channel map: for each position, the id of the
 * "element" (one output channel of one producer) that position carries. Producers (Conv1D/2D,
 * Dense, SeparableConv2D) and non-prunable sources (model inputs, layers we cannot reason about)
 * create elements; pass-through layers (BN, activations, pooling, padding, dropout, GAP,
 * DepthwiseConv2D) forward maps; Flatten repeats its input map over the flattened positions
 * (NHWC order); Concatenate joins maps; Add/Multiply/Average/Maximum/Minimum unite the
 * elements they line up (union-find). A union-find component is one prunable unit: removing it
 * removes one channel from every producer in it, and the matching positions from every consumer.
 * A group is the set of sources whose units are tied together (e.g. a residual stage).
 *
 * A unit is fixed (never pruned) if any of its elements is: channels of model inputs, of model
 * outputs (the classifier), of layers we cannot reason about (their inputs and outputs), of
 * producers whose activation couples channels (softmax), and of ignored layers.
 */
import type { LayersModel } from '../tf';
import { usageError } from '../../../shared/errors';

/** The tfjs layer type, without importing tfjs-layers' internal paths. */
export type Layer = LayersModel['layers'][number];

export type LayerRole =
  /** Model input. */
  | 'input'
  /** Creates channels: Conv1D/Conv2D, Dense (`kernel`), SeparableConv2D (`pointwise_kernel`). */
  | 'producer'
  /** Forwards channels one to one, with no weights. */
  | 'passthrough'
  /** BatchNormalization on the last axis: weights sliced like its channels. */
  | 'batchnorm'
  /** DepthwiseConv2D: output channel c·m+k comes from input channel c. */
  | 'depthwise'
  | 'flatten'
  /** Add, Multiply, Average, Maximum, Minimum. */
  | 'merge'
  | 'concat'
  /** A layer the graph cannot reason about: its inputs and outputs stay whole. */
  | 'opaque';

export interface LayerNode {
  name: string;
  className: string;
  role: LayerRole;
  layer: Layer;
  /** Inbound layer names, in call order. */
  inputs: string[];
  /** For each input: element id per position of the input's last axis (flattened for Flatten). */
  inputMaps: Int32Array[];
  /** Element id per position of the output's last axis. */
  outputMap: Int32Array;
  /** Output shape without the batch dimension. */
  outputShape: number[];
  /** Producers: index into `sources`. */
  source?: number;
  /** Depthwise and separable layers. */
  depthMultiplier?: number;
  /** Opaque layers: why. */
  reason?: string;
}

export interface ChannelSource {
  layer: string;
  /** First element id of this source; its channels are offset … offset + size − 1. */
  offset: number;
  size: number;
  /** Producers can be pruned; inputs and opaque layers cannot. */
  prunable: boolean;
}

export interface ChannelGroup {
  /** The first producer of the group, in model order; stable across runs on the same model. */
  id: string;
  /** Producers whose output channels belong to this group, in model order. */
  producers: string[];
  /** Every layer whose weights or configuration change when the group is pruned. */
  members: string[];
  /** Root element id of each prunable unit, ordered by the first producer's channel order. */
  units: number[];
  /** Units that stay because they are tied to something fixed. */
  fixedUnits: number;
}

export interface UnsupportedLayer {
  name: string;
  className: string;
  reason: string;
}

export interface GraphOptions {
  /** Producers whose output channels must not be pruned (their whole group stays). */
  ignoredLayers?: string[];
}

export const PASSTHROUGH: ReadonlySet<string> = new Set([
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'ThresholdedReLU',
  'Dropout',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'MaxPooling1D',
  'MaxPooling2D',
  'AveragePooling1D',
  'AveragePooling2D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'ZeroPadding2D',
  'Cropping2D',
  'UpSampling2D',
  'Rescaling',
  'Resizing',
  'CenterCrop',
]);
export const MERGES: ReadonlySet<string> = new Set(['Add', 'Multiply', 'Average', 'Maximum', 'Minimum']);
export const PRODUCERS: ReadonlySet<string> = new Set(['Conv1D', 'Conv2D', 'Dense', 'SeparableConv2D']);

type Config = Record<string, unknown>;

function channelsFirst(config: Config): boolean {
  return config.dataFormat === 'channelsFirst' || config.dataFormat === 'channels_first';
}

/** Axis given as -1 or as the last axis of a tensor of the given rank. */
function isLastAxis(axis: unknown, rank: number): boolean {
  return (
    axis === -1 ||
    axis === rank - 1 ||
    (Array.isArray(axis) && axis.length === 1 && isLastAxis(axis[0], rank))
  );
}

function couplesChannels(activation: unknown): boolean {
  return typeof activation === 'string' && /softmax/i.test(activation);
}

function shapeOf(shape: unknown): number[] {
  // Layer shapes are [null, ...dims] for one output, or a list of those.
  const first = Array.isArray(shape) && Array.isArray(shape[0]) ? shape[0] : shape;
  if (!Array.isArray(first)) return [];
  return first.slice(1).map((dim) => (typeof dim === 'number' ? dim : -1));
}

/** What role a layer plays, or why it is opaque. */
function classify(layer: Layer, inputShapes: number[][]): { role: LayerRole; reason?: string } {
  const className = layer.getClassName();
  const config = layer.getConfig() as Config;
  const rank = (inputShapes[0]?.length ?? 0) + 1;
  if (className === 'InputLayer') return { role: 'input' };
  if (layer.inboundNodes.length > 1) return { role: 'opaque', reason: 'layer is called more than once' };
  if (channelsFirst(config)) return { role: 'opaque', reason: 'channels_first data format' };
  if (PRODUCERS.has(className)) return { role: 'producer' };
  if (className === 'DepthwiseConv2D') return { role: 'depthwise' };
  if (className === 'BatchNormalization') {
    return isLastAxis(config.axis, rank)
      ? { role: 'batchnorm' }
      : { role: 'opaque', reason: `BatchNormalization over axis ${String(config.axis)}, not channels` };
  }
  if (className === 'Flatten') return { role: 'flatten' };
  if (PASSTHROUGH.has(className)) {
    if (className === 'Activation' && couplesChannels(config.activation)) {
      return { role: 'opaque', reason: 'softmax couples all channels' };
    }
    return { role: 'passthrough' };
  }
  if (MERGES.has(className)) {
    const widths = inputShapes.map((shape) => shape[shape.length - 1]);
    const ranks = inputShapes.map((shape) => shape.length);
    if (widths.some((width) => width !== widths[0]) || ranks.some((r) => r !== ranks[0])) {
      return { role: 'opaque', reason: 'merge of tensors with different shapes (broadcasting)' };
    }
    return { role: 'merge' };
  }
  if (className === 'Concatenate') {
    return isLastAxis(config.axis, rank)
      ? { role: 'concat' }
      : { role: 'opaque', reason: `concatenation along axis ${String(config.axis)}, not channels` };
  }
  return { role: 'opaque', reason: `${className} is not understood by the pruner` };
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(size: number) {
    this.parent = new Int32Array(size);
    for (let i = 0; i < size; i++) this.parent[i] = i;
  }
  find(x: number): number {
    let root = x;
    while (this.parent[root] !== root) root = this.parent[root]!;
    while (this.parent[x] !== root) {
      const next = this.parent[x]!;
      this.parent[x] = root;
      x = next;
    }
    return root;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    // The smaller id becomes the root, so a unit's root is its earliest element.
    if (ra < rb) this.parent[rb] = ra;
    else if (rb < ra) this.parent[ra] = rb;
  }
}

function topologicalLayers(model: LayersModel): Layer[] {
  const seen = new Set<Layer>();
  const order: Layer[] = [];
  const visit = (layer: Layer): void => {
    if (seen.has(layer)) return;
    seen.add(layer);
    for (const inbound of layer.inboundNodes[0]?.inboundLayers ?? []) visit(inbound as Layer);
    order.push(layer);
  };
  for (const layer of model.layers) visit(layer);
  return order;
}

export class DependencyGraph {
  readonly model: LayersModel;
  /** Layers in topological order (a Sequential model's implicit InputLayer included). */
  readonly nodes: LayerNode[];
  readonly sources: ChannelSource[];
  readonly groups: ChannelGroup[];
  /** Layers whose channels stay whole because the graph cannot reason about them. */
  readonly unsupported: UnsupportedLayer[];
  private readonly byName = new Map<string, LayerNode>();
  private readonly unionFind: UnionFind;
  private readonly fixedRoots = new Set<number>();
  private readonly groupOfRoot = new Map<number, ChannelGroup>();
  private readonly elementCount: number;

  constructor(model: LayersModel, options: GraphOptions = {}) {
    this.model = model;
    const ignored = new Set(options.ignoredLayers ?? []);
    const layers = topologicalLayers(model);
    const unknown = [...ignored].filter((name) => !layers.some((layer) => layer.name === name));
    if (unknown.length > 0) {
      throw usageError(`ignored layers not found in the model: ${unknown.join(', ')}`);
    }

    // Pass 1: roles, sources and channel maps.
    const sources: ChannelSource[] = [];
    const fixedElements: number[] = [];
    let elements = 0;
    const newSource = (
      layer: string,
      size: number,
      prunable: boolean,
    ): { map: Int32Array; index: number } => {
      const map = new Int32Array(size);
      for (let i = 0; i < size; i++) map[i] = elements + i;
      sources.push({ layer, offset: elements, size, prunable });
      if (!prunable) for (let i = 0; i < size; i++) fixedElements.push(elements + i);
      elements += size;
      return { map, index: sources.length - 1 };
    };
    const unions: [number, number][] = [];
    this.nodes = [];
    this.unsupported = [];
    for (const layer of layers) {
      const inbound = layer.inboundNodes[0];
      const inboundLayers = (inbound?.inboundLayers ?? []) as Layer[];
      const inputs = inboundLayers.map((l) => l.name);
      const inputMaps = inboundLayers.map((l) => this.byName.get(l.name)!.outputMap);
      const inputShapes = inboundLayers.map((l) => this.byName.get(l.name)!.outputShape);
      const outputShape = shapeOf(layer.outputShape);
      const width = outputShape[outputShape.length - 1] ?? 1;
      const className = layer.getClassName();
      const config = layer.getConfig() as Config;
      let { role, reason } = classify(layer, inputShapes);
      // A layer fed by a multi-output layer's second tensor cannot be mapped from one channel map.
      if (inbound && inbound.tensorIndices.some((index) => index !== 0)) {
        role = 'opaque';
        reason = 'reads a secondary output of another layer';
      }
      const node: LayerNode = {
        name: layer.name,
        className,
        role,
        layer,
        inputs,
        inputMaps,
        outputMap: new Int32Array(0),
        outputShape,
      };
      switch (role) {
        case 'input':
          node.outputMap = newSource(layer.name, width, false).map;
          break;
        case 'producer': {
          const prunable = !ignored.has(layer.name) && !couplesChannels(config.activation);
          const source = newSource(layer.name, width, prunable);
          node.outputMap = source.map;
          node.source = source.index;
          if (className === 'SeparableConv2D') {
            // tfjs's getConfig omits SeparableConv2D's depthMultiplier: read it off [kh, kw, in, m].
            const depthwise = layer.weights.find((w) => w.originalName.endsWith('/depthwise_kernel'));
            node.depthMultiplier = depthwise?.shape[3] ?? 1;
          }
          break;
        }
        case 'passthrough':
        case 'batchnorm':
          node.outputMap = inputMaps[0]!;
          break;
        case 'depthwise': {
          const multiplier = Number(config.depthMultiplier ?? 1);
          const input = inputMaps[0]!;
          const map = new Int32Array(input.length * multiplier);
          for (let c = 0; c < input.length; c++)
            for (let k = 0; k < multiplier; k++) map[c * multiplier + k] = input[c]!;
          node.outputMap = map;
          node.depthMultiplier = multiplier;
          break;
        }
        case 'flatten': {
          const input = inputMaps[0]!;
          const size = outputShape[0] ?? input.length;
          const map = new Int32Array(size);
          // NHWC row-major: flattened position p carries channel p mod C.
          for (let p = 0; p < size; p++) map[p] = input[p % input.length]!;
          node.outputMap = map;
          break;
        }
        case 'merge': {
          const [first, ...rest] = inputMaps;
          for (const other of rest)
            for (let i = 0; i < first!.length; i++) unions.push([first![i]!, other[i]!]);
          node.outputMap = first!;
          break;
        }
        case 'concat': {
          const map = new Int32Array(inputMaps.reduce((sum, m) => sum + m.length, 0));
          let offset = 0;
          for (const m of inputMaps) {
            map.set(m, offset);
            offset += m.length;
          }
          node.outputMap = map;
          break;
        }
        case 'opaque': {
          for (const m of inputMaps) for (const element of m) fixedElements.push(element);
          node.outputMap = newSource(layer.name, width, false).map;
          node.reason = reason;
          // A softmax that IS the model's output is just the classifier's activation: its
          // channels are fixed anyway, so it is not worth a warning.
          const isOutput = model.outputs.some((output) => output.sourceLayer === layer);
          const isSoftmax = className === 'Softmax' || couplesChannels(config.activation);
          // Nor is a layer that reads only channels that are fixed anyway (a Reshape of the input).
          const readsFixedOnly = inputMaps.every((m) =>
            m.every(
              (element) => !sources.find((s) => element >= s.offset && element < s.offset + s.size)!.prunable,
            ),
          );
          if (!(isOutput && isSoftmax) && !readsFixedOnly) {
            this.unsupported.push({ name: layer.name, className, reason: reason ?? 'not understood' });
          }
          break;
        }
      }
      this.nodes.push(node);
      this.byName.set(layer.name, node);
    }
    // The classifier (every model output) keeps its channels.
    for (const output of model.outputs) {
      const node = this.byName.get(output.sourceLayer.name);
      if (node) for (const element of node.outputMap) fixedElements.push(element);
    }
    this.sources = sources;
    this.elementCount = elements;

    // Pass 2: units (union-find components), fixed units, groups.
    this.unionFind = new UnionFind(elements);
    for (const [a, b] of unions) this.unionFind.union(a, b);
    for (const element of fixedElements) this.fixedRoots.add(this.unionFind.find(element));

    const sourceUnion = new UnionFind(sources.length);
    const sourceOfRoot = new Map<number, number>();
    sources.forEach((source, index) => {
      for (let j = 0; j < source.size; j++) {
        const root = this.unionFind.find(source.offset + j);
        const seen = sourceOfRoot.get(root);
        if (seen === undefined) sourceOfRoot.set(root, index);
        else sourceUnion.union(seen, index);
      }
    });
    const groupsBySource = new Map<number, ChannelGroup>();
    const groups: ChannelGroup[] = [];
    sources.forEach((source, index) => {
      const key = sourceUnion.find(index);
      let group = groupsBySource.get(key);
      if (!group) {
        group = { id: '', producers: [], members: [], units: [], fixedUnits: 0 };
        groupsBySource.set(key, group);
        groups.push(group);
      }
      if (this.byName.get(source.layer)?.role === 'producer') group.producers.push(source.layer);
      for (let j = 0; j < source.size; j++) {
        const root = this.unionFind.find(source.offset + j);
        if (this.groupOfRoot.has(root)) continue;
        this.groupOfRoot.set(root, group);
        if (this.fixedRoots.has(root)) group.fixedUnits++;
        else group.units.push(root);
      }
    });
    this.groups = groups.filter((group) => group.units.length > 0 && group.producers.length > 0);
    for (const group of this.groups) {
      group.id = group.producers[0]!;
      group.units.sort((a, b) => a - b);
    }
    // Members: every layer that reads or writes a prunable unit of the group.
    for (const node of this.nodes) {
      const touched = new Set<ChannelGroup>();
      for (const map of [node.outputMap, ...node.inputMaps]) {
        for (const element of map) {
          const root = this.unionFind.find(element);
          if (this.fixedRoots.has(root)) continue;
          const group = this.groupOfRoot.get(root);
          if (group) touched.add(group);
        }
      }
      for (const group of touched) group.members.push(node.name);
    }
  }

  node(name: string): LayerNode {
    const node = this.byName.get(name);
    if (!node) throw usageError(`layer not found in the model: ${name}`);
    return node;
  }

  group(id: string): ChannelGroup {
    const group = this.groups.find((g) => g.id === id);
    if (!group) throw usageError(`no prunable channel group named ${id}`);
    return group;
  }

  /** The unit (component root) an element belongs to. */
  unitOf(element: number): number {
    return this.unionFind.find(element);
  }

  isFixed(element: number): boolean {
    return this.fixedRoots.has(this.unionFind.find(element));
  }

  /** The group a unit belongs to, if it is prunable. */
  groupOfUnit(root: number): ChannelGroup | undefined {
    if (this.fixedRoots.has(root)) return undefined;
    const group = this.groupOfRoot.get(root);
    return group && this.groups.includes(group) ? group : undefined;
  }

  /** Element ids of a producer's output channels. */
  sourceElements(layer: string): number[] {
    const node = this.node(layer);
    if (node.source === undefined) return [];
    const source = this.sources[node.source]!;
    return Array.from({ length: source.size }, (_, j) => source.offset + j);
  }

  get totalElements(): number {
    return this.elementCount;
  }
}

export function buildDependencyGraph(model: LayersModel, options: GraphOptions = {}): DependencyGraph {
  return new DependencyGraph(model, options);
}

/** Positions of a channel map that survive when the given units are removed. */
export function keptPositions(
  graph: DependencyGraph,
  map: Int32Array,
  removed: ReadonlySet<number>,
): number[] {
  const kept: number[] = [];
  for (let p = 0; p < map.length; p++) if (!removed.has(graph.unitOf(map[p]!))) kept.push(p);
  return kept;
}
