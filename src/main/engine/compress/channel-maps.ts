/**
 * Pass 1 of the dependency graph (graph.ts): every layer's role, from its entry in the layer
 * table (model/layers/), and the channel map of every tensor's last axis. Producers, inputs and
 * opaque layers create elements; the other roles forward, repeat, join or tie their inputs' maps.
 */
import { couplesChannels } from '../model/layers/activation';
import { isContainerLayer, layerKnowledge } from '../model/layers/registry';
import type { Layer, LayerRole, PruningKnowledge } from '../model/layers/types';
import type { LayersModel } from '../tf';

type Config = Record<string, unknown>;

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
  /** The layer table's pruning knowledge of its class (absent for inputs and opaque layers). */
  pruning?: PruningKnowledge;
}

export interface ChannelSource {
  layer: string;
  /** First element id of this source; its channels are offset … offset + size − 1. */
  offset: number;
  size: number;
  /** Producers can be pruned; inputs and opaque layers cannot. */
  prunable: boolean;
}

export interface UnsupportedLayer {
  name: string;
  className: string;
  reason: string;
}

interface Classified {
  role: LayerRole;
  reason?: string;
  pruning?: PruningKnowledge;
}

function channelsFirst(config: Config): boolean {
  return config.dataFormat === 'channelsFirst' || config.dataFormat === 'channels_first';
}

function shapeOf(shape: unknown): number[] {
  // Layer shapes are [null, ...dims] for one output, or a list of those.
  const first = Array.isArray(shape) && Array.isArray(shape[0]) ? shape[0] : shape;
  if (!Array.isArray(first)) return [];
  return first.slice(1).map((dim) => (typeof dim === 'number' ? dim : -1));
}

/** Weightless layers that only move values around (their channels cannot be followed). */
const REARRANGES: ReadonlySet<string> = new Set(['Reshape', 'Permute']);

/** What role a layer plays (its entry in the layer table), or why it is opaque. */
function classify(layer: Layer, inputShapes: number[][]): Classified {
  const className = layer.getClassName();
  const config = layer.getConfig() as Config;
  if (className === 'InputLayer') return { role: 'input' };
  if (isContainerLayer(className)) return { role: 'opaque', reason: 'a nested model is left whole' };
  const inbound = layer.inboundNodes[0];
  // A layer fed by a multi-output layer's second tensor cannot be mapped from one channel map.
  if (inbound && inbound.tensorIndices.some((index) => index !== 0)) {
    return { role: 'opaque', reason: 'reads a secondary output of another layer' };
  }
  if (layer.inboundNodes.length > 1) return { role: 'opaque', reason: 'layer is called more than once' };
  if (channelsFirst(config)) return { role: 'opaque', reason: 'channels_first data format' };
  const pruning = layerKnowledge(className)?.pruning;
  if (pruning === undefined) {
    // A layout change has no weights to prune: it hides the channels it rearranges.
    const reason = REARRANGES.has(className)
      ? `${className} rearranges its input, so the pruner cannot follow channels through it; the layers feeding it keep theirs`
      : `${className} is not understood by the pruner`;
    return { role: 'opaque', reason };
  }
  const reason = pruning.refuse?.(config, inputShapes);
  return reason === undefined ? { role: pruning.role, pruning } : { role: 'opaque', reason };
}

/** Output position c·m + k carries input channel c. */
function expandMap(input: Int32Array, multiplier: number): Int32Array {
  const map = new Int32Array(input.length * multiplier);
  for (let c = 0; c < input.length; c++)
    for (let k = 0; k < multiplier; k++) map[c * multiplier + k] = input[c]!;
  return map;
}

/** NHWC row-major: flattened position p carries channel p mod C. */
function flattenMap(input: Int32Array, size: number): Int32Array {
  const map = new Int32Array(size);
  for (let p = 0; p < size; p++) map[p] = input[p % input.length]!;
  return map;
}

function concatMap(inputMaps: Int32Array[]): Int32Array {
  const map = new Int32Array(inputMaps.reduce((sum, m) => sum + m.length, 0));
  let offset = 0;
  for (const m of inputMaps) {
    map.set(m, offset);
    offset += m.length;
  }
  return map;
}

export class ChannelMaps {
  readonly nodes: LayerNode[] = [];
  readonly byName = new Map<string, LayerNode>();
  readonly sources: ChannelSource[] = [];
  /** Elements that can never be pruned. */
  readonly fixedElements: number[] = [];
  /** Pairs of elements that are one unit (merges). */
  readonly unions: [number, number][] = [];
  readonly unsupported: UnsupportedLayer[] = [];
  elements = 0;

  constructor(
    private readonly model: LayersModel,
    private readonly ignored: ReadonlySet<string>,
  ) {}

  /**
   * The call of `layer` in this model: a nested model also has the node that built it from its
   * own inputs, so the call is the node whose inputs are layers already mapped.
   */
  private callOf(layer: Layer): Layer['inboundNodes'][number] | undefined {
    const nodes = layer.inboundNodes;
    const inModel = nodes.find(
      (n) => n.inboundLayers.length > 0 && n.inboundLayers.every((l) => this.byName.has(l.name)),
    );
    return inModel ?? nodes[0];
  }

  add(layer: Layer): void {
    const call = this.callOf(layer);
    const inboundLayers = (call?.inboundLayers ?? []) as Layer[];
    const inputMaps = inboundLayers.map((l) => this.byName.get(l.name)!.outputMap);
    const inputShapes = inboundLayers.map((l) => this.byName.get(l.name)!.outputShape);
    const { role, reason, pruning } = classify(layer, inputShapes);
    const node: LayerNode = {
      name: layer.name,
      className: layer.getClassName(),
      role,
      layer,
      inputs: inboundLayers.map((l) => l.name),
      inputMaps,
      outputMap: new Int32Array(0),
      outputShape: shapeOf(call?.outputShapes ?? layer.outputShape),
      ...(pruning ? { pruning } : {}),
    };
    if (reason !== undefined) node.reason = reason;
    node.outputMap = this.outputMap(node);
    this.nodes.push(node);
    this.byName.set(layer.name, node);
  }

  /** The classifier (every model output) keeps its channels. */
  fixOutputs(): void {
    for (const output of this.model.outputs) {
      const node = this.byName.get(output.sourceLayer.name);
      if (node) for (const element of node.outputMap) this.fixedElements.push(element);
    }
  }

  private outputMap(node: LayerNode): Int32Array {
    const [first] = node.inputMaps;
    switch (node.role) {
      case 'input':
        return this.newSource(node, false).map;
      case 'producer':
        return this.producerMap(node);
      case 'passthrough':
      case 'channelwise':
        return first!;
      case 'depthwise':
        node.depthMultiplier = node.pruning?.depthMultiplier?.(node.layer) ?? 1;
        return expandMap(first!, node.depthMultiplier);
      case 'flatten':
        return flattenMap(first!, node.outputShape[0] ?? first!.length);
      case 'merge':
        for (const other of node.inputMaps.slice(1))
          for (let i = 0; i < first!.length; i++) this.unions.push([first![i]!, other[i]!]);
        return first!;
      case 'concat':
        return concatMap(node.inputMaps);
      case 'opaque':
        return this.opaqueMap(node);
    }
  }

  private newSource(node: LayerNode, prunable: boolean): { map: Int32Array; index: number } {
    const size = node.outputShape[node.outputShape.length - 1] ?? 1;
    const map = new Int32Array(size);
    for (let i = 0; i < size; i++) map[i] = this.elements + i;
    this.sources.push({ layer: node.name, offset: this.elements, size, prunable });
    if (!prunable) for (let i = 0; i < size; i++) this.fixedElements.push(this.elements + i);
    this.elements += size;
    return { map, index: this.sources.length - 1 };
  }

  private producerMap(node: LayerNode): Int32Array {
    const config = node.layer.getConfig() as Config;
    const prunable = !this.ignored.has(node.name) && !couplesChannels(config.activation);
    const source = this.newSource(node, prunable);
    node.source = source.index;
    const multiplier = node.pruning?.depthMultiplier?.(node.layer);
    if (multiplier !== undefined) node.depthMultiplier = multiplier;
    return source.map;
  }

  private opaqueMap(node: LayerNode): Int32Array {
    for (const m of node.inputMaps) for (const element of m) this.fixedElements.push(element);
    const map = this.newSource(node, false).map;
    const config = node.layer.getConfig() as Config;
    // A softmax that IS the model's output is just the classifier's activation: its channels are
    // fixed anyway, so it is not worth a warning.
    const isOutput = this.model.outputs.some((output) => output.sourceLayer === node.layer);
    const isSoftmax = node.className === 'Softmax' || couplesChannels(config.activation);
    // Nor is a layer that reads only channels that are fixed anyway (a Reshape of the input).
    const readsFixedOnly = node.inputMaps.every((m) =>
      m.every((element) => !this.sourceOf(element).prunable),
    );
    if (!(isOutput && isSoftmax) && !readsFixedOnly) {
      this.unsupported.push({
        name: node.name,
        className: node.className,
        reason: node.reason ?? 'not understood',
      });
    }
    return map;
  }

  private sourceOf(element: number): ChannelSource {
    return this.sources.find((s) => element >= s.offset && element < s.offset + s.size)!;
  }
}
