/**
 * Merging: Add, Multiply, Average, Maximum, Minimum join their inputs position by position (the
 * pruner ties their channels together); Concatenate joins them end to end. No MACs.
 * Subtract is refused (TensorFlow.js has no Subtract layer; see registry.ts).
 */
import { formatShape } from './shape-context';
import type { ShapeContext } from './shape-context';
import type { LayerKnowledge, Shape } from './types';
import { isLastAxis } from './pruning-helpers';

const GROUP = 'Merging';

const elementwise = (className: string): LayerKnowledge => ({
  className,
  group: GROUP,
  shapes: (ctx) => {
    if (ctx.inputs.length < 2) ctx.bad(`${className} needs at least two inputs`);
    return [ctx.inputs.reduce((a, b) => ctx.broadcast(a, b))];
  },
  pruning: {
    role: 'merge',
    refuse: (_config, inputShapes) => {
      const widths = inputShapes.map((shape) => shape[shape.length - 1]);
      const ranks = inputShapes.map((shape) => shape.length);
      return widths.some((width) => width !== widths[0]) || ranks.some((r) => r !== ranks[0])
        ? 'merge of tensors with different shapes (broadcasting)'
        : undefined;
    },
  },
});

function concatenateShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.input;
  if (ctx.inputs.length < 2) ctx.bad('Concatenate needs at least two inputs');
  const rank = input.length;
  const rawAxis = ctx.config.axis ?? -1;
  if (typeof rawAxis !== 'number' || !Number.isInteger(rawAxis)) ctx.bad('invalid axis');
  const axis = rawAxis < 0 ? rank + rawAxis : rawAxis;
  if (axis < 1 || axis >= rank) ctx.bad(`axis ${rawAxis} is out of range for rank ${rank}`);
  const out = [...input];
  for (const other of ctx.inputs.slice(1)) {
    if (other.length !== rank) ctx.bad(`cannot concatenate ${formatShape(input)} and ${formatShape(other)}`);
    for (let i = 1; i < rank; i++) {
      if (i === axis) continue;
      if (out[i] !== null && other[i] !== null && out[i] !== other[i]) {
        ctx.bad(`cannot concatenate ${formatShape(input)} and ${formatShape(other)} on axis ${rawAxis}`);
      }
      out[i] = out[i] ?? other[i] ?? null;
    }
    out[axis] = out[axis] === null || other[axis] === null ? null : out[axis]! + other[axis]!;
  }
  return [out];
}

export const MERGE_LAYERS: readonly LayerKnowledge[] = [
  ...['Add', 'Multiply', 'Average', 'Maximum', 'Minimum'].map(elementwise),
  {
    className: 'Concatenate',
    group: GROUP,
    shapes: concatenateShapes,
    pruning: {
      role: 'concat',
      refuse: (config, inputShapes) =>
        isLastAxis(config.axis, (inputShapes[0]?.length ?? 0) + 1)
          ? undefined
          : `concatenation along axis ${String(config.axis)}, not channels`,
    },
  },
];
