import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIdx } from '../data/idx-writer';
import { tfl } from '../tf';
import { prepareCompressionData } from './job-data';

let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-job-data-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('prepareCompressionData', () => {
  it('refuses a dataset that leaves 0 samples to measure accuracy on', async () => {
    const dir = path.join(root, 'train-only');
    await fs.mkdir(dir);
    const count = 4;
    const labels = new Uint8Array([0, 1, 2, 0]);
    await writeIdx(dir, 'train', { images: new Uint8Array(count * 64).fill(9), labels, count }, [8, 8, 1]);
    const model = tfl.sequential({
      layers: [tfl.layers.flatten({ inputShape: [8, 8, 1] }), tfl.layers.dense({ units: 10 })],
    });
    await expect(prepareCompressionData(dir, model, { validationSplit: 0.1, seed: 1 })).rejects.toThrow(
      `${dir}: has no test samples and too few training samples (4) to hold out for validation: accuracy cannot be measured on 0 samples`,
    );
    model.dispose();
  });
});
