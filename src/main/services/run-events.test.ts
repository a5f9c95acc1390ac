/**
 * events.jsonl after a crash: a torn last line is skipped by its readers, and a resumed run's
 * events start on a line of their own instead of being glued to the fragment (and lost with it).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../shared/jobs';
import { trainSpecSchema } from '../../shared/jobs';
import { readEpochHistory } from './run-details';
import { endTornLine, EVENTS_FILE, RunRecorder } from './runs';

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-run-events-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const epoch = (n: number, seq: number): JobEvent => ({
  type: 'epoch',
  epochs: 3,
  epoch: n,
  loss: 1 / n,
  accuracy: 0.5 + n / 10,
  learningRate: 0.001,
  seconds: 2,
  samplesPerSecond: 100,
  seq,
  time: 1_700_000_000_000 + seq,
});

const lines = (...events: JobEvent[]) => events.map((e) => JSON.stringify(e) + '\n').join('');

describe('events.jsonl after a crash', () => {
  it('skips a torn last line', async () => {
    const dir = path.join(root, 'torn');
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, EVENTS_FILE), lines(epoch(1, 1), epoch(2, 2)) + '{"type":"epoch","epo');
    expect((await readEpochHistory(dir)).map((e) => e.epoch)).toEqual([1, 2]);
  });

  it('starts a resumed run on a new line, so its first event is not lost', async () => {
    const dir = path.join(root, 'resumed');
    await fs.mkdir(dir);
    const file = path.join(dir, EVENTS_FILE);
    await fs.writeFile(file, lines(epoch(1, 1), epoch(2, 2)) + '{"type":"epoch","epo');
    const spec = trainSpecSchema.parse({ kind: 'train', data: '/d', arch: 'lenet', out: dir, resume: true });
    const recorder = await RunRecorder.open(dir, spec, { id: 'r1' });
    recorder.onEvent(epoch(3, 3));
    await recorder.finish({ status: 'cancelled' });
    expect((await readEpochHistory(dir)).map((e) => e.epoch)).toEqual([1, 2, 3]);
    const text = await fs.readFile(file, 'utf8');
    expect(text.split('\n').at(-3)).toBe('{"type":"epoch","epo');
  });

  it('leaves a file that ends with a newline, or none, as it is', async () => {
    const file = path.join(root, 'whole.jsonl');
    await fs.writeFile(file, lines(epoch(1, 1)));
    await endTornLine(file);
    expect(await fs.readFile(file, 'utf8')).toBe(lines(epoch(1, 1)));
    await endTornLine(path.join(root, 'absent.jsonl'));
    await expect(fs.access(path.join(root, 'absent.jsonl'))).rejects.toThrow();
  });
});
