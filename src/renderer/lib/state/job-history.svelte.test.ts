import { describe, expect, it } from 'vitest';
import type { JobEvent, JobEventBody } from '../../../shared/jobs';
import { appendPoint, modelFromEvents, spliceSeries } from './job-model';
import { JobState } from './job-state.svelte';

let clock = 1_000;
const ev = (seq: number, body: JobEventBody, time = (clock += 10)): JobEvent =>
  ({ ...body, seq, time }) as JobEvent;
const started = (seq: number, time: number): JobEvent =>
  ev(
    seq,
    {
      type: 'started',
      kind: 'compress',
      backend: { used: 'wasm', device: 'SIMD', rungs: [] },
      runDir: '/runs/c1',
      pid: 1,
      versions: {},
    },
    time,
  );
const batch = (seq: number, epoch: number, b: number, loss: number): JobEvent =>
  ev(seq, {
    type: 'batch',
    epoch,
    epochs: 4,
    batch: b,
    batches: 2,
    loss,
    accuracy: 1 - loss,
    samplesPerSecond: 800,
    etaSeconds: 12,
  });

/** A compress run cancelled in epoch 2 (after its checkpoint of epoch 1), then resumed from epoch 2. */
function cancelledThenResumed(): JobEvent[] {
  return [
    started(0, 100),
    batch(1, 1, 1, 0.9),
    batch(2, 1, 2, 0.8),
    batch(3, 2, 1, 0.7),
    ev(4, { type: 'cancelled', epoch: 2, batch: 1 }),
    started(0, 200),
    batch(1, 2, 1, 0.65),
    batch(2, 2, 2, 0.6),
  ];
}

describe('a run’s history from its events', () => {
  it('keeps a history running forward: a repeated stretch replaces the points it repeats', () => {
    const points = [1, 2, 3].map((x) => ({ x, y: x }));
    expect(appendPoint(points, { x: 2, y: 20 })).toEqual([
      { x: 1, y: 1 },
      { x: 2, y: 20 },
    ]);
    expect(appendPoint(points, { x: 4, y: 4 })).toHaveLength(4);
    expect(spliceSeries(points, [{ x: 2.5, y: 9 }])).toEqual([
      { x: 1, y: 1 },
      { x: 2, y: 2 },
      { x: 2.5, y: 9 },
    ]);
    expect(spliceSeries(points, [])).toEqual(points);
  });

  it('rebuilds every process’s stretch, each with its own seq numbers', () => {
    const model = modelFromEvents('job', cancelledThenResumed());
    expect(model.loss).toEqual([
      { x: 0.5, y: 0.9 },
      { x: 1, y: 0.8 },
      { x: 1.5, y: 0.65 },
      { x: 2, y: 0.6 },
    ]);
    expect(model.phase).toBe('running');
    expect(model.logs.map((l) => l.message)).toEqual([
      'started compress on wasm (SIMD)',
      'cancelled at epoch 2, batch 1',
      'started compress on wasm (SIMD)',
    ]);
  });

  it('gives a resumed job the history from before the cancel, then its own live points', () => {
    const job = new JobState('resumed', 'compress');
    job.runDir = '/runs/c1';
    // The resumed job has not started yet: the file holds the cancelled stretch only.
    job.loadHistory(cancelledThenResumed().slice(0, 5));
    expect(job.loss.map((p) => p.y)).toEqual([0.9, 0.8, 0.7]);
    // Live, the resumed process starts again at seq 0 and repeats epoch 2.
    for (const event of cancelledThenResumed().slice(5)) expect(job.apply(event)).toBe(true);
    expect(job.loss).toEqual([
      { x: 0.5, y: 0.9 },
      { x: 1, y: 0.8 },
      { x: 1.5, y: 0.65 },
      { x: 2, y: 0.6 },
    ]);
    expect(job.logs.map((l) => l.message)).toEqual([
      'started compress on wasm (SIMD)',
      'cancelled at epoch 2, batch 1',
      'started compress on wasm (SIMD)',
    ]);
  });

  it('fills in a reloaded job’s early points and ignores their replay afterwards', () => {
    const job = new JobState('running', 'compress');
    const events = cancelledThenResumed().slice(5);
    // After a reload the live replay kept only the started event and the last batch.
    job.apply(events[0]!);
    job.apply(events[2]!);
    job.loadHistory(cancelledThenResumed());
    expect(job.loss.map((p) => p.y)).toEqual([0.9, 0.8, 0.65, 0.6]);
    expect(job.apply(events[1]!)).toBe(false);
    expect(job.loss.map((p) => p.y)).toEqual([0.9, 0.8, 0.65, 0.6]);
  });
});
