/**
 * What a layer's shape rule may use: its configuration (snake_case, as checked by
 * validate-topology.ts), its input shapes, readers that refuse bad values naming the layer, and
 * `addWeight`, which records a weight and enforces the size limits (infer-shapes.ts).
 */
import type { Shape } from './types';

type JsonRecord = Record<string, unknown>;

export interface InferredWeight {
  /** `layer/weight`, e.g. `conv1/kernel`. */
  name: string;
  shape: number[];
}

export interface InferredLayer {
  name: string;
  className: string;
  /** Output shapes of the layer's first call. */
  outputShapes: Shape[];
  weights: InferredWeight[];
  params: number;
}

/** What the model walk provides to a layer's rule. */
export interface ShapeHost {
  bad(problem: string): never;
  addWeight(layer: InferredLayer, weight: string, shape: (number | null)[]): void;
  /** Output shapes of another layer class on these inputs (wrappers: the wrapped layer). */
  layerShapes(className: string, config: JsonRecord, inputs: Shape[], record: InferredLayer): Shape[];
  /** A model nested inside a model. */
  isContainer(className: string): boolean;
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export type Padding = 'valid' | 'same' | 'causal';

/** Output length of a convolution or pooling window, as tfjs computes it. */
export function convOutputLength(
  length: number | null,
  kernel: number,
  padding: Padding,
  stride: number,
  dilation: number,
): number | null {
  if (length === null) return null;
  const dilated = kernel + (kernel - 1) * (dilation - 1);
  const out = padding === 'valid' ? length - dilated + 1 : length;
  return Math.floor((out + stride - 1) / stride);
}

/** Output length of a transposed convolution, as tfjs computes it. */
export function deconvLength(
  length: number | null,
  stride: number,
  kernel: number,
  padding: 'valid' | 'same',
): number | null {
  if (length === null) return null;
  return padding === 'valid' ? length * stride + Math.max(kernel - stride, 0) : length * stride;
}

const isPadding = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 20;

export class ShapeContext {
  readonly label: string;

  constructor(
    private readonly host: ShapeHost,
    readonly className: string,
    readonly config: JsonRecord,
    readonly inputs: Shape[],
    readonly record: InferredLayer,
  ) {
    this.label = `layer "${record.name}"`;
  }

  bad(problem: string): never {
    return this.host.bad(`${this.label}: ${problem}`);
  }

  /** The first input. */
  get input(): Shape {
    const input = this.inputs[0];
    if (input === undefined) this.bad('has no input');
    return input;
  }

  /** The only input. */
  single(): Shape {
    if (this.inputs.length !== 1) this.bad(`expected one input, got ${this.inputs.length}`);
    return this.input;
  }

  addWeight(weight: string, shape: (number | null)[]): void {
    this.host.addWeight(this.record, weight, shape);
  }

  /** Output shapes of a wrapped layer on the given inputs, its weights recorded in `record`. */
  inner(className: string, config: JsonRecord, inputs: Shape[], record: InferredLayer): Shape[] {
    return this.host.layerShapes(className, config, inputs, record);
  }

  isContainer(className: string): boolean {
    return this.host.isContainer(className);
  }

  positiveInt(key: string, fallback?: number, config: JsonRecord = this.config): number {
    const value = config[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 31) {
      this.bad(`${key} must be a positive integer, got ${JSON.stringify(value ?? null)}`);
    }
    return value;
  }

  intTuple(key: string, n: number, fallback?: number[]): number[] {
    let value = this.config[key] ?? fallback;
    if (typeof value === 'number') value = new Array<number>(n).fill(value);
    if (
      !Array.isArray(value) ||
      value.length !== n ||
      !value.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 2 ** 31)
    ) {
      this.bad(`${key} must be ${n} positive integer(s), got ${JSON.stringify(value ?? null)}`);
    }
    return value as number[];
  }

  /** Pooling strides: the pool size when unset. */
  strides(n: number, pool: number[]): number[] {
    const value = this.config.strides;
    return value === null || value === undefined ? pool : this.intTuple('strides', n);
  }

  padding(): Padding {
    const value = this.config.padding ?? 'valid';
    if (value !== 'valid' && value !== 'same' && value !== 'causal') {
      this.bad(`padding must be "valid" or "same", got ${JSON.stringify(value)}`);
    }
    return value;
  }

  channelsFirst(): boolean {
    const value = this.config.data_format ?? 'channels_last';
    if (value !== 'channels_last' && value !== 'channels_first') {
      this.bad(`data_format must be channels_last or channels_first, got ${JSON.stringify(value)}`);
    }
    return value === 'channels_first';
  }

  flag(key: string, fallback: boolean, config: JsonRecord = this.config): boolean {
    const value = config[key];
    return typeof value === 'boolean' ? value : fallback;
  }

  rank(shape: Shape, ...ranks: number[]): void {
    if (!ranks.includes(shape.length)) {
      this.bad(`expected an input of rank ${ranks.join(' or ')} (batch included), got ${formatShape(shape)}`);
    }
  }

  lastDim(shape: Shape, axis = -1): number | null {
    const index = axis < 0 ? shape.length + axis : axis;
    if (index < 1 || index >= shape.length)
      this.bad(`axis ${axis} is out of range for ${formatShape(shape)}`);
    return shape[index] ?? null;
  }

  axes(value: unknown, input: Shape): number[] {
    const list = Array.isArray(value) ? value : [value];
    return list.map((a) => {
      if (typeof a !== 'number' || !Number.isInteger(a)) this.bad(`invalid axis ${JSON.stringify(value)}`);
      const index = a < 0 ? input.length + a : a;
      if (index < 1 || index >= input.length) this.bad(`axis ${a} is out of range for ${formatShape(input)}`);
      return index;
    });
  }

  /** Keras padding/cropping: n, [h, w] (symmetric), or [[top, bottom], [left, right]]. */
  padPairs(key: string, fallback: number): [[number, number], [number, number]] {
    const value = this.config[key];
    const v = value ?? fallback;
    if (isPadding(v)) {
      return [
        [v, v],
        [v, v],
      ];
    }
    if (Array.isArray(v) && v.length === 2 && isPadding(v[0]) && isPadding(v[1])) {
      return [
        [v[0], v[0]],
        [v[1], v[1]],
      ];
    }
    const pairs =
      Array.isArray(v) &&
      v.length === 2 &&
      Array.isArray(v[0]) &&
      Array.isArray(v[1]) &&
      v[0].length === 2 &&
      v[1].length === 2 &&
      [...v[0], ...v[1]].every(isPadding);
    if (pairs) return [v[0] as [number, number], v[1] as [number, number]];
    this.bad(`invalid ${key} ${JSON.stringify(value)}`);
  }

  /** NumPy broadcasting of two shapes (merges). */
  broadcast(a: Shape, b: Shape): Shape {
    const rank = Math.max(a.length, b.length);
    const out: Shape = [];
    for (let i = 0; i < rank; i++) {
      const x = a[a.length - rank + i];
      const y = b[b.length - rank + i];
      if (x === undefined) out.push(y ?? null);
      else if (y === undefined) out.push(x);
      else if (x === null || y === null) out.push(x === 1 ? y : y === 1 ? x : (x ?? y));
      else if (x === y || y === 1) out.push(x);
      else if (x === 1) out.push(y);
      else this.bad(`cannot combine inputs of shapes ${formatShape(a)} and ${formatShape(b)}`);
    }
    out[0] = null;
    return out;
  }
}
