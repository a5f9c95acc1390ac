/**
 * The disk fills up (ENOSPC, injected into the file writes) while a checkpoint, a model or a
 * report is written: a clear error naming the file, the previous generation intact, and nothing
 * half-written left behind as current.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  disposeCheckpoint,
  listCheckpoints,
  readLatestCheckpoint,
  writeCheckpoint,
} from '../engine/train/checkpoint';
import { openModel } from '../engine/model/registry';
import { saveModel } from '../engine/model/tfjs-layers-writer';
import { tf, tfl } from '../engine/tf';
import { writeFileAtomic } from './atomic';

let root: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-disk-full-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** From now on, writes into files whose name contains `match` fail as on a full disk. */
function fillDiskFor(match: string): void {
  const open = fs.open.bind(fs);
  vi.spyOn(fs, 'open').mockImplementation(async (...args: Parameters<typeof fs.open>) => {
    const handle = await open(...args);
    if (String(args[0]).includes(match)) {
      handle.writeFile = () =>
        Promise.reject(
          Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
        );
    }
    return handle;
  });
}

async function leftovers(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((name) => name.includes('.tmp') || name.endsWith('.old'));
}

describe('a full disk', () => {
  it('while a report file is replaced: the error names it, the old file stays whole', async () => {
    const file = path.join(root, 'report.html');
    await fs.writeFile(file, '<p>previous report</p>');
    fillDiskFor('report.html');
    await expect(writeFileAtomic(file, '<p>new report</p>')).rejects.toThrow(
      `${file}: could not write: no space left on the device`,
    );
    expect(await fs.readFile(file, 'utf8')).toBe('<p>previous report</p>');
    expect(await leftovers(root)).toEqual([]);
  });

  it('while a checkpoint is written: the previous generation is the latest that reads back', async () => {
    const dir = path.join(root, 'checkpoints');
    const weights = [{ name: 'w', tensor: tf.tensor1d([1, 2, 3]) }];
    await writeCheckpoint(dir, { epoch: 1, batch: 0, weights, optimizer: [], extra: {} });
    fillDiskFor('weights.bin');
    await expect(
      writeCheckpoint(dir, {
        epoch: 2,
        batch: 0,
        weights: [{ name: 'w', tensor: tf.tensor1d([4, 5, 6]) }],
        optimizer: [],
        extra: {},
      }),
    ).rejects.toThrow(/weights\.bin: could not write: no space left on the device$/);
    vi.restoreAllMocks();
    expect((await listCheckpoints(dir)).map((d) => path.basename(d))).toHaveLength(1);
    expect(await leftovers(dir)).toEqual([]);
    const { checkpoint, skipped } = await readLatestCheckpoint(dir);
    expect(skipped).toEqual([]);
    expect(checkpoint!.state.epoch).toBe(1);
    expect(Array.from(checkpoint!.weights[0]!.tensor.dataSync())).toEqual([1, 2, 3]);
    disposeCheckpoint(checkpoint!);
    weights[0]!.tensor.dispose();
  });

  it('while a model is saved over an older one: the older model still opens', async () => {
    const dir = path.join(root, 'model');
    const build = (units: number) => {
      const model = tfl.sequential();
      model.add(tfl.layers.dense({ inputShape: [4], units, activation: 'softmax' }));
      return model;
    };
    const first = build(3);
    await saveModel(first, dir);
    first.dispose();
    fillDiskFor('.bin');
    const second = build(5);
    await expect(saveModel(second, dir)).rejects.toThrow(
      `${dir}: could not write: no space left on the device`,
    );
    second.dispose();
    vi.restoreAllMocks();
    const reopened = await openModel(dir);
    expect(reopened.model.outputs[0]!.shape).toEqual([null, 3]);
    reopened.model.dispose();
    expect(await leftovers(root)).toEqual([]);
  });
});
