/**
 * Inference energy per 1,000 samples in a pass of its own, with a fake energy source on a fake clock:
 * the figures come out exactly as computed by hand.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialCnn } from '../compress/test-models';
import { tf } from '../tf';
import { fakeMachine } from './test-machine';
import { measureInference } from './inference-energy';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('inference energy per 1,000 samples', () => {
  it('runs the protocol on both models: gross and idle-subtracted, per 1,000 samples at batch 32', async () => {
    const busy: [number, number][] = [];
    const machine = fakeMachine((at) => (busy.some(([from, to]) => at >= from && at < to) ? 10 : 2));
    const original = sequentialCnn(1);
    const compressed = sequentialCnn(2);
    const calls = { original: 0, compressed: 0 };
    const tensorsBefore = tf.memory().numTensors;
    try {
      const result = await measureInference(original, compressed, {
        repetitions: 3,
        warmupRuns: 1,
        idleSeconds: 2,
        runSeconds: 1,
        originalBatchMs: 100,
        sources: machine.sources,
        clock: machine.clock,
        sleep: async (ms) => void (machine.state.now += ms),
        // Each run really predicts; its time on the fake clock is 200 ms (original) or 50 ms.
        wrapWorkload: (role, run) => async () => {
          await run();
          calls[role] += 1;
          const ms = role === 'original' ? 200 : 50;
          busy.push([machine.state.now, machine.state.now + ms]);
          machine.state.now += ms;
        },
      });
      // 1 s / 100 ms per batch = 10 batches of 32 = 320 samples per run.
      expect(result.samplesPerRun).toBe(320);
      expect(calls).toEqual({ original: 4, compressed: 4 });
      expect(result.order).toEqual([
        'original',
        'compressed',
        'compressed',
        'original',
        'original',
        'compressed',
      ]);
      expect(result.idle.watts.find((w) => w.id === 'cpu-tdp')!.watts).toBeCloseTo(2, 9);
      const perThousand = 1000 / 320;
      expect(result.original.total.gross.median).toBeCloseTo(10 * 0.2 * perThousand, 9);
      expect(result.original.total.net.median).toBeCloseTo(8 * 0.2 * perThousand, 9);
      expect(result.compressed.total.net.median).toBeCloseTo(8 * 0.05 * perThousand, 9);
      expect(result.savings[0]!.ratio).toBeCloseTo(0.25, 9);
      expect(result.original.sources.find((s) => s.id === 'rapl')!.net).toMatchObject({
        label: 'unavailable',
        median: null,
        reason: 'no powercap',
      });
      // Inputs and outputs are disposed.
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    } finally {
      original.dispose();
      compressed.dispose();
    }
  });
});
