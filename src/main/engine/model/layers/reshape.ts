/** Reshaping: Flatten (the pruner follows channels through it), Reshape, Permute, RepeatVector. */
import { formatShape, product } from './shape-context';
import type { ShapeContext } from './shape-context';
import type { LayerKnowledge, Shape } from './types';

const GROUP = 'Core';

function reshapeShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  const target = ctx.config.target_shape;
  if (!Array.isArray(target) || target.length === 0 || target.length > 8) {
    ctx.bad('target_shape must be a list of dimensions');
  }
  const dims = target.map((d) => {
    if (d === -1 || d === null) return -1;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1)
      ctx.bad(`invalid target_shape ${JSON.stringify(target)}`);
    return d;
  });
  const unknown = dims.filter((d) => d === -1).length;
  if (unknown > 1) ctx.bad('target_shape may hold at most one -1');
  const rest = input.slice(1);
  const total = rest.some((d) => d === null) ? null : product(rest as number[]);
  const knownProduct = product(dims.filter((d) => d !== -1));
  if (unknown === 1) {
    const inferred = total === null ? null : total / knownProduct;
    if (inferred !== null && !Number.isInteger(inferred)) {
      ctx.bad(`cannot reshape ${formatShape(input)} to ${JSON.stringify(target)}`);
    }
    // tfjs leaves the -1 dimension undefined (null) in the symbolic shape, even when it is known.
    return [[input[0] ?? null, ...dims.map((d) => (d === -1 ? null : d))]];
  }
  if (total !== null && total !== knownProduct) {
    ctx.bad(`cannot reshape ${formatShape(input)} (${total} values) to ${JSON.stringify(target)}`);
  }
  return [[input[0] ?? null, ...dims]];
}

function permuteShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  const dims = ctx.config.dims;
  const n = input.length - 1;
  if (
    !Array.isArray(dims) ||
    dims.length !== n ||
    [...dims].sort((a, b) => (a as number) - (b as number)).some((d, i) => d !== i + 1)
  ) {
    ctx.bad(`dims must be a permutation of 1..${n}, got ${JSON.stringify(dims)}`);
  }
  return [[input[0] ?? null, ...(dims as number[]).map((d) => input[d] ?? null)]];
}

export const RESHAPE_LAYERS: readonly LayerKnowledge[] = [
  {
    className: 'Flatten',
    group: GROUP,
    shapes: (ctx) => {
      const input = ctx.single();
      const rest = input.slice(1);
      if (rest.some((d) => d === null))
        ctx.bad(`Flatten needs a fully defined input shape, got ${formatShape(input)}`);
      return [[input[0] ?? null, product(rest as number[])]];
    },
    pruning: { role: 'flatten' },
  },
  { className: 'Reshape', group: GROUP, shapes: reshapeShapes },
  { className: 'Permute', group: GROUP, shapes: permuteShapes },
  {
    className: 'RepeatVector',
    group: GROUP,
    shapes: (ctx) => {
      const input = ctx.single();
      ctx.rank(input, 2);
      return [[input[0] ?? null, ctx.positiveInt('n'), input[1] ?? null]];
    },
  },
];
