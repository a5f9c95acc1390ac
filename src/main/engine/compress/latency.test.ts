import { beforeAll, describe, expect, it } from 'vitest';
import { tf, tfl } from '../tf';
import { measureLatency } from './latency';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function denseModel(units: number): ReturnType<typeof tfl.sequential> {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [256], units, activation: 'relu' }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

describe('measureLatency', () => {
  it('measures a model with 16× the work as slower, at both batch sizes, and frees its tensors', async () => {
    const small = denseModel(32);
    const large = denseModel(512);
    const before = tf.memory().numTensors;
    const [a, b] = await measureLatency([small, large], { warmup: 1, runs: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(a!.runs).toEqual({ batch1: 5, batch32: 5 });
    expect(b!.batch32).toBeGreaterThan(a!.batch32);
    expect(b!.batch1).toBeGreaterThan(0);
    expect(a!.spread.batch32[0]).toBeLessThanOrEqual(a!.batch32);
    expect(a!.spread.batch32[1]).toBeGreaterThanOrEqual(a!.batch32);
  });

  it('adds runs until the minimum time is spent, up to the cap', async () => {
    const [result] = await measureLatency([denseModel(64)], {
      warmup: 0,
      runs: 3,
      minSeconds: 60,
      maxRuns: 9,
    });
    expect(result!.runs).toEqual({ batch1: 9, batch32: 9 });
  });

  it('stops adding runs at the time limit but keeps at least three', async () => {
    const [result] = await measureLatency([denseModel(64)], { warmup: 0, runs: 50, maxSeconds: 0 });
    expect(result!.runs).toEqual({ batch1: 3, batch32: 3 });
  });
});
