import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialCnn } from '../compress/test-models';
import { FakeEnergySource } from './fake-source';
import { tf } from '../tf';
import { batch32Runs, measureLatencyWithEnergy } from './latency-energy';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('latency runs as inference-energy runs (--energy quick)', () => {
  it('sizes the batch-32 runs as the latency measurement would', () => {
    const defaults = { minSeconds: 10, maxSeconds: 120 };
    expect(batch32Runs(2, defaults)).toBe(200); // fast model: the 200-run cap
    expect(batch32Runs(100, defaults)).toBe(50); // 5 s per model at 100 ms
    expect(batch32Runs(1000, defaults)).toBe(15); // slow model: at least 15 runs
    expect(batch32Runs(1000, { minSeconds: 10, maxSeconds: 4 })).toBe(3); // time cap, 3 at least
  });

  it('one pass gives both: batch-32 latency from the timed calls, energy from their metered windows', async () => {
    const original = sequentialCnn(1);
    const compressed = sequentialCnn(2);
    const clock = (): number => performance.now();
    const tensorsBefore = tf.memory().numTensors;
    try {
      const { latency, inference } = await measureLatencyWithEnergy(original, compressed, {
        latency: { runs: 6, warmup: 1, minSeconds: 0, maxRuns: 6 },
        repetitions: 3,
        idleSeconds: 0.05,
        sources: [new FakeEnergySource({ id: 'cpu-tdp', kind: 'modelled', clock, watts: 10 })],
        clock,
      });
      // 6 runs per model at batch 32, as 3 alternated protocol runs of 2 timed calls each.
      expect(inference.samplesPerRun).toBe(64);
      expect(inference.warmupRuns).toBe(0);
      expect(inference.order).toEqual([
        'original',
        'compressed',
        'compressed',
        'original',
        'original',
        'compressed',
      ]);
      for (const detail of latency) {
        expect(detail.runs).toEqual({ batch1: 6, batch32: 6 });
        expect(detail.batch32).toBeGreaterThanOrEqual(detail.spread.batch32[0]);
        expect(detail.batch32).toBeLessThanOrEqual(detail.spread.batch32[1]);
        expect(detail.batch1).toBeGreaterThan(0);
      }
      // A constant 10 W for the runs' wall time: gross energy per 1,000 samples is positive, 3 figures each.
      expect(inference.original.total.gross.values).toHaveLength(3);
      expect(inference.compressed.total.gross.values).toHaveLength(3);
      expect(inference.original.total.gross.median).toBeGreaterThan(0);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    } finally {
      original.dispose();
      compressed.dispose();
    }
  });

  it("records no idle power where every source knows it (the CPU model's 0 W), and does where one does not", async () => {
    const original = sequentialCnn(1);
    const compressed = sequentialCnn(2);
    const clock = (): number => performance.now();
    const sleeps: number[] = [];
    const run = (idleWatts: number | undefined) =>
      measureLatencyWithEnergy(original, compressed, {
        latency: { runs: 3, warmup: 1, minSeconds: 0, maxRuns: 3 },
        repetitions: 3,
        idleSeconds: 2,
        sources: [
          new FakeEnergySource({
            id: 'cpu-tdp',
            kind: 'modelled',
            clock,
            watts: 10,
            ...(idleWatts !== undefined ? { idleWatts } : {}),
          }),
        ],
        clock,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      });
    try {
      const known = (await run(0)).inference;
      expect(sleeps).toEqual([]);
      expect(known.idle.seconds).toBe(0);
      expect(known.idle.watts).toEqual([{ id: 'cpu-tdp', label: 'modelled:tdp-load', watts: 0 }]);
      expect(known.idle.notRecorded).toMatch(/^not recorded: every source charges only this job's own work/);
      // Nothing to subtract: the idle-subtracted figures are the gross ones, run for run.
      expect(known.original.total.net.values).toEqual(known.original.total.gross.values);
      expect(known.compressed.total.net.values).toEqual(known.compressed.total.gross.values);

      const recorded = (await run(undefined)).inference;
      expect(sleeps).toEqual([2000]);
      expect(recorded.idle.notRecorded).toBeUndefined();
    } finally {
      original.dispose();
      compressed.dispose();
    }
  });
});
