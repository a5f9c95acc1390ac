import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf';
import { chooseRatios } from './auto';
import { buildDependencyGraph } from './graph';
import { computeImportance } from './importance';
import { readSensitivityRun } from './sensitivity-run';
import { sequentialCnn } from './test-models';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const RATIOS = [0.25, 0.5];
const group = (id: string, accuracy: number[]) => ({
  id,
  producers: [id],
  channels: 8,
  channelsAfter: [6, 4],
  accuracy,
  macsRemoved: [0.1, 0.2],
  paramsRemoved: [0.1, 0.2],
});

function runWith(result: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-sensitivity-'));
  writeFileSync(path.join(dir, 'sensitivity.json'), JSON.stringify(result));
  return dir;
}

describe('readSensitivityRun', () => {
  const graph = buildDependencyGraph(sequentialCnn());
  const valid = {
    criterion: 'l1',
    ratios: RATIOS,
    baselineAccuracy: 0.9,
    macs: 1000,
    params: 100,
    groups: [group('conv1', [0.9, 0.6]), group('conv2', [0.89, 0.88]), group('fc1', [0.5, 0.2])],
    notes: [],
  };

  it('reads a run folder and lets automatic mode choose from it', async () => {
    const sensitivity = await readSensitivityRun(runWith(valid), graph, 'l1');
    expect(sensitivity.groups.map((g) => g.id)).toEqual(['conv1', 'conv2', 'fc1']);
    expect(sensitivity.baselineAccuracy).toBe(0.9);
    const importance = await computeImportance(graph, { criterion: 'l1' });
    // Budget 2.5 points: conv2 to 50% costs 2 points, conv1 at 25% costs 0: both taken; fc1 (40 points) not.
    const choice = chooseRatios(graph, importance, sensitivity, { budgetPoints: 2.5 });
    expect(choice.ratios).toEqual({ conv1: 0.25, conv2: 0.5 });
    expect(choice.predictedDropPoints).toBeCloseTo(2, 10);
  });

  it('refuses another model, another criterion and damaged files, naming the file', async () => {
    const dir = runWith({ ...valid, groups: [group('stem', [0.9, 0.9])] });
    const file = path.join(dir, 'sensitivity.json');
    await expect(readSensitivityRun(dir, graph, 'l1')).rejects.toThrow(
      `${file}: group stem is not a channel group of this model: the sensitivity run was measured on another model`,
    );
    await expect(readSensitivityRun(runWith(valid), graph, 'fpgm')).rejects.toThrow(
      /was measured with the l1 criterion, but this run ranks channels by fpgm/,
    );
    const short = runWith({ ...valid, groups: [{ ...group('conv1', [0.9]), accuracy: [0.9] }] });
    await expect(readSensitivityRun(short, graph, 'l1')).rejects.toThrow(
      'groups[0].accuracy must hold one number per ratio (2)',
    );
    const broken = mkdtempSync(path.join(os.tmpdir(), 'pollard-sensitivity-'));
    writeFileSync(path.join(broken, 'sensitivity.json'), '{');
    await expect(readSensitivityRun(broken, graph, 'l1')).rejects.toThrow(
      `${path.join(broken, 'sensitivity.json')}: is not valid JSON: automatic mode needs the sensitivity run's sensitivity.json`,
    );
  });
});
