import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizationOf } from '../data/input-scaling';
import { tfl } from '../tf';
import type { LayersModel } from '../tf';
import { FILE_METADATA_LIMITS, flattenMetadata } from './file-metadata';
import { openModel } from './registry';
import { inspectModel } from './summary';
import { saveModel } from './tfjs-layers-writer';

let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-file-metadata-'));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function tinyModel(): LayersModel {
  return tfl.sequential({
    name: 'tiny',
    layers: [
      tfl.layers.conv2d({ name: 'c', inputShape: [8, 8, 3], filters: 2, kernelSize: 3 }),
      tfl.layers.flatten({ name: 'f' }),
      tfl.layers.dense({ name: 'd', units: 2 }),
    ],
  });
}

describe('flattenMetadata', () => {
  it('flattens nested objects to "key.sub", lists of values to one text, and leaves Pollard out', () => {
    expect(
      flattenMetadata({
        pollard: { normalization: { scale: 2, offset: -1 } },
        preprocessing: { range: [-1, 1], steps: [{ op: 'resize' }, { op: 'scale', by: 0.5 }] },
        version: 3,
        ok: true,
        nothing: null,
      }),
    ).toEqual({
      'preprocessing.range': '[-1, 1]',
      'preprocessing.steps.0.op': 'resize',
      'preprocessing.steps.1.op': 'scale',
      'preprocessing.steps.1.by': '0.5',
      version: '3',
      ok: 'true',
    });
    expect(flattenMetadata('just text')).toEqual({});
    expect(flattenMetadata(undefined)).toEqual({});
  });

  it('caps keys, values, entries, list items and depth, and blanks control characters', () => {
    const long = 'x'.repeat(5000);
    const flat = flattenMetadata({ [long]: long, multi: 'a\nb\u0000c' });
    const [key, value] = Object.entries(flat)[0]!;
    expect(key).toBe(`${'x'.repeat(FILE_METADATA_LIMITS.maxKeyChars - 1)}…`);
    expect(value).toBe(`${'x'.repeat(FILE_METADATA_LIMITS.maxValueChars - 1)}…`);
    expect(flat.multi).toBe('a b c');
    const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(flattenMetadata(many))).toHaveLength(FILE_METADATA_LIMITS.maxEntries);
    expect(flattenMetadata({ mean: Array.from({ length: 20 }, (_, i) => i) })).toEqual({
      mean: '[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, …]',
    });
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(flattenMetadata(deep)).toEqual({});
    expect(flattenMetadata(JSON.parse('{"__proto__": "p", "a": "b"}'))).toEqual(
      Object.fromEntries([
        ['__proto__', 'p'],
        ['a', 'b'],
      ]),
    );
  });

  it('stays quick and small on a hostile value: half a million empty objects', () => {
    const hostile = { list: Array.from({ length: 500_000 }, () => ({})) };
    const started = performance.now();
    expect(flattenMetadata(hostile)).toEqual({});
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('TF.js userDefinedMetadata reaches the input-scaling guess', () => {
  it('inspect names the scaling and the metadata it read', async () => {
    const model = tinyModel();
    model.setUserDefinedMetadata({ preprocessing: { inputs: 'inputs normalized to [-1, 1]' }, author: 'x' });
    const saved = await saveModel(model, path.join(root, 'described'));
    model.dispose();
    const json = JSON.parse(await fs.readFile(saved.modelJson, 'utf8')) as Record<string, unknown>;
    expect(json.userDefinedMetadata).toEqual({
      preprocessing: { inputs: 'inputs normalized to [-1, 1]' },
      author: 'x',
    });
    const summary = await inspectModel(saved.dir);
    expect(summary.inputScalingGuess).toEqual({
      scaling: 'symmetric',
      reason: 'metadata preprocessing.inputs = "inputs normalized to [-1, 1]"',
    });
    const loaded = await openModel(saved.dir);
    expect(loaded.fileMetadata).toEqual({
      'preprocessing.inputs': 'inputs normalized to [-1, 1]',
      author: 'x',
    });
    loaded.model.dispose();
  });

  it("without metadata there is no guess; Pollard's stored scaling wins over the file's text", async () => {
    const plain = tinyModel();
    const bare = await saveModel(plain, path.join(root, 'bare'));
    plain.dispose();
    expect((await inspectModel(bare.dir)).inputScalingGuess).toBeUndefined();

    const model = tinyModel();
    model.setUserDefinedMetadata({ normalization: 'caffe' });
    const saved = await saveModel(model, path.join(root, 'stored'), {
      metadata: { normalization: normalizationOf('unit') },
    });
    model.dispose();
    const loaded = await openModel(saved.dir);
    // Pollard's own entry is read as stored metadata, not as the file's free text.
    expect(loaded.fileMetadata).toEqual({ normalization: 'caffe' });
    loaded.model.dispose();
    expect((await inspectModel(saved.dir)).inputScalingGuess).toEqual({
      scaling: 'unit',
      reason: 'stored with the model',
    });
  });
});
