import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportModelSpecSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { sequentialCnn } from '../compress/test-models';
import { createMemoryContext } from '../job/context';
import { runExportModelJob } from './export-model-job';
import { saveModel } from './tfjs-layers-writer';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
let root: string;
let uint8Model: string;

interface Manifest {
  weightsManifest: { weights: { name: string; dtype: string; quantization?: { dtype: string } }[] }[];
}

async function storedTypes(dir: string): Promise<string[]> {
  const json = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8')) as Manifest;
  const types = json.weightsManifest.flatMap((group) =>
    group.weights.map((w) => w.quantization?.dtype ?? w.dtype),
  );
  return [...new Set(types)].sort();
}

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-export-model-'));
  uint8Model = path.join(root, 'uint8');
  const model = sequentialCnn();
  await saveModel(model, uint8Model, { quantize: 'uint8' });
  model.dispose();
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const exportTo = (to: string, quantize?: 'float32' | 'float16') =>
  exportModelSpecSchema.parse({
    kind: 'export-model',
    model: uint8Model,
    format: 'tfjs',
    to,
    ...(quantize ? { quantize } : {}),
  });

describe('export-model to tfjs', () => {
  it("keeps a uint8 model's weight type unless told otherwise", async () => {
    expect(await storedTypes(uint8Model)).toEqual(['uint8']);
    const ctx = createMemoryContext(BACKEND);
    const same = path.join(root, 'same');
    await runExportModelJob(exportTo(same), ctx);
    expect(await storedTypes(same)).toEqual(['uint8']);
    const before = (await fs.stat(path.join(uint8Model, 'group1-shard1of1.bin'))).size;
    expect((await fs.stat(path.join(same, 'group1-shard1of1.bin'))).size).toBe(before);

    const float = path.join(root, 'float32');
    await runExportModelJob(exportTo(float, 'float32'), ctx);
    expect(await storedTypes(float)).toEqual(['float32']);
    expect((await fs.stat(path.join(float, 'group1-shard1of1.bin'))).size).toBe(before * 4);

    const half = path.join(root, 'float16');
    await runExportModelJob(exportTo(half, 'float16'), ctx);
    expect(await storedTypes(half)).toEqual(['float16']);
  });
});
