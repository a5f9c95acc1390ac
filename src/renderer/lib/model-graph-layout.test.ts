import { describe, expect, it } from 'vitest';
import {
  GRAPH_METRICS as M,
  type GraphLayerInput,
  graphChannelsAfter,
  layoutModelGraph,
} from './model-graph-layout';

const layer = (
  name: string,
  className: string,
  inbound: string[],
  channels: number | number[],
): GraphLayerInput => ({
  name,
  className,
  inbound,
  outputShape: Array.isArray(channels) ? [null, ...channels] : [null, 8, 8, channels],
});

const lanesAndRows = (layout: ReturnType<typeof layoutModelGraph>) =>
  layout.nodes.map((n) => [n.name, n.lane, n.row]);

describe('layoutModelGraph', () => {
  const lenet = [
    layer('conv1', 'Conv2D', [], 8),
    layer('pool', 'MaxPooling2D', ['conv1'], 8),
    layer('conv2', 'Conv2D', ['pool'], 16),
    layer('flatten', 'Flatten', ['conv2'], [1936]),
    layer('fc', 'Dense', ['flatten'], [10]),
  ];

  it('stacks a sequential model in one lane with straight edges, top to bottom', () => {
    const layout = layoutModelGraph(lenet);
    expect(lanesAndRows(layout)).toEqual([
      ['conv1', 0, 0],
      ['pool', 0, 1],
      ['conv2', 0, 2],
      ['flatten', 0, 3],
      ['fc', 0, 4],
    ]);
    const step = M.nodeHeight + M.rowGap;
    expect(layout.nodes.map((n) => n.y)).toEqual([0, 1, 2, 3, 4].map((r) => M.rowGap + r * step));
    expect(layout.edges[0]).toEqual({
      from: 'conv1',
      to: 'pool',
      skip: false,
      points: [
        [M.margin + M.nodeWidth / 2, M.rowGap + M.nodeHeight],
        [M.margin + M.nodeWidth / 2, M.rowGap + step],
      ],
    });
    expect(layout.width).toBe(M.margin + M.nodeWidth + M.margin / 2);
    expect(layout.height).toBe(M.rowGap + 5 * step);
  });

  it('carries pruned channels through pass-through layers and scales Flatten', () => {
    const layout = layoutModelGraph(lenet, { conv1: 6, conv2: 4, fc: 10 });
    expect(layout.nodes.map((n) => [n.name, n.channelsBefore, n.channelsAfter, n.pruned])).toEqual([
      ['conv1', 8, 6, 0.25],
      ['pool', 8, 6, 0.25],
      ['conv2', 16, 4, 0.75],
      ['flatten', 1936, 484, 0.75],
      ['fc', 10, 10, 0],
    ]);
  });

  it('draws an identity skip on the lane’s left and a projection shortcut in its own lane', () => {
    const resnet = [
      layer('stem', 'Conv2D', [], 8),
      layer('b1_conv1', 'Conv2D', ['stem'], 8),
      layer('b1_conv2', 'Conv2D', ['b1_conv1'], 8),
      layer('b1_add', 'Add', ['b1_conv2', 'stem'], 8),
      layer('b2_conv1', 'Conv2D', ['b1_add'], 16),
      layer('b2_conv2', 'Conv2D', ['b2_conv1'], 16),
      layer('b2_proj', 'Conv2D', ['b1_add'], 16),
      layer('b2_add', 'Add', ['b2_conv2', 'b2_proj'], 16),
      layer('fc', 'Dense', ['b2_add'], [10]),
    ];
    const layout = layoutModelGraph(resnet);
    expect(lanesAndRows(layout).map(([name, lane]) => [name, lane])).toEqual([
      ['stem', 0],
      ['b1_conv1', 0],
      ['b1_conv2', 0],
      ['b1_add', 0],
      ['b2_conv1', 0],
      ['b2_conv2', 0],
      ['b2_proj', 1],
      ['b2_add', 0],
      ['fc', 0],
    ]);
    expect(layout.nodes.find((n) => n.name === 'b1_add')!.join).toBe(true);
    const skip = layout.edges.find((e) => e.from === 'stem' && e.to === 'b1_add')!;
    expect(skip.skip).toBe(true);
    const step = M.nodeHeight + M.rowGap;
    const cy = (row: number) => M.rowGap + row * step + M.nodeHeight / 2;
    expect(skip.points).toEqual([
      [M.margin, cy(0)],
      [M.margin - 10, cy(0)],
      [M.margin - 10, cy(3)],
      [M.margin, cy(3)],
    ]);
    // The projection leaves b1_add to the right and comes back into b2_add from the right.
    const lane1 = M.margin + M.nodeWidth + M.laneGap;
    const out = layout.edges.find((e) => e.to === 'b2_proj')!;
    expect(out.points).toEqual([
      [M.margin + M.nodeWidth, cy(3)],
      [lane1 + M.nodeWidth / 2, cy(3)],
      [lane1 + M.nodeWidth / 2, M.rowGap + 6 * step],
    ]);
    const back = layout.edges.find((e) => e.from === 'b2_proj')!;
    expect(back.points).toEqual([
      [lane1 + M.nodeWidth / 2, M.rowGap + 6 * step + M.nodeHeight],
      [lane1 + M.nodeWidth / 2, cy(7)],
      [M.margin + M.nodeWidth, cy(7)],
    ]);
    expect(layout.width).toBe(M.margin + 2 * M.nodeWidth + M.laneGap + M.margin / 2);
  });

  it('puts concatenated branches side by side and frees their lanes at the join', () => {
    const inception = [
      layer('in', 'Conv2D', [], 8),
      layer('a', 'Conv2D', ['in'], 4),
      layer('b', 'Conv2D', ['in'], 4),
      layer('c', 'Conv2D', ['in'], 4),
      layer('cat', 'Concatenate', ['a', 'b', 'c'], 12),
      layer('d', 'Conv2D', ['cat'], 4),
      layer('e', 'Conv2D', ['cat'], 4),
    ];
    expect(lanesAndRows(layoutModelGraph(inception)).map(([name, lane]) => [name, lane])).toEqual([
      ['in', 0],
      ['a', 0],
      ['b', 1],
      ['c', 2],
      ['cat', 0],
      ['d', 0],
      ['e', 1],
    ]);
  });

  it("reads channels after from plan layers and from a run's result rows", () => {
    expect(
      graphChannelsAfter([
        { name: 'conv1', outChannelsAfter: 6 },
        { name: 'conv2', values: { outChannelsAfter: 4, outChannelsBefore: 16 } },
        { name: 'gone', values: { outChannelsAfter: 0 } },
        { name: 'text', values: { outChannelsAfter: 'n/a' } },
      ]),
    ).toEqual({ conv1: 6, conv2: 4 });
  });
});
