import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobSpecSchema } from '../../shared/jobs';
import { listRunSummaries, MAX_REPLAYED_BATCHES, readRunEvents } from './run-details';

let root: string;

const record = (dir: string, createdAt: string, result?: Record<string, unknown>) => ({
  format: 'pollard-run/1',
  id: path.basename(dir),
  kind: 'compress',
  spec: jobSpecSchema.parse({ kind: 'compress', model: '/m', data: '/d', out: dir, method: 'structured' }),
  status: 'completed',
  createdAt,
  updatedAt: createdAt,
  hostPid: 1,
  seed: 42,
  pollardVersion: '0.1.0',
  resumes: 0,
  ...(result ? { result } : {}),
});

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-run-list-'));
  const good = path.join(root, 'good');
  await fs.mkdir(good);
  await fs.writeFile(
    path.join(good, 'run.json'),
    JSON.stringify(
      record(good, '2026-01-02T00:00:00.000Z', {
        before: { accuracy: 0.855, macs: 1000 },
        after: { accuracy: 0.85, macs: 500 },
        energy: {
          measured: {
            inference: {
              status: 'measured',
              result: { savings: [{ id: 'total', saving: 0.4, verdict: 'saving', ratio: 0.6 }] },
            },
          },
        },
      }),
    ),
  );
  const noise = path.join(root, 'noise');
  await fs.mkdir(noise);
  await fs.writeFile(
    path.join(noise, 'run.json'),
    JSON.stringify(
      record(noise, '2026-01-01T00:00:00.000Z', {
        before: { accuracy: 0.9 },
        after: { accuracy: 0.9 },
        energy: {
          measured: {
            inference: {
              status: 'measured',
              result: { savings: [{ id: 'total', saving: null, verdict: 'no measurable difference' }] },
            },
          },
        },
      }),
    ),
  );
  const damaged = path.join(root, 'damaged');
  await fs.mkdir(damaged);
  await fs.writeFile(path.join(damaged, 'run.json'), JSON.stringify({ format: 'pollard-run/1', id: 'x' }));
  const torn = path.join(root, 'torn');
  await fs.mkdir(torn);
  await fs.writeFile(path.join(torn, 'run.json'), '{"format": "pollard-ru');
  await fs.mkdir(path.join(root, 'not-a-run'));
});

afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('listRunSummaries', () => {
  it('gives the method, the accuracies, the MACs ratio and the energy verdict', async () => {
    const runs = await listRunSummaries(root);
    const good = runs.find((r) => r.id === 'good')!;
    expect(good.headline).toEqual({
      method: 'structured',
      accuracy: 0.85,
      accuracyBefore: 0.855,
      macsRatio: 0.5,
      energySaving: 0.4,
    });
    expect(runs.find((r) => r.id === 'noise')!.headline.energyVerdict).toBe('no measurable difference');
  });

  it('lists a damaged run.json with its reason instead of skipping it', async () => {
    const runs = await listRunSummaries(root);
    expect(runs.map((r) => r.id).sort()).toEqual(['damaged', 'good', 'noise', 'torn']);
    const damaged = runs.find((r) => r.id === 'damaged')!;
    expect(damaged).toMatchObject({ kind: 'unknown', status: 'damaged', resumable: false, headline: {} });
    expect(damaged.damaged).toMatch(
      new RegExp(`^${path.join(root, 'damaged', 'run.json')}: is not a valid Pollard run record: kind: `),
    );
    expect(runs.find((r) => r.id === 'torn')!.damaged).toBe(
      `${path.join(root, 'torn', 'run.json')}: is not valid JSON`,
    );
  });
});

describe('readRunEvents', () => {
  it('returns every event of every process in order, skipping a torn line', async () => {
    const dir = path.join(root, 'events');
    await fs.mkdir(dir, { recursive: true });
    const lines = [
      { type: 'started', seq: 0, time: 1 },
      { type: 'batch', seq: 1, time: 2, epoch: 1, batch: 1 },
      { type: 'cancelled', seq: 2, time: 3 },
      { type: 'started', seq: 0, time: 4 },
      { type: 'batch', seq: 1, time: 5, epoch: 2, batch: 1 },
    ].map((e) => JSON.stringify(e));
    await fs.writeFile(
      path.join(dir, 'events.jsonl'),
      `${lines.slice(0, 3).join('\n')}\n{"type":"ba\n${lines.slice(3).join('\n')}\n`,
    );
    const events = await readRunEvents(dir);
    expect(events.map((e) => `${e.type}:${e.seq}`)).toEqual([
      'started:0',
      'batch:1',
      'cancelled:2',
      'started:0',
      'batch:1',
    ]);
    expect(await readRunEvents(path.join(root, 'not-a-run'))).toEqual([]);
  });

  it('thins the batch events of a long run evenly, keeping the last', async () => {
    const dir = path.join(root, 'long');
    await fs.mkdir(dir, { recursive: true });
    const count = 2 * MAX_REPLAYED_BATCHES + 2; // every third is kept, and the last
    const lines = [JSON.stringify({ type: 'started', seq: 0, time: 0 })];
    for (let i = 1; i <= count; i++) lines.push(JSON.stringify({ type: 'batch', seq: i, time: i }));
    await fs.writeFile(path.join(dir, 'events.jsonl'), lines.join('\n') + '\n');
    const events = await readRunEvents(dir);
    const batches = events.filter((e) => e.type === 'batch');
    expect(batches.length).toBe(Math.floor(count / 3) + 1);
    expect(batches[0]!.seq).toBe(3);
    expect(batches.at(-1)!.seq).toBe(count);
    expect(events[0]!.type).toBe('started');
  });
});
