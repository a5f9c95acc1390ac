/**
 * Activation layers: Activation, ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax. No MACs
 * (docs/macs.md counts multiply-accumulates only); all but PReLU and Softmax pass channels through.
 */
import { PASSTHROUGH } from './pruning-helpers';
import type { LayerKnowledge } from './types';

const GROUP = 'Activation layers';

/** Softmax (or log-softmax) couples every channel of its input. */
export function couplesChannels(activation: unknown): boolean {
  return typeof activation === 'string' && /softmax/i.test(activation);
}

const elementwise = (className: string, group = GROUP): LayerKnowledge => ({
  className,
  group,
  shapes: (ctx) => [ctx.single()],
  pruning: PASSTHROUGH,
});

export const ACTIVATION_LAYERS: readonly LayerKnowledge[] = [
  {
    ...elementwise('Activation', 'Core'),
    pruning: {
      role: 'passthrough',
      refuse: (config) => (couplesChannels(config.activation) ? 'softmax couples all channels' : undefined),
    },
  },
  elementwise('ReLU'),
  elementwise('LeakyReLU'),
  {
    className: 'PReLU',
    group: GROUP,
    shapes: (ctx) => {
      const input = ctx.single();
      const shape = input.slice(1);
      const shared = ctx.config.shared_axes;
      const sharedAxes =
        shared === null || shared === undefined ? [] : Array.isArray(shared) ? shared : [shared];
      for (const axis of sharedAxes) {
        if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < 1 || axis > shape.length) {
          ctx.bad(`invalid shared_axes ${JSON.stringify(shared)}`);
        }
        shape[axis - 1] = 1;
      }
      ctx.addWeight('alpha', shape);
      return [input];
    },
  },
  elementwise('ELU'),
  elementwise('ThresholdedReLU'),
  { className: 'Softmax', group: GROUP, shapes: (ctx) => [ctx.single()] },
];
