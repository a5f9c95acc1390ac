/**
 * The model view's layout (Netron's shape, kept small): one row per layer, top to bottom in model
 * order; a layer takes its first input's lane, a second consumer of the same output opens a new
 * lane beside it (a projection shortcut, an inception branch), and a join (Add, Concatenate)
 * returns to the leftmost lane of its inputs. An identity skip that jumps rows within a lane is
 * drawn on the lane's left, so it never crosses the layers it skips. Each node carries its output
 * channels before → after pruning and the pruned fraction the component shades.
 */

export interface GraphLayerInput {
  name: string;
  className: string;
  inbound: string[];
  outputShape: (number | null)[] | (number | null)[][];
}

export interface GraphNode {
  name: string;
  className: string;
  lane: number;
  row: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Output channels (last dimension); null where the output has none (several outputs). */
  channelsBefore: number | null;
  channelsAfter: number | null;
  /** 0..1 of the channels removed. */
  pruned: number;
  /** Joins several inputs (Add, Concatenate, …). */
  join: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** Polyline, SVG user units. */
  points: [number, number][];
  /** Jumps over the layers between (a skip connection). */
  skip: boolean;
}

export interface GraphLayout {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

export const GRAPH_METRICS = {
  nodeWidth: 200,
  nodeHeight: 34,
  rowGap: 14,
  laneGap: 36,
  /** Room on the left for skip connections. */
  margin: 40,
  skipStep: 7,
} as const;

function lastDim(shape: GraphLayerInput['outputShape']): number | null {
  if (shape.length === 0) return null;
  if (Array.isArray(shape[0])) return null;
  const last = (shape as (number | null)[]).at(-1);
  return typeof last === 'number' ? last : null;
}

/** Channels after pruning: given ones, else carried from the first input (pass-through layers, Flatten scaled). */
function channelsAfterOf(
  layers: GraphLayerInput[],
  before: Map<string, number | null>,
  given: Readonly<Record<string, number>>,
): Map<string, number | null> {
  const after = new Map<string, number | null>();
  for (const layer of layers) {
    const own = before.get(layer.name) ?? null;
    const explicit = given[layer.name];
    if (explicit !== undefined) {
      after.set(layer.name, explicit);
      continue;
    }
    const input = layer.inbound[0];
    const inBefore = input !== undefined ? (before.get(input) ?? null) : null;
    const inAfter = input !== undefined ? (after.get(input) ?? null) : null;
    if (own === null || inBefore === null || inAfter === null || inBefore === 0) after.set(layer.name, own);
    else if (own === inBefore) after.set(layer.name, inAfter);
    else if (/^(Flatten|Reshape)$/.test(layer.className) && own % inBefore === 0)
      after.set(layer.name, (own / inBefore) * inAfter);
    else after.set(layer.name, own);
  }
  return after;
}

export function layoutModelGraph(
  layers: readonly GraphLayerInput[],
  channelsAfter: Readonly<Record<string, number>> = {},
): GraphLayout {
  const M = GRAPH_METRICS;
  const list = [...layers];
  const index = new Map(list.map((l, i) => [l.name, i]));
  const before = new Map(list.map((l) => [l.name, lastDim(l.outputShape)]));
  const after = channelsAfterOf(list, before, channelsAfter);

  // Lanes: which lane each layer sits in; a lane is busy until its last layer's consumers are placed.
  const lane = new Map<string, number>();
  const consumersPlaced = new Map<string, number>();
  const busy: boolean[] = [];
  const freeLane = (): number => {
    const free = busy.indexOf(false);
    return free === -1 ? busy.length : free;
  };
  for (const layer of list) {
    const inputs = layer.inbound.filter((n) => lane.has(n));
    let mine: number;
    if (inputs.length === 0) {
      mine = freeLane();
    } else if (inputs.length > 1) {
      const lanes = inputs.map((n) => lane.get(n)!);
      mine = Math.min(...lanes);
      for (const l of lanes) if (l !== mine) busy[l] = false;
    } else {
      const input = inputs[0]!;
      const placed = consumersPlaced.get(input) ?? 0;
      mine = placed === 0 ? lane.get(input)! : freeLane();
    }
    for (const input of inputs) consumersPlaced.set(input, (consumersPlaced.get(input) ?? 0) + 1);
    busy[mine] = true;
    lane.set(layer.name, mine);
  }

  const laneCount = Math.max(1, ...[...lane.values()].map((l) => l + 1));
  const nodes: GraphNode[] = list.map((layer, row) => {
    const l = lane.get(layer.name)!;
    const b = before.get(layer.name) ?? null;
    const a = after.get(layer.name) ?? null;
    return {
      name: layer.name,
      className: layer.className,
      lane: l,
      row,
      x: M.margin + l * (M.nodeWidth + M.laneGap),
      y: M.rowGap + row * (M.nodeHeight + M.rowGap),
      width: M.nodeWidth,
      height: M.nodeHeight,
      channelsBefore: b,
      channelsAfter: a,
      pruned: b !== null && a !== null && b > 0 ? Math.min(1, Math.max(0, 1 - a / b)) : 0,
      join: layer.inbound.length > 1,
    };
  });
  const byName = new Map(nodes.map((n) => [n.name, n]));

  const edges: GraphEdge[] = [];
  const openSkips: { lane: number; from: number; to: number; depth: number }[] = [];
  for (const node of nodes) {
    for (const inputName of list[index.get(node.name)!]!.inbound) {
      const input = byName.get(inputName);
      if (!input) continue;
      const cx = (n: GraphNode) => n.x + n.width / 2;
      const cy = (n: GraphNode) => n.y + n.height / 2;
      const bottom = input.y + input.height;
      let points: [number, number][];
      let skip = false;
      if (input.lane === node.lane && node.row === input.row + 1) {
        points = [
          [cx(input), bottom],
          [cx(node), node.y],
        ];
      } else if (input.lane === node.lane) {
        skip = true;
        const depth = openSkips.filter(
          (s) => s.lane === node.lane && s.from < node.row && s.to > input.row,
        ).length;
        openSkips.push({ lane: node.lane, from: input.row, to: node.row, depth });
        const bx = input.x - 10 - depth * M.skipStep;
        points = [
          [input.x, cy(input)],
          [bx, cy(input)],
          [bx, cy(node)],
          [node.x, cy(node)],
        ];
      } else if (input.lane < node.lane) {
        points = [
          [input.x + input.width, cy(input)],
          [cx(node), cy(input)],
          [cx(node), node.y],
        ];
      } else {
        points = [
          [cx(input), bottom],
          [cx(input), cy(node)],
          [node.x + node.width, cy(node)],
        ];
      }
      edges.push({ from: input.name, to: node.name, points, skip });
    }
  }

  return {
    nodes,
    edges,
    width: M.margin + laneCount * M.nodeWidth + (laneCount - 1) * M.laneGap + M.margin / 2,
    height: M.rowGap + list.length * (M.nodeHeight + M.rowGap),
  };
}

/** Layer name → output channels after, from per-layer rows (a plan's layers, or a run's result rows). */
export function graphChannelsAfter(
  rows: readonly { name: string; outChannelsAfter?: unknown; values?: Record<string, unknown> }[],
): Record<string, number> {
  const map: Record<string, number> = {};
  for (const row of rows) {
    const after = row.outChannelsAfter ?? row.values?.outChannelsAfter;
    if (typeof after === 'number' && Number.isFinite(after) && after > 0) map[row.name] = after;
  }
  return map;
}
