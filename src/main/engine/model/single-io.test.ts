import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateSpecSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { createMemoryContext } from '../job/context';
import { tfl, type LayersModel } from '../tf';
import { runEvaluateJob } from '../train/evaluate-job';
import { formatResult } from '../../cli/format';
import { inspectModel } from './summary';
import { saveModel } from './tfjs-layers-writer';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
let root: string;
let twoInputs: string;
let threeOutputs: string;

function twoInputModel(): LayersModel {
  const a = tfl.input({ shape: [8, 8, 1], name: 'image' });
  const b = tfl.input({ shape: [8, 8, 1], name: 'mask' });
  const merged = tfl.layers.concatenate().apply([a, b]) as ReturnType<typeof tfl.input>;
  const flat = tfl.layers.flatten().apply(merged) as ReturnType<typeof tfl.input>;
  const out = tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(flat) as ReturnType<
    typeof tfl.input
  >;
  return tfl.model({ inputs: [a, b], outputs: out });
}

function threeOutputModel(): LayersModel {
  const x = tfl.input({ shape: [8, 8, 1] });
  const flat = tfl.layers.flatten().apply(x) as ReturnType<typeof tfl.input>;
  const heads = [10, 4, 1].map(
    (units) => tfl.layers.dense({ units }).apply(flat) as ReturnType<typeof tfl.input>,
  );
  return tfl.model({ inputs: x, outputs: heads });
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-single-io-'));
  twoInputs = path.join(root, 'two-inputs');
  threeOutputs = path.join(root, 'three-outputs');
  await saveModel(twoInputModel(), twoInputs);
  await saveModel(threeOutputModel(), threeOutputs);
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('models with several inputs or outputs', () => {
  it('inspect lists every input and output', async () => {
    const two = await inspectModel(twoInputs);
    expect(two.inputs).toEqual([
      [null, 8, 8, 1],
      [null, 8, 8, 1],
    ]);
    expect(two.outputs).toEqual([[null, 3]]);
    const three = await inspectModel(threeOutputs);
    expect(three.outputs).toEqual([
      [null, 10],
      [null, 4],
      [null, 1],
    ]);
    const text = formatResult({ ...three, kind: 'inspect', backend: 'cpu', runDir: null });
    expect(text.split('\n').slice(1, 5)).toEqual([
      'input 1: [null,8,8,1]',
      'output 1: [null,10]',
      'output 2: [null,4]',
      'output 3: [null,1]',
    ]);
  });

  it('evaluation refuses them in one sentence, before reading any data', async () => {
    const ctx = createMemoryContext(BACKEND);
    const spec = (model: string) =>
      evaluateSpecSchema.parse({ kind: 'evaluate', model, data: path.join(root, 'no-such-data') });
    await expect(runEvaluateJob(spec(twoInputs), ctx)).rejects.toThrow(
      `Pollard compresses single-input, single-output classifiers; ${twoInputs} has 2 inputs and 1 output.`,
    );
    await expect(runEvaluateJob(spec(threeOutputs), ctx)).rejects.toThrow(
      `Pollard compresses single-input, single-output classifiers; ${threeOutputs} has 1 input and 3 outputs.`,
    );
  });
});
