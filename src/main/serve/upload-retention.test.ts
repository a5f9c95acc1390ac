import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyUploadRetention, referencedBatches, retainUploads } from './upload-retention';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-retention-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A batch folder with one file of `bytes`, last modified `daysAgo` before NOW. */
async function batch(uploads: string, name: string, bytes: number, daysAgo: number): Promise<void> {
  const dir = path.join(uploads, name, 'data');
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'train.idx');
  await fs.writeFile(file, Buffer.alloc(bytes));
  const when = new Date(NOW - daysAgo * DAY);
  for (const p of [file, dir, path.dirname(dir)]) await fs.utimes(p, when, when);
}

describe('upload retention', () => {
  it('removes batches past the age limit, then the oldest while over the size limit, never a referenced one', async () => {
    const uploads = path.join(root, 'uploads');
    await batch(uploads, 'a-old-referenced', 500, 90);
    await batch(uploads, 'b-old', 400, 60);
    await batch(uploads, 'c-middle', 300, 20);
    await batch(uploads, 'd-recent', 200, 10);
    await batch(uploads, 'e-new', 100, 1);
    await batch(uploads, 'f-active', 5000, 0.01); // touched 15 minutes ago: may still be uploading
    const referenced = referencedBatches(uploads, [
      { kind: 'train', data: path.join(uploads, 'a-old-referenced', 'data'), out: '/runs/x' },
      { kind: 'compress', model: '/elsewhere/model.h5', data: '/data/fm' },
    ]);
    expect([...referenced]).toEqual(['a-old-referenced']);
    const outcome = await applyUploadRetention(
      uploads,
      { maxAgeDays: 30, maxTotalBytes: 5700 },
      referenced,
      NOW,
    );
    expect(outcome.removed).toEqual([
      { batch: 'b-old', bytes: 400, reason: 'age' },
      { batch: 'c-middle', bytes: 300, reason: 'size' },
      { batch: 'd-recent', bytes: 200, reason: 'size' },
    ]);
    expect((await fs.readdir(uploads)).sort()).toEqual(['a-old-referenced', 'e-new', 'f-active']);
    expect(outcome).toMatchObject({ kept: 3, totalBytes: 5600 });
  });

  it('keeps everything without limits, and copes with no uploads folder', async () => {
    const uploads = path.join(root, 'unlimited');
    await batch(uploads, 'ancient', 10, 3650);
    const outcome = await applyUploadRetention(
      uploads,
      { maxAgeDays: null, maxTotalBytes: null },
      new Set(),
      NOW,
    );
    expect(outcome).toEqual({ removed: [], kept: 1, totalBytes: 10 });
    expect(
      await applyUploadRetention(
        path.join(root, 'none'),
        { maxAgeDays: 1, maxTotalBytes: 0 },
        new Set(),
        NOW,
      ),
    ).toEqual({
      removed: [],
      kept: 0,
      totalBytes: 0,
    });
  });

  it('finds references in nested spec fields and ignores look-alike prefixes', () => {
    const uploads = path.join(root, 'up');
    const refs = referencedBatches(uploads, [
      { pruneWhileTraining: { denseRun: path.join(uploads, 'b1', 'run') } },
      { data: `${uploads}-other/b2/x` },
      { files: [path.join(uploads, 'b3', 'm.onnx')] },
    ]);
    expect([...refs].sort()).toEqual(['b1', 'b3']);
  });

  it('retainUploads keeps what the runs folder and the running jobs use, by the Settings', async () => {
    const uploads = path.join(root, 'service');
    const old = (NOW - Date.now()) / DAY + 40; // 40 days before the real now (batch() counts from NOW)
    await batch(uploads, 'run-uses-it', 10, old);
    await batch(uploads, 'job-uses-it', 10, old);
    await batch(uploads, 'nobody', 10, old);
    const outcome = await retainUploads(
      {
        getSettings: async () => ({ uploadMaxAgeDays: 30, uploadMaxTotalGiB: 20, runsDirectory: '/runs' }),
        listJobs: async () => [
          { spec: { kind: 'compress', model: path.join(uploads, 'job-uses-it', 'm.h5') } },
        ],
      },
      uploads,
      async (runsDirectory) => {
        expect(runsDirectory).toBe('/runs');
        return [{ kind: 'train', data: path.join(uploads, 'run-uses-it') }];
      },
    );
    expect(outcome.removed.map((r) => r.batch)).toEqual(['nobody']);
    expect((await fs.readdir(uploads)).sort()).toEqual(['job-uses-it', 'run-uses-it']);
  });
});
