/**
 * DependencyGraph: which channels of a tfjs LayersModel are coupled and must be pruned together.
 *
 * Every tensor's last axis is described by a channel map: for each position, the id of the
 * "element" (one output channel of one producer) that position carries. A layer's role comes from
 * its entry in the layer table (model/layers/; channel-maps.ts builds the maps): producers
 * (Conv1D/2D, Dense, SeparableConv2D) and non-prunable sources (model inputs, layers we cannot
 * reason about) create elements; pass-through and channelwise layers (activations, pooling,
 * padding, dropout, GAP, BN) forward maps; DepthwiseConv2D expands them; Flatten repeats its input
 * map over the flattened positions (NHWC order); Concatenate joins maps; Add/Multiply/Average/
 * Maximum/Minimum unite the elements they line up (union-find). A union-find component is one prunable unit: removing it
 * removes one channel from every producer in it, and the matching positions from every consumer.
 * A group is the set of sources whose units are tied together (e.g. a residual stage).
 *
 * A unit is fixed (never pruned) if any of its elements is: channels of model inputs, of model
 * outputs (the classifier), of layers we cannot reason about (their inputs and outputs), of
 * producers whose activation couples channels (softmax), and of ignored layers.
 */
import type { LayersModel } from '../tf';
import { usageError } from '../../../shared/errors';
import type { Layer, LayerRole } from '../model/layers/types';
import { ChannelMaps } from './channel-maps';
import type { ChannelSource, LayerNode, UnsupportedLayer } from './channel-maps';

export type { ChannelSource, Layer, LayerNode, LayerRole, UnsupportedLayer };

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

export interface GraphOptions {
  /** Producers whose output channels must not be pruned (their whole group stays). */
  ignoredLayers?: string[];
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
  private readonly byName: Map<string, LayerNode>;
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
    const maps = new ChannelMaps(model, ignored);
    for (const layer of layers) maps.add(layer);
    maps.fixOutputs();
    const { fixedElements, unions, elements } = maps;
    this.nodes = maps.nodes;
    this.byName = maps.byName;
    this.unsupported = maps.unsupported;
    this.sources = maps.sources;
    this.elementCount = elements;

    // Pass 2: units (union-find components), fixed units, groups.
    this.unionFind = new UnionFind(elements);
    for (const [a, b] of unions) this.unionFind.union(a, b);
    for (const element of fixedElements) this.fixedRoots.add(this.unionFind.find(element));

    this.groups = this.buildGroups();
    this.collectMembers();
  }

  /** Sources whose units are tied (one union-find over sources), each set one group. */
  private buildGroups(): ChannelGroup[] {
    const sourceUnion = new UnionFind(this.sources.length);
    const sourceOfRoot = new Map<number, number>();
    this.sources.forEach((source, index) => {
      for (let j = 0; j < source.size; j++) {
        const root = this.unionFind.find(source.offset + j);
        const seen = sourceOfRoot.get(root);
        if (seen === undefined) sourceOfRoot.set(root, index);
        else sourceUnion.union(seen, index);
      }
    });
    const groupsBySource = new Map<number, ChannelGroup>();
    const groups: ChannelGroup[] = [];
    this.sources.forEach((source, index) => {
      const key = sourceUnion.find(index);
      let group = groupsBySource.get(key);
      if (!group) {
        group = { id: '', producers: [], members: [], units: [], fixedUnits: 0 };
        groupsBySource.set(key, group);
        groups.push(group);
      }
      this.addSource(group, source);
    });
    const prunable = groups.filter((group) => group.units.length > 0 && group.producers.length > 0);
    for (const group of prunable) {
      group.id = group.producers[0]!;
      group.units.sort((a, b) => a - b);
    }
    return prunable;
  }

  private addSource(group: ChannelGroup, source: ChannelSource): void {
    if (this.byName.get(source.layer)?.role === 'producer') group.producers.push(source.layer);
    for (let j = 0; j < source.size; j++) {
      const root = this.unionFind.find(source.offset + j);
      if (this.groupOfRoot.has(root)) continue;
      this.groupOfRoot.set(root, group);
      if (this.fixedRoots.has(root)) group.fixedUnits++;
      else group.units.push(root);
    }
  }

  /** Members: every layer that reads or writes a prunable unit of the group. */
  private collectMembers(): void {
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
