/**
 * The engine's real handlers, through the job dispatch, return what src/shared/job-results.ts
 * says: each result survives the trip through JSON and parses with its kind's schema, and the
 * renderer's readers turn it into the numbers the screens show.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkJobResult, type ResultOf } from '../../../shared/job-results';
import { type JobKind, jobSpecSchema, type JobSpecInput, type SpecOf } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { compressionOf, parseCompressionResult } from '../../../renderer/lib/compression-result';
import { parsePlanSweep } from '../../../renderer/lib/plan-sweep';
import { parseSensitivityResult } from '../../../renderer/lib/sensitivity-result';
import { sequentialCnn } from '../compress/test-models';
import { writeIdx } from '../data/idx-writer';
import { saveModel } from '../model/tfjs-layers-writer';
import { tf } from '../tf';
import { createMemoryContext } from './context';
import { loadHandler } from './handlers';
import { checkedResult } from './result-check';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
let root: string;
let dataDir: string;
let modelDir: string;

/** Three classes of 8×8 images: a bright band in the top, middle or bottom rows. */
function bands(count: number): { images: Uint8Array; labels: Uint8Array; count: number } {
  const images = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 64; p++)
      images[i * 64 + p] = Math.floor(p / 8 / 3) === i % 3 ? 200 : (i * 7 + p) % 40;
  }
  return { images, labels, count };
}

/** Runs kind K's real handler and returns its result as it arrives on the other side of the process. */
async function run<K extends JobKind>(input: Extract<JobSpecInput, { kind: K }>): Promise<ResultOf<K>> {
  const spec = jobSpecSchema.parse(input) as SpecOf<K>;
  const handler = await loadHandler(spec.kind as K);
  const result = await handler(spec, createMemoryContext(BACKEND));
  return checkJobResult(spec.kind as K, JSON.parse(JSON.stringify(result)));
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-job-results-'));
  dataDir = path.join(root, 'bands');
  await fs.mkdir(dataDir);
  await writeIdx(dataDir, 'train', bands(48), [8, 8, 1]);
  await writeIdx(dataDir, 't10k', bands(24), [8, 8, 1]);
  await fs.writeFile(path.join(dataDir, 'classes.txt'), 'top\nmiddle\nbottom\n');
  const model = sequentialCnn();
  modelDir = path.join(root, 'model');
  await saveModel(model, modelDir, { metadata: { classNames: ['top', 'middle', 'bottom'] } });
  model.dispose();
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('job results from the real handlers', () => {
  it('inspect: the summary with kind, backend and no run folder', async () => {
    const result = await run({ kind: 'inspect', model: modelDir });
    expect([result.kind, result.backend, result.runDir, result.format]).toEqual([
      'inspect',
      'cpu',
      null,
      'tfjs-layers',
    ]);
    expect(result.layers.reduce((sum, layer) => sum + layer.params, 0)).toBe(result.params);
    expect(result.classes).toBe(3);
  });

  it('dataset: the description and one preview per class', async () => {
    const result = await run({ kind: 'dataset', data: dataDir, previews: 1 });
    expect(result.info.shape).toEqual([8, 8, 1]);
    expect(result.info.train.count).toBe(48);
    expect(result.info.classNames).toEqual(['top', 'middle', 'bottom']);
    expect(result.previews.map((p) => [p.label, p.width, p.height])).toEqual([
      [0, 8, 8],
      [1, 8, 8],
      [2, 8, 8],
    ]);
  });

  it('evaluate: accuracy with its samples and classes', async () => {
    const result = await run({ kind: 'evaluate', model: modelDir, data: dataDir });
    expect([result.kind, result.split, result.count, result.classNames.length]).toEqual([
      'evaluate',
      'test',
      24,
      3,
    ]);
    expect(result.confusion.flat().reduce((sum, n) => sum + n, 0)).toBe(24);
  });

  it('export-model: the files written', async () => {
    const to = path.join(root, 'exported');
    const result = await run({
      kind: 'export-model',
      model: modelDir,
      format: 'tfjs',
      to,
      quantize: 'uint8',
    });
    expect(result.files.map((f) => path.basename(f.path)).sort()).toEqual([
      'group1-shard1of1.bin',
      'model.json',
    ]);
    expect(result.files.every((f) => f.bytes > 0)).toBe(true);
  });

  it('sensitivity: the groups and ratios the Method step charts', async () => {
    const out = path.join(root, 'sensitivity');
    const result = await run({
      kind: 'sensitivity',
      model: modelDir,
      data: dataDir,
      out,
      samples: 6,
      ratios: [0.5],
    });
    const view = parseSensitivityResult(result);
    expect(view.ratios).toEqual([0.5]);
    expect(view.baseline).toBe(result.baselineAccuracy);
    expect(view.curves.map((c) => c.name)).toEqual(['conv1', 'conv2', 'fc1']);
    expect(view.curves.map((c) => c.accuracy.length)).toEqual([1, 1, 1]);
  });

  it('plan: the sweep the target slider reads, with its per-layer table', async () => {
    const result = await run({ kind: 'plan', model: modelDir, targets: [0, 0.5] });
    const sweep = parsePlanSweep(result);
    expect(sweep.points.map((p) => p.target)).toEqual([0, 0.5]);
    expect(sweep.points[1]!.layers.reduce((sum, l) => sum + l.paramsAfter, 0)).toBe(
      sweep.points[1]!.paramsAfter,
    );
  });

  it('compress: the comparison the Results step shows', async () => {
    const out = path.join(root, 'compress');
    const result = await run({
      kind: 'compress',
      model: modelDir,
      data: dataDir,
      out,
      method: 'quantize',
      dtype: 'uint8',
      finetuneEpochs: 0,
      energy: { measure: false },
    });
    const view = parseCompressionResult(compressionOf(result)!);
    expect(view.after.weightDtype).toBe('uint8');
    expect(view.after.params).toBe(view.before.params);
    expect(view.after.sizeBytes).toBeLessThan(view.before.sizeBytes!);
    expect(view.layers.map((l) => l.name)).toEqual(result.layers.map((l) => l.name));
  });
});

describe('checking a result against its schema', () => {
  it('names the kind, the field and the problem of a result that does not match', () => {
    expect(() =>
      checkJobResult('plan', { kind: 'plan', by: 'macs', criterion: 'l1', notes: [], unsupported: [] }),
    ).toThrow(
      "the plan job's result does not match its schema: points: Invalid input: expected array, received undefined",
    );
  });

  it('fails the job under the tests, and only warns in use', () => {
    const wrong = { kind: 'inspect' } as unknown as ResultOf<'inspect'>;
    const logged: string[] = [];
    const log = (_level: string, message: string) => logged.push(message);
    expect(() => checkedResult('inspect', wrong, log, true)).toThrow(
      /^the inspect job's result does not match/,
    );
    expect(checkedResult('inspect', wrong, log, false)).toBe(wrong);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^the inspect job's result does not match its schema: /);
  });
});
