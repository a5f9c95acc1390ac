import { beforeAll, describe, expect, it } from 'vitest';
import { tf, tfl } from '../tf';
import { buildDependencyGraph, keptPositions } from './graph';
import { concatNet, depthwiseNet, opaqueNet, residualNet, sequentialCnn } from './test-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function summary(model: ReturnType<typeof sequentialCnn>): [string, string[], number, number][] {
  return buildDependencyGraph(model).groups.map((g) => [g.id, g.producers, g.units.length, g.fixedUnits]);
}

describe('DependencyGraph', () => {
  it('gives each producer of a sequential model its own group and never the classifier', () => {
    expect(summary(sequentialCnn())).toEqual([
      ['conv1', ['conv1'], 6, 0],
      ['conv2', ['conv2'], 8, 0],
      ['fc1', ['fc1'], 10, 0],
    ]);
  });

  it('maps Flatten positions to channels in NHWC order', () => {
    const graph = buildDependencyGraph(sequentialCnn());
    const flatten = graph.node('flatten');
    const conv2 = graph.sourceElements('conv2');
    expect(flatten.outputMap.length).toBe(4 * 4 * 8);
    // position (h, w, c) = (h·4 + w)·8 + c carries conv2's channel c.
    expect(flatten.outputMap[(1 * 4 + 2) * 8 + 5]).toBe(conv2[5]);
    // Removing channel 5 of conv2 removes 16 rows of fc1's kernel.
    const removed = new Set([graph.unitOf(conv2[5]!)]);
    expect(keptPositions(graph, graph.node('fc1').inputMaps[0]!, removed)).toHaveLength(128 - 16);
  });

  it('couples the producers joined by residual additions into one group', () => {
    expect(summary(residualNet())).toEqual([
      ['stem', ['stem', 'block1_conv2', 'block2_conv2'], 8, 0],
      ['block1_conv1', ['block1_conv1'], 8, 0],
      ['block2_conv1', ['block2_conv1'], 8, 0],
      ['block3_conv1', ['block3_conv1'], 12, 0],
      ['block3_conv2', ['block3_conv2', 'block3_proj'], 12, 0],
    ]);
    const graph = buildDependencyGraph(residualNet());
    expect(graph.group('stem').members).toEqual(
      expect.arrayContaining([
        'stem_bn',
        'block1_bn2',
        'block1_add',
        'block2_add',
        'block3_conv1',
        'block3_proj',
      ]),
    );
  });

  it('passes channels through depthwise layers (with depth multiplier) into the next producer', () => {
    expect(summary(depthwiseNet())).toEqual([
      ['stem', ['stem'], 8, 0],
      ['pw1', ['pw1'], 12, 0],
      ['sep', ['sep'], 10, 0],
    ]);
    const graph = buildDependencyGraph(depthwiseNet());
    const dw2 = graph.node('dw2');
    const pw1 = graph.sourceElements('pw1');
    // Depth multiplier 2: output channels 2c and 2c+1 both come from input channel c.
    expect(dw2.outputMap.length).toBe(24);
    expect([dw2.outputMap[6], dw2.outputMap[7]]).toEqual([pw1[3], pw1[3]]);
    expect(graph.group('pw1').members).toEqual(['pw1', 'pw1_bn', 'pw1_relu', 'dw2', 'dw2_relu', 'sep']);
  });

  it('maps concatenated branches by offset and keeps them separate groups', () => {
    expect(summary(concatNet())).toEqual([
      ['stem', ['stem'], 6, 0],
      ['branch_a', ['branch_a'], 4, 0],
      ['branch_b', ['branch_b'], 5, 0],
      ['head', ['head'], 6, 0],
    ]);
    const graph = buildDependencyGraph(concatNet());
    const concat = graph.node('concat').outputMap;
    expect(concat.length).toBe(4 + 5 + 6);
    expect(concat[4]).toBe(graph.sourceElements('branch_b')[0]);
    expect(concat[9]).toBe(graph.sourceElements('stem')[0]);
  });

  it('names the layers it cannot reason about and keeps their channels', () => {
    const graph = buildDependencyGraph(opaqueNet());
    expect(graph.unsupported).toEqual([
      {
        name: 'reshape',
        className: 'Reshape',
        reason:
          'Reshape rearranges its input, so the pruner cannot follow channels through it; the layers feeding it keep theirs',
      },
      { name: 'attention', className: 'Activation', reason: 'softmax couples all channels' },
    ]);
    // conv2 feeds the Reshape, mix feeds the softmax: only conv1 stays prunable.
    expect(graph.groups.map((g) => g.id)).toEqual(['conv1']);
  });

  it('unites every input of an Add, including a model input, and fixes what touches it', () => {
    const input = tfl.input({ shape: [4, 4, 3] });
    const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 1, name: 'c' }).apply(input) as ReturnType<
      typeof tfl.input
    >;
    const sum = tfl.layers.add().apply([conv, input]) as ReturnType<typeof tfl.input>;
    const flat = tfl.layers.flatten().apply(sum) as ReturnType<typeof tfl.input>;
    const out = tfl.layers.dense({ units: 2, name: 'out' }).apply(flat) as ReturnType<typeof tfl.input>;
    const graph = buildDependencyGraph(tfl.model({ inputs: input, outputs: out }));
    expect(graph.groups).toEqual([]);
  });

  it('takes a softmax layer at the output as the classifier, without a warning', () => {
    const input = tfl.input({ shape: [4, 4, 1] });
    const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 3, name: 'c' }).apply(input) as ReturnType<
      typeof tfl.input
    >;
    const flat = tfl.layers.flatten().apply(conv) as ReturnType<typeof tfl.input>;
    const logits = tfl.layers.dense({ units: 2, name: 'logits' }).apply(flat) as ReturnType<typeof tfl.input>;
    const probs = tfl.layers.softmax({ name: 'probs' }).apply(logits) as ReturnType<typeof tfl.input>;
    const graph = buildDependencyGraph(tfl.model({ inputs: input, outputs: probs }));
    expect(graph.unsupported).toEqual([]);
    expect(graph.groups.map((g) => [g.id, g.units.length])).toEqual([['c', 3]]);
  });

  it('leaves ignored layers whole and rejects unknown names', () => {
    expect(
      buildDependencyGraph(residualNet(), { ignoredLayers: ['block1_conv2'] }).groups.map((g) => g.id),
    ).toEqual(['block1_conv1', 'block2_conv1', 'block3_conv1', 'block3_conv2']);
    expect(() => buildDependencyGraph(sequentialCnn(), { ignoredLayers: ['conv9', 'fc1'] })).toThrow(
      'ignored layers not found in the model: conv9',
    );
  });
});
