/** Optimizers and learning-rate schedules for the training loop. */
import type { LrSchedule, TrainingOptions } from '../../../shared/jobs';
import { tf } from '../tf';
import { FusedAdamOptimizer } from './fused-adam';

export type Optimizer = tf.Optimizer;

export function createOptimizer(
  options: Pick<TrainingOptions, 'optimizer' | 'learningRate' | 'momentum'>,
): Optimizer {
  return options.optimizer === 'sgd'
    ? tf.train.momentum(options.learningRate, options.momentum)
    : new FusedAdamOptimizer(options.learningRate);
}

/**
 * tfjs keeps the rate in a protected field (Adam reads it on every step; SGD and momentum cache
 * it in a tensor behind a setter). Duck-typed: tfjs overrides `instanceof` for optimizers.
 */
export function setLearningRate(optimizer: Optimizer, learningRate: number): void {
  const withSetter = optimizer as unknown as { setLearningRate?: (rate: number) => void };
  if (typeof withSetter.setLearningRate === 'function') {
    withSetter.setLearningRate(learningRate);
  } else {
    (optimizer as unknown as { learningRate: number }).learningRate = learningRate;
  }
}

/** The learning rate for a 0-based epoch. */
export function learningRateAt(schedule: LrSchedule, base: number, epoch: number, epochs: number): number {
  switch (schedule.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * schedule.gamma ** Math.floor(epoch / schedule.stepEpochs);
    case 'cosine': {
      // Annealed over the run, reaching the minimum only after the last epoch (no wasted epoch).
      const progress = epochs <= 0 ? 0 : epoch / epochs;
      const min = schedule.minLearningRate;
      return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * progress));
    }
  }
}
