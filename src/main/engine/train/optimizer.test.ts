import { describe, expect, it } from 'vitest';
import { tf } from '../tf';
import { createOptimizer, learningRateAt, setLearningRate } from './optimizer';

describe('learningRateAt', () => {
  it('keeps a constant rate', () => {
    expect(learningRateAt({ kind: 'constant' }, 0.01, 7, 10)).toBe(0.01);
  });
  it('steps down by gamma every stepEpochs', () => {
    const schedule = { kind: 'step', stepEpochs: 2, gamma: 0.5 } as const;
    expect([0, 1, 2, 3, 4].map((epoch) => learningRateAt(schedule, 0.1, epoch, 5))).toEqual([
      0.1, 0.1, 0.05, 0.05, 0.025,
    ]);
  });
  it('follows a half cosine from base towards min, never spending an epoch at the minimum', () => {
    const schedule = { kind: 'cosine', minLearningRate: 0.001 } as const;
    // lr = min + (base − min)·(1 + cos(π·epoch/epochs))/2
    expect(learningRateAt(schedule, 0.1, 0, 4)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(schedule, 0.1, 2, 4)).toBeCloseTo(0.0505, 12);
    expect(learningRateAt(schedule, 0.1, 3, 4)).toBeCloseTo(0.001 + (0.099 * (1 - Math.SQRT1_2)) / 2, 12);
  });
});

describe('setLearningRate', () => {
  it('changes the step size of Adam and SGD with momentum', async () => {
    await tf.setBackend('cpu');
    for (const kind of ['adam', 'sgd'] as const) {
      const steps: number[] = [];
      for (const rate of [0.1, 0.2]) {
        const v = tf.variable(tf.scalar(1));
        const optimizer = createOptimizer({ optimizer: kind, learningRate: 1, momentum: 0 });
        setLearningRate(optimizer, rate);
        optimizer.minimize(() => tf.mul(v, 3) as tf.Scalar);
        steps.push(1 - (await v.data())[0]!);
        v.dispose();
        optimizer.dispose();
      }
      // Adam's first step is lr·sign(g); SGD's is lr·g = 3·lr.
      const expected = kind === 'adam' ? [0.1, 0.2] : [0.3, 0.6];
      expect(steps[0]).toBeCloseTo(expected[0]!, 5);
      expect(steps[1]).toBeCloseTo(expected[1]!, 5);
    }
  });
});
