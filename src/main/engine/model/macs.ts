/**
 * Multiply-accumulates of one forward pass for ONE sample, from a layer's configuration and the
 * shapes of its call (batch dimension excluded; an undefined dimension, e.g. a variable
 * sequence length, counts as 1). Bias additions, normalisation, activations, pooling and merges
 * are not multiply-accumulates and count 0. See docs/macs.md.
 *
 *   Conv1D / Conv2D     out_positions · C_out · (K · C_in / groups)     (groups is always 1 in tfjs)
 *   Conv2DTranspose     in_positions · C_in · K · C_out                 (each input value meets the whole kernel)
 *   DepthwiseConv2D     out_positions · C_in · multiplier · K
 *   SeparableConv2D     depthwise (as above) + out_positions · C_in · multiplier · C_out
 *   Dense               positions · in · out                             (positions: non-batch dims before the last)
 *   SimpleRNN/GRU/LSTM  T · gates · (F · units + units · units)          (gates 1 / 3 / 4)
 *   Bidirectional       2 × the wrapped recurrent layer
 *   TimeDistributed     T × the wrapped layer on one step
 *   nested model        the sum over its layers
 * K is the kernel's spatial size (K_h · K_w), positions the product of the spatial dimensions.
 */

export type Shape = readonly (number | null)[];

export interface MacsInput {
  className: string;
  /** The layer's tfjs config (`layer.getConfig()`, camelCase keys). */
  config: Record<string, unknown>;
  inputShapes: Shape[];
  outputShapes: Shape[];
}

const RECURRENT_GATES: Readonly<Record<string, number>> = { SimpleRNN: 1, GRU: 3, LSTM: 4 };

function dim(d: number | null | undefined): number {
  return typeof d === 'number' && d > 0 ? d : 1;
}

function product(dims: readonly (number | null)[]): number {
  return dims.reduce<number>((a, d) => a * dim(d), 1);
}

function channelsFirst(config: Record<string, unknown>): boolean {
  return config.dataFormat === 'channelsFirst' || config.dataFormat === 'channels_first';
}

/** [positions, channels] of an N-D feature map (batch excluded). */
function splitChannels(shape: Shape, config: Record<string, unknown>): [number, number] {
  const rest = shape.slice(1);
  if (rest.length === 0) return [1, 1];
  if (channelsFirst(config)) return [product(rest.slice(1)), dim(rest[0])];
  return [product(rest.slice(0, -1)), dim(rest[rest.length - 1])];
}

function kernelSize(config: Record<string, unknown>): number {
  const k = config.kernelSize ?? config.kernel_size;
  if (typeof k === 'number') return k;
  return Array.isArray(k) ? product(k as number[]) : 1;
}

function numberField(
  config: Record<string, unknown>,
  camel: string,
  snake: string,
  fallback: number,
): number {
  const v = config[camel] ?? config[snake];
  return typeof v === 'number' ? v : fallback;
}

/** Wrapped layer of Bidirectional / TimeDistributed: `{className, config}` in tfjs's getConfig. */
function wrapped(
  config: Record<string, unknown>,
): { className: string; config: Record<string, unknown> } | undefined {
  const inner = config.layer as Record<string, unknown> | undefined;
  if (inner === undefined || inner === null) return undefined;
  const className = (inner.className ?? inner.class_name) as string | undefined;
  const innerConfig = inner.config as Record<string, unknown> | undefined;
  return className !== undefined && innerConfig !== undefined
    ? { className, config: innerConfig }
    : undefined;
}

/** MACs of one call of a (non-container) layer; see the table above. */
export function macsOf(layer: MacsInput): number {
  const { className, config } = layer;
  const input = layer.inputShapes[0];
  const output = layer.outputShapes[0];
  if (input === undefined || output === undefined) return 0;
  switch (className) {
    case 'Conv1D':
    case 'Conv2D': {
      const [outPositions, outChannels] = splitChannels(output, config);
      const [, inChannels] = splitChannels(input, config);
      return outPositions * outChannels * kernelSize(config) * inChannels;
    }
    case 'Conv2DTranspose': {
      const [inPositions, inChannels] = splitChannels(input, config);
      const [, outChannels] = splitChannels(output, config);
      return inPositions * inChannels * kernelSize(config) * outChannels;
    }
    case 'DepthwiseConv2D': {
      const [outPositions, outChannels] = splitChannels(output, config);
      // outChannels = C_in · multiplier.
      return outPositions * outChannels * kernelSize(config);
    }
    case 'SeparableConv2D': {
      const [outPositions, outChannels] = splitChannels(output, config);
      const [, inChannels] = splitChannels(input, config);
      const multiplier = numberField(config, 'depthMultiplier', 'depth_multiplier', 1);
      const depthwise = outPositions * inChannels * multiplier * kernelSize(config);
      const pointwise = outPositions * inChannels * multiplier * outChannels;
      return depthwise + pointwise;
    }
    case 'Dense': {
      const positions = product(input.slice(1, -1));
      return positions * dim(input[input.length - 1]) * dim(output[output.length - 1]);
    }
    case 'SimpleRNN':
    case 'GRU':
    case 'LSTM': {
      const gates = RECURRENT_GATES[className]!;
      const units = numberField(config, 'units', 'units', 0);
      const steps = dim(input[1]);
      const features = dim(input[2]);
      return steps * gates * (features * units + units * units);
    }
    case 'Bidirectional': {
      const inner = wrapped(config);
      if (inner === undefined) return 0;
      const one = macsOf({
        className: inner.className,
        config: inner.config,
        inputShapes: [input],
        outputShapes: [output],
      });
      return 2 * one;
    }
    case 'TimeDistributed': {
      const inner = wrapped(config);
      if (inner === undefined) return 0;
      const step = (s: Shape): Shape => [s[0] ?? null, ...s.slice(2)];
      const one = macsOf({
        className: inner.className,
        config: inner.config,
        inputShapes: [step(input)],
        outputShapes: [step(output)],
      });
      return dim(input[1]) * one;
    }
    default:
      return 0;
  }
}
