import { describe, expect, it } from 'vitest';
import type { JobEventBody } from '../../../shared/jobs';
import { InferenceProgress } from './inference-progress';

describe('inference-energy progress', () => {
  it('moves with every batch, counts the idle wait, and has an ETA from the start', () => {
    const events: JobEventBody[] = [];
    let now = 0;
    // 4 batches per run, 10 runs (5 repetitions of both models), 2 s idle at 100 ms per batch.
    const progress = new InferenceProgress(
      { batchesPerRun: 4, runs: 10, idleSeconds: 2, batchMs: 100 },
      (event) => events.push(event),
      () => now,
      0,
    );
    expect(progress.total).toBe(60); // 40 batches + 20 batches' worth of idle
    expect(progress.expectedSeconds()).toBe(6);
    progress.start();
    expect(events[0]).toEqual({
      type: 'progress',
      stage: 'energy: inference',
      done: 0,
      total: 60,
      etaSeconds: 6,
    });
    now = 2000;
    progress.idleDone();
    expect(events[1]).toEqual({
      type: 'progress',
      stage: 'energy: inference',
      done: 20,
      total: 60,
      etaSeconds: 4,
    });
    now = 2100;
    progress.batch();
    expect(events[2]).toMatchObject({ done: 21, total: 60 });
    expect((events[2] as { etaSeconds: number }).etaSeconds).toBeCloseTo((2.1 / 21) * 39, 10);
    for (let i = 0; i < 39; i++) {
      now += 100;
      progress.batch();
    }
    expect(events.at(-1)).toEqual({
      type: 'progress',
      stage: 'energy: inference',
      done: 60,
      total: 60,
      etaSeconds: 0,
    });
    // Each of the 40 batches moved the bar: no value held for a whole run.
    expect(events.length).toBe(42);
  });

  it('throttles events to one per interval, but always sends the last', () => {
    const events: JobEventBody[] = [];
    let now = 0;
    const progress = new InferenceProgress(
      { batchesPerRun: 10, runs: 2, idleSeconds: 0, batchMs: 10 },
      (event) => events.push(event),
      () => now,
      250,
    );
    progress.start();
    for (let i = 0; i < 20; i++) {
      now += 10;
      progress.batch();
    }
    expect(events.map((event) => ('done' in event ? event.done : -1))).toEqual([0, 20]);
  });
});
