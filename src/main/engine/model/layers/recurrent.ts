/**
 * Recurrent layers: SimpleRNN, GRU, LSTM, and the wrappers Bidirectional and TimeDistributed.
 * Opaque to the pruner.
 *
 *   SimpleRNN/GRU/LSTM  MACs = T · gates · (F · units + units · units)   (gates 1 / 3 / 4)
 *   Bidirectional       2 × the wrapped recurrent layer
 *   TimeDistributed     T × the wrapped layer on one step
 */
import { formatShape, product } from './shape-context';
import type { InferredLayer, ShapeContext } from './shape-context';
import { dim, numberField, wrappedLayer } from './macs-helpers';
import type { LayerKnowledge, MacsInput, Shape } from './types';

const GROUP = 'Recurrent';
const GATES: Readonly<Record<string, number>> = { SimpleRNN: 1, GRU: 3, LSTM: 4 };

type JsonRecord = Record<string, unknown>;
type WrappedEntry = { class_name: string; config: JsonRecord };

/** One recurrent layer's weights (under `prefix`) and outputs: main output, then states. */
function recurrentShapes(
  ctx: ShapeContext,
  className: string,
  config: JsonRecord,
  input: Shape,
  prefix: string,
): Shape[] {
  ctx.rank(input, 3);
  const units = ctx.positiveInt('units', undefined, config);
  const gates = GATES[className] ?? 1;
  ctx.addWeight(`${prefix}kernel`, [input[2] ?? null, units * gates]);
  ctx.addWeight(`${prefix}recurrent_kernel`, [units, units * gates]);
  if (ctx.flag('use_bias', true, config)) ctx.addWeight(`${prefix}bias`, [units * gates]);
  const main: Shape = ctx.flag('return_sequences', false, config)
    ? [input[0]!, input[1]!, units]
    : [input[0]!, units];
  if (!ctx.flag('return_state', false, config)) return [main];
  const states = className === 'LSTM' ? 2 : 1;
  return [main, ...Array.from({ length: states }, (): Shape => [input[0]!, units])];
}

function bidirectionalShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  const inner = ctx.config.layer as WrappedEntry;
  if (!Object.hasOwn(GATES, inner.class_name)) {
    ctx.bad(`Bidirectional wraps ${inner.class_name}; only SimpleRNN, GRU and LSTM are supported`);
  }
  const innerName = String(inner.config.name);
  const forward = recurrentShapes(ctx, inner.class_name, inner.config, input, `forward_${innerName}/`);
  recurrentShapes(ctx, inner.class_name, inner.config, input, `backward_${innerName}/`);
  const mode = ctx.config.merge_mode === undefined ? 'concat' : ctx.config.merge_mode;
  const [main, ...states] = forward as [Shape, ...Shape[]];
  if (mode === null) return [main, main, ...states, ...states];
  if (mode === 'concat') {
    const last = main[main.length - 1]!;
    return [[...main.slice(0, -1), last === null ? null : last * 2], ...states, ...states];
  }
  if (mode === 'sum' || mode === 'mul' || mode === 'ave') return [main, ...states, ...states];
  return ctx.bad(`unknown merge_mode ${JSON.stringify(mode)}`);
}

function timeDistributedShapes(ctx: ShapeContext): Shape[] {
  const input = ctx.single();
  if (input.length < 3)
    ctx.bad(`TimeDistributed needs an input of rank 3 or more, got ${formatShape(input)}`);
  const inner = ctx.config.layer as WrappedEntry;
  const innerRecord: InferredLayer = {
    name: String(inner.config.name),
    className: inner.class_name,
    outputShapes: [],
    weights: [],
    params: 0,
  };
  if (ctx.isContainer(inner.class_name)) ctx.bad('TimeDistributed over a model is not supported');
  const innerOut = ctx.inner(inner.class_name, inner.config, [[input[0]!, ...input.slice(2)]], innerRecord);
  for (const weight of innerRecord.weights) {
    ctx.record.weights.push(weight);
    ctx.record.params += product(weight.shape);
  }
  return innerOut.map((s) => [input[0]!, input[1]!, ...s.slice(1)]);
}

function recurrentMacs({ className, config, inputShapes }: MacsInput): number {
  const input = inputShapes[0]!;
  const units = numberField(config, 'units', 'units', 0);
  return dim(input[1]) * (GATES[className] ?? 1) * (dim(input[2]) * units + units * units);
}

const recurrent = (className: string): LayerKnowledge => ({
  className,
  group: GROUP,
  shapes: (ctx) => recurrentShapes(ctx, className, ctx.config, ctx.single(), ''),
  macs: recurrentMacs,
});

export const RECURRENT_LAYERS: readonly LayerKnowledge[] = [
  ...['SimpleRNN', 'GRU', 'LSTM'].map(recurrent),
  {
    className: 'Bidirectional',
    group: GROUP,
    wrapper: true,
    shapes: bidirectionalShapes,
    macs: (layer, macsOf) => {
      const inner = wrappedLayer(layer.config);
      return inner === undefined ? 0 : 2 * macsOf({ ...layer, ...inner });
    },
  },
  {
    className: 'TimeDistributed',
    group: GROUP,
    wrapper: true,
    shapes: timeDistributedShapes,
    macs: (layer, macsOf) => {
      const inner = wrappedLayer(layer.config);
      if (inner === undefined) return 0;
      const step = (s: readonly (number | null)[]): (number | null)[] => [s[0] ?? null, ...s.slice(2)];
      const one = macsOf({
        ...inner,
        inputShapes: [step(layer.inputShapes[0]!)],
        outputShapes: [step(layer.outputShapes[0]!)],
      });
      return dim(layer.inputShapes[0]![1]) * one;
    },
  },
];
