/**
 * Static shape inference over a checked model configuration (see validate-topology.ts), run
 * before TensorFlow.js builds anything. tfjs allocates every weight while it builds a layer, so
 * `units: 2e9` must be caught here, from the configuration alone: this walks the graph the way
 * tfjs's `Container.fromConfig` does, computes every layer's output shape and weight shapes,
 * and refuses non-integer or non-positive sizes, weights over a cap, and references tfjs could
 * never resolve (tfjs would loop forever on those).
 *
 * Shapes include the batch dimension (null). Only channels_last and channels_first are known.
 */
import { badInput } from '../../../shared/errors';
import type { JsonRecord, LayerEntry } from './validate-topology';

export type Shape = (number | null)[];

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

export interface InferredModel {
  inputShapes: Shape[];
  outputShapes: Shape[];
  /** Every layer, nested models flattened (their own entry first). */
  layers: InferredLayer[];
  params: number;
}

export interface SizeLimits {
  /** Largest single weight tensor, in values. */
  maxWeightElements: number;
  /** Largest total of all weights, in values. */
  maxTotalParams: number;
  /** Largest activation of one sample at any layer, in values. */
  maxSampleElements: number;
}

/** 2^28 values = 1 GiB of float32: far beyond any model Pollard is meant for, far below a crash. */
export const DEFAULT_SIZE_LIMITS: SizeLimits = {
  maxWeightElements: 2 ** 28,
  maxTotalParams: 2 ** 28,
  maxSampleElements: 2 ** 28,
};

function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

class ShapeInference {
  readonly layers: InferredLayer[] = [];
  params = 0;
  /** False while a shared layer is called again: its weights exist already. */
  private counting = true;

  constructor(
    private readonly file: string,
    private readonly limits: SizeLimits,
  ) {}

  bad(problem: string): never {
    throw badInput(this.file, problem);
  }

  // ---- config readers -------------------------------------------------------------------

  private positiveInt(config: JsonRecord, key: string, label: string, fallback?: number): number {
    const value = config[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 31) {
      this.bad(`${label}: ${key} must be a positive integer, got ${JSON.stringify(value ?? null)}`);
    }
    return value;
  }

  private intTuple(config: JsonRecord, key: string, n: number, label: string, fallback?: number[]): number[] {
    let value = config[key] ?? fallback;
    if (typeof value === 'number') value = new Array<number>(n).fill(value);
    if (
      !Array.isArray(value) ||
      value.length !== n ||
      !value.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 2 ** 31)
    ) {
      this.bad(`${label}: ${key} must be ${n} positive integer(s), got ${JSON.stringify(value ?? null)}`);
    }
    return value as number[];
  }

  private padding(config: JsonRecord, label: string): 'valid' | 'same' | 'causal' {
    const value = config.padding ?? 'valid';
    if (value !== 'valid' && value !== 'same' && value !== 'causal') {
      this.bad(`${label}: padding must be "valid" or "same", got ${JSON.stringify(value)}`);
    }
    return value;
  }

  private channelsFirst(config: JsonRecord, label: string): boolean {
    const value = config.data_format ?? 'channels_last';
    if (value !== 'channels_last' && value !== 'channels_first') {
      this.bad(`${label}: data_format must be channels_last or channels_first, got ${JSON.stringify(value)}`);
    }
    return value === 'channels_first';
  }

  private flag(config: JsonRecord, key: string, fallback: boolean): boolean {
    const value = config[key];
    return typeof value === 'boolean' ? value : fallback;
  }

  /** A declared input shape: batch_input_shape, or input_shape (+ batch_size), or Dense's input_dim. */
  declaredInput(config: JsonRecord, className: string): Shape | undefined {
    const dims = (value: unknown, label: string): Shape => {
      if (!Array.isArray(value) || value.length === 0 || value.length > 8)
        this.bad(`${label} must be a list of 1 to 8 dimensions`);
      return value.map((d) => {
        if (d === null || d === -1) return null;
        if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > this.limits.maxSampleElements) {
          this.bad(`${label} has an invalid dimension ${JSON.stringify(d)}`);
        }
        return d;
      });
    };
    const label = `layer "${String(config.name)}"`;
    if (config.batch_input_shape !== undefined && config.batch_input_shape !== null) {
      return dims(config.batch_input_shape, `${label}: batch_input_shape`);
    }
    if (config.input_shape !== undefined && config.input_shape !== null) {
      const batch = typeof config.batch_size === 'number' ? config.batch_size : null;
      return [batch, ...dims(config.input_shape, `${label}: input_shape`)];
    }
    if (className === 'Dense' && typeof config.input_dim === 'number') {
      return [null, this.positiveInt(config, 'input_dim', label)];
    }
    if (className === 'Embedding') {
      const length = config.input_length;
      return [null, typeof length === 'number' ? this.positiveInt(config, 'input_length', label) : null];
    }
    return undefined;
  }

  // ---- weights and shapes ---------------------------------------------------------------

  private addWeight(layer: InferredLayer, weight: string, shape: (number | null)[]): void {
    const label = `layer "${layer.name}"`;
    if (shape.some((d) => d === null)) {
      this.bad(`${label}: weight ${weight} ${formatShape(shape)} depends on an undefined input dimension`);
    }
    const dims = shape as number[];
    if (dims.some((d) => !Number.isInteger(d) || d < 0)) {
      this.bad(`${label}: weight ${weight} has an invalid shape ${formatShape(shape)}`);
    }
    const count = product(dims);
    layer.weights.push({ name: `${layer.name}/${weight}`, shape: dims });
    layer.params += count;
    if (!this.counting) return;
    if (count > this.limits.maxWeightElements) {
      this.bad(
        `${label}: weight ${weight} ${formatShape(shape)} would hold ${count.toExponential(2)} values, over the limit of ${this.limits.maxWeightElements.toLocaleString('en-US')}`,
      );
    }
    this.params += count;
    if (this.params > this.limits.maxTotalParams) {
      this.bad(
        `${label}: the model would hold over ${this.limits.maxTotalParams.toLocaleString('en-US')} weight values in total`,
      );
    }
  }

  private checkOutput(label: string, shape: Shape): Shape {
    for (const d of shape.slice(1)) {
      if (d !== null && (!Number.isInteger(d) || d < 1)) {
        this.bad(
          `${label}: output shape ${formatShape(shape)} has a dimension below 1 (the input is too small for this layer)`,
        );
      }
    }
    const known = shape.slice(1).filter((d): d is number => d !== null);
    if (product(known) > this.limits.maxSampleElements) {
      this.bad(`${label}: output shape ${formatShape(shape)} is too large`);
    }
    return shape;
  }

  private rank(label: string, shape: Shape, ...ranks: number[]): void {
    if (!ranks.includes(shape.length)) {
      this.bad(
        `${label}: expected an input of rank ${ranks.join(' or ')} (batch included), got ${formatShape(shape)}`,
      );
    }
  }

  private lastDim(label: string, shape: Shape, axis = -1): number | null {
    const index = axis < 0 ? shape.length + axis : axis;
    if (index < 1 || index >= shape.length)
      this.bad(`${label}: axis ${axis} is out of range for ${formatShape(shape)}`);
    return shape[index] ?? null;
  }

  // ---- models ---------------------------------------------------------------------------

  /** Infer a whole model. `given` are the input shapes when it is called as a nested layer. */
  model(
    entry: LayerEntry,
    given: Shape[] | undefined,
    count: boolean,
  ): { inputs: Shape[]; outputs: Shape[] } {
    const name = typeof entry.config.name === 'string' ? entry.config.name : 'model';
    const self: InferredLayer = {
      name,
      className: entry.class_name,
      outputShapes: [],
      weights: [],
      params: 0,
    };
    if (count && this.counting) this.layers.push(self);
    const before = this.params;
    const result = this.withCounting(count, () =>
      entry.class_name === 'Sequential' ? this.sequential(entry, given) : this.functional(entry),
    );
    self.outputShapes = result.outputs;
    self.params = this.params - before;
    return result;
  }

  private withCounting<T>(count: boolean, run: () => T): T {
    const saved = this.counting;
    this.counting = saved && count;
    try {
      return run();
    } finally {
      this.counting = saved;
    }
  }

  /** The input shapes a model declares itself, if it does. */
  private ownInputs(entry: LayerEntry): Shape[] | undefined {
    if (entry.class_name === 'Sequential') {
      const first = (entry.config.layers as LayerEntry[])[0];
      if (first === undefined) return undefined;
      if (MODEL_CLASS(first.class_name)) return this.ownInputs(first);
      const declared = this.declaredInput(first.config, first.class_name);
      return declared === undefined ? undefined : [declared];
    }
    const layers = entry.config.layers as LayerEntry[];
    const shapes: Shape[] = [];
    for (const [source] of entry.config.input_layers as [string][]) {
      const layer = layers.find((l) => l.config.name === source);
      const declared = layer === undefined ? undefined : this.declaredInput(layer.config, layer.class_name);
      if (declared === undefined) return undefined;
      shapes.push(declared);
    }
    return shapes;
  }

  private sequential(entry: LayerEntry, given: Shape[] | undefined): { inputs: Shape[]; outputs: Shape[] } {
    const layers = entry.config.layers as LayerEntry[];
    let shapes = given ?? this.ownInputs(entry);
    if (shapes === undefined) {
      this.bad(
        `model "${String(entry.config.name ?? 'sequential')}" does not declare its input shape (its first layer has no batch_input_shape)`,
      );
    }
    shapes = shapes.map((s) => this.checkOutput(`model "${String(entry.config.name)}" input`, s));
    const inputs = shapes;
    for (const layer of layers) {
      if (layer.class_name === 'InputLayer') continue;
      shapes = this.layer(layer, shapes, true);
    }
    return { inputs, outputs: shapes };
  }

  /** The node-resolution loop of tfjs's Container.fromConfig, with a progress guard. */
  private functional(entry: LayerEntry): { inputs: Shape[]; outputs: Shape[] } {
    const modelName = String(entry.config.name ?? 'model');
    const layers = entry.config.layers as LayerEntry[];
    const byName = new Map<string, LayerEntry>();
    for (const layer of layers) byName.set(layer.config.name as string, layer);
    const nodes = new Map<string, Shape[][]>();
    const built = new Set<string>();
    const unprocessed = new Map<string, unknown[][]>();

    for (const layer of layers) {
      const name = layer.config.name as string;
      const initial: Shape[][] = [];
      if (layer.class_name === 'InputLayer') {
        const declared = this.declaredInput(layer.config, 'InputLayer');
        if (declared === undefined) this.bad(`layer "${name}": InputLayer has no batch_input_shape`);
        initial.push([this.checkOutput(`layer "${name}"`, declared)]);
        if (this.counting)
          this.layers.push({
            name,
            className: 'InputLayer',
            outputShapes: [declared],
            weights: [],
            params: 0,
          });
        built.add(name);
      } else if (MODEL_CLASS(layer.class_name) && this.hasOwnInput(layer)) {
        // A nested model built from its own inputs already has node 0 (tfjs creates it).
        initial.push(this.model(layer, undefined, true).outputs);
        built.add(name);
      }
      nodes.set(name, initial);
      const data = (layer.inbound_nodes as unknown[][] | undefined) ?? [];
      if (data.length > 0) unprocessed.set(name, [...data]);
    }

    while (unprocessed.size > 0) {
      let progressed = false;
      for (const layer of layers) {
        const name = layer.config.name as string;
        const pending = unprocessed.get(name);
        if (pending === undefined) continue;
        unprocessed.delete(name);
        for (const node of pending) {
          const inputs: Shape[] = [];
          let ready = true;
          for (const ref of node as unknown[][]) {
            const [source, nodeIndex, tensorIndex] = ref as [string, number, number];
            if (!byName.has(source)) {
              this.bad(
                `layer "${name}" takes its input from "${source}", which is not a layer of model "${modelName}"`,
              );
            }
            const sourceNodes = nodes.get(source)!;
            if (sourceNodes.length <= nodeIndex) {
              ready = false;
              break;
            }
            const shape = sourceNodes[nodeIndex]![tensorIndex];
            if (shape === undefined)
              this.bad(
                `layer "${name}" takes output ${tensorIndex} of "${source}", which has no such output`,
              );
            inputs.push(shape);
          }
          if (!ready) {
            const again = unprocessed.get(name) ?? [];
            again.push(node);
            unprocessed.set(name, again);
            continue;
          }
          progressed = true;
          if (inputs.length === 0) continue;
          const first = !built.has(name);
          built.add(name);
          nodes.get(name)!.push(this.layer(layer, inputs, first));
        }
      }
      if (!progressed) {
        const stuck = [...unprocessed.keys()].slice(0, 3).join('", "');
        this.bad(
          `model "${modelName}": the inputs of layer "${stuck}" can never be resolved (a cycle or a missing node)`,
        );
      }
    }

    const resolve = (refs: unknown, what: string): Shape[] =>
      (refs as [string, number, number][]).map(([source, nodeIndex, tensorIndex]) => {
        const shape = nodes.get(source)?.[nodeIndex]?.[tensorIndex];
        if (shape === undefined)
          this.bad(`model "${modelName}": ${what} refers to a missing tensor of layer "${source}"`);
        return shape;
      });
    return {
      inputs: resolve(entry.config.input_layers, 'input_layers'),
      outputs: resolve(entry.config.output_layers, 'output_layers'),
    };
  }

  private hasOwnInput(entry: LayerEntry): boolean {
    return this.ownInputs(entry) !== undefined;
  }

  // ---- layers ---------------------------------------------------------------------------

  /** One call of a layer: output shapes; weights are recorded on its first call (`count`). */
  layer(entry: LayerEntry, inputs: Shape[], count: boolean): Shape[] {
    if (MODEL_CLASS(entry.class_name)) {
      return this.model(entry, entry.class_name === 'Sequential' ? inputs : undefined, count).outputs;
    }
    const name = entry.config.name as string;
    const record: InferredLayer = {
      name,
      className: entry.class_name,
      outputShapes: [],
      weights: [],
      params: 0,
    };
    const outputs = this.withCounting(count, () =>
      this.layerShapes(entry.class_name, entry.config, inputs, record).map((s) =>
        this.checkOutput(`layer "${name}"`, s),
      ),
    );
    record.outputShapes = outputs;
    if (count && this.counting) this.layers.push(record);
    return outputs;
  }

  private layerShapes(
    className: string,
    config: JsonRecord,
    inputs: Shape[],
    record: InferredLayer,
  ): Shape[] {
    const label = `layer "${record.name}"`;
    const input = inputs[0];
    if (input === undefined) this.bad(`${label}: has no input`);
    const single = (): void => {
      if (inputs.length !== 1) this.bad(`${label}: expected one input, got ${inputs.length}`);
    };
    switch (className) {
      case 'InputLayer':
      case 'Activation':
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout':
      case 'Masking':
      case 'ReLU':
      case 'LeakyReLU':
      case 'ELU':
      case 'ThresholdedReLU':
      case 'Softmax':
      case 'Rescaling':
        single();
        return [input];

      case 'Dense': {
        single();
        const units = this.positiveInt(config, 'units', label);
        const fanIn = this.lastDim(label, input);
        this.addWeight(record, 'kernel', [fanIn, units]);
        if (this.flag(config, 'use_bias', true)) this.addWeight(record, 'bias', [units]);
        return [[...input.slice(0, -1), units]];
      }

      case 'Embedding': {
        single();
        const inputDim = this.positiveInt(config, 'input_dim', label);
        const outputDim = this.positiveInt(config, 'output_dim', label);
        this.addWeight(record, 'embeddings', [inputDim, outputDim]);
        return [[...input, outputDim]];
      }

      case 'Flatten': {
        single();
        const rest = input.slice(1);
        if (rest.some((d) => d === null))
          this.bad(`${label}: Flatten needs a fully defined input shape, got ${formatShape(input)}`);
        return [[input[0] ?? null, product(rest as number[])]];
      }

      case 'Reshape': {
        single();
        const target = config.target_shape;
        if (!Array.isArray(target) || target.length === 0 || target.length > 8) {
          this.bad(`${label}: target_shape must be a list of dimensions`);
        }
        const dims = target.map((d) => {
          if (d === -1 || d === null) return -1;
          if (typeof d !== 'number' || !Number.isInteger(d) || d < 1)
            this.bad(`${label}: invalid target_shape ${JSON.stringify(target)}`);
          return d;
        });
        const unknown = dims.filter((d) => d === -1).length;
        if (unknown > 1) this.bad(`${label}: target_shape may hold at most one -1`);
        const rest = input.slice(1);
        const total = rest.some((d) => d === null) ? null : product(rest as number[]);
        const knownProduct = product(dims.filter((d) => d !== -1));
        if (unknown === 1) {
          const inferred = total === null ? null : total / knownProduct;
          if (inferred !== null && !Number.isInteger(inferred)) {
            this.bad(`${label}: cannot reshape ${formatShape(input)} to ${JSON.stringify(target)}`);
          }
          // tfjs leaves the -1 dimension undefined (null) in the symbolic shape, even when it is known.
          return [[input[0] ?? null, ...dims.map((d) => (d === -1 ? null : d))]];
        }
        if (total !== null && total !== knownProduct) {
          this.bad(
            `${label}: cannot reshape ${formatShape(input)} (${total} values) to ${JSON.stringify(target)}`,
          );
        }
        return [[input[0] ?? null, ...dims]];
      }

      case 'Permute': {
        single();
        const dims = config.dims;
        const n = input.length - 1;
        if (
          !Array.isArray(dims) ||
          dims.length !== n ||
          [...dims].sort((a, b) => (a as number) - (b as number)).some((d, i) => d !== i + 1)
        ) {
          this.bad(`${label}: dims must be a permutation of 1..${n}, got ${JSON.stringify(dims)}`);
        }
        return [[input[0] ?? null, ...(dims as number[]).map((d) => input[d] ?? null)]];
      }

      case 'RepeatVector': {
        single();
        this.rank(label, input, 2);
        const n = this.positiveInt(config, 'n', label);
        return [[input[0] ?? null, n, input[1] ?? null]];
      }

      case 'Conv1D': {
        single();
        this.rank(label, input, 3);
        const filters = this.positiveInt(config, 'filters', label);
        const [k] = this.intTuple(config, 'kernel_size', 1, label) as [number];
        const [stride] = this.intTuple(config, 'strides', 1, label, [1]) as [number];
        const [dilation] = this.intTuple(config, 'dilation_rate', 1, label, [1]) as [number];
        const padding = this.padding(config, label);
        const channelsFirst = this.channelsFirst(config, label);
        const channels = channelsFirst ? input[1]! : input[2]!;
        this.addWeight(record, 'kernel', [k, channels, filters]);
        if (this.flag(config, 'use_bias', true)) this.addWeight(record, 'bias', [filters]);
        const length = convOutputLength(channelsFirst ? input[2]! : input[1]!, k, padding, stride, dilation);
        return [channelsFirst ? [input[0]!, filters, length] : [input[0]!, length, filters]];
      }

      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'SeparableConv2D':
      case 'Conv2DTranspose': {
        single();
        this.rank(label, input, 4);
        const channelsFirst = this.channelsFirst(config, label);
        const [h, w, c] = channelsFirst
          ? [input[2]!, input[3]!, input[1]!]
          : [input[1]!, input[2]!, input[3]!];
        const [kh, kw] = this.intTuple(config, 'kernel_size', 2, label) as [number, number];
        const [sh, sw] = this.intTuple(config, 'strides', 2, label, [1, 1]) as [number, number];
        const [dh, dw] = this.intTuple(config, 'dilation_rate', 2, label, [1, 1]) as [number, number];
        const padding = this.padding(config, label);
        const bias = this.flag(config, 'use_bias', true);
        let outChannels: number;
        if (className === 'Conv2D') {
          outChannels = this.positiveInt(config, 'filters', label);
          this.addWeight(record, 'kernel', [kh, kw, c, outChannels]);
        } else if (className === 'Conv2DTranspose') {
          outChannels = this.positiveInt(config, 'filters', label);
          this.addWeight(record, 'kernel', [kh, kw, outChannels, c]);
        } else {
          const multiplier = this.positiveInt(config, 'depth_multiplier', label, 1);
          this.addWeight(record, 'depthwise_kernel', [kh, kw, c, multiplier]);
          if (className === 'SeparableConv2D') {
            outChannels = this.positiveInt(config, 'filters', label);
            this.addWeight(record, 'pointwise_kernel', [
              1,
              1,
              c === null ? null : c * multiplier,
              outChannels,
            ]);
          } else {
            outChannels = c === null ? (null as unknown as number) : c * multiplier;
          }
        }
        if (bias) this.addWeight(record, 'bias', [outChannels]);
        let oh: number | null;
        let ow: number | null;
        if (className === 'Conv2DTranspose') {
          if (padding === 'causal') this.bad(`${label}: causal padding is not valid for Conv2DTranspose`);
          oh = deconvLength(h, sh, kh, padding);
          ow = deconvLength(w, sw, kw, padding);
        } else {
          oh = convOutputLength(h, kh, padding, sh, dh);
          ow = convOutputLength(w, kw, padding, sw, dw);
        }
        return [channelsFirst ? [input[0]!, outChannels, oh, ow] : [input[0]!, oh, ow, outChannels]];
      }

      case 'MaxPooling1D':
      case 'AveragePooling1D': {
        single();
        this.rank(label, input, 3);
        const [pool] = this.intTuple(config, 'pool_size', 1, label, [2]) as [number];
        const stride =
          config.strides === null || config.strides === undefined
            ? pool
            : this.intTuple(config, 'strides', 1, label)[0]!;
        const padding = this.padding(config, label);
        const channelsFirst = this.channelsFirst(config, label);
        const length = convOutputLength(channelsFirst ? input[2]! : input[1]!, pool, padding, stride, 1);
        return [channelsFirst ? [input[0]!, input[1]!, length] : [input[0]!, length, input[2]!]];
      }

      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        single();
        this.rank(label, input, 4);
        const [ph, pw] = this.intTuple(config, 'pool_size', 2, label, [2, 2]) as [number, number];
        const [sh, sw] =
          config.strides === null || config.strides === undefined
            ? [ph, pw]
            : (this.intTuple(config, 'strides', 2, label) as [number, number]);
        const padding = this.padding(config, label);
        const channelsFirst = this.channelsFirst(config, label);
        const [h, w] = channelsFirst ? [input[2]!, input[3]!] : [input[1]!, input[2]!];
        const oh = convOutputLength(h, ph, padding, sh, 1);
        const ow = convOutputLength(w, pw, padding, sw, 1);
        return [channelsFirst ? [input[0]!, input[1]!, oh, ow] : [input[0]!, oh, ow, input[3]!]];
      }

      case 'GlobalMaxPooling1D':
      case 'GlobalAveragePooling1D':
        single();
        this.rank(label, input, 3);
        return [[input[0]!, this.channelsFirst(config, label) ? input[1]! : input[2]!]];

      case 'GlobalMaxPooling2D':
      case 'GlobalAveragePooling2D':
        single();
        this.rank(label, input, 4);
        return [[input[0]!, this.channelsFirst(config, label) ? input[1]! : input[3]!]];

      case 'ZeroPadding2D':
      case 'Cropping2D': {
        single();
        this.rank(label, input, 4);
        const key = className === 'ZeroPadding2D' ? 'padding' : 'cropping';
        const [[top, bottom], [left, right]] = this.padPairs(
          config[key],
          label,
          key,
          className === 'ZeroPadding2D' ? 1 : 0,
        );
        const sign = className === 'ZeroPadding2D' ? 1 : -1;
        const channelsFirst = this.channelsFirst(config, label);
        const hi = channelsFirst ? 2 : 1;
        const out = [...input];
        const h = input[hi]!;
        const w = input[hi + 1]!;
        out[hi] = h === null ? null : h + sign * (top + bottom);
        out[hi + 1] = w === null ? null : w + sign * (left + right);
        return [out];
      }

      case 'UpSampling2D': {
        single();
        this.rank(label, input, 4);
        const [sh, sw] = this.intTuple(config, 'size', 2, label, [2, 2]) as [number, number];
        const channelsFirst = this.channelsFirst(config, label);
        const hi = channelsFirst ? 2 : 1;
        const out = [...input];
        out[hi] = input[hi] === null ? null : input[hi]! * sh;
        out[hi + 1] = input[hi + 1] === null ? null : input[hi + 1]! * sw;
        return [out];
      }

      case 'BatchNormalization': {
        single();
        const axes = this.axes(config.axis ?? -1, input, label);
        if (axes.length !== 1) this.bad(`${label}: BatchNormalization over several axes is not supported`);
        const channels = input[axes[0]!] ?? null;
        if (this.flag(config, 'scale', true)) this.addWeight(record, 'gamma', [channels]);
        if (this.flag(config, 'center', true)) this.addWeight(record, 'beta', [channels]);
        this.addWeight(record, 'moving_mean', [channels]);
        this.addWeight(record, 'moving_variance', [channels]);
        return [input];
      }

      case 'LayerNormalization': {
        single();
        const axes = this.axes(config.axis ?? -1, input, label);
        const shape = axes.map((a) => input[a] ?? null);
        if (this.flag(config, 'scale', true)) this.addWeight(record, 'gamma', shape);
        if (this.flag(config, 'center', true)) this.addWeight(record, 'beta', shape);
        return [input];
      }

      case 'PReLU': {
        single();
        const shape = input.slice(1);
        const shared = config.shared_axes;
        const sharedAxes =
          shared === null || shared === undefined ? [] : Array.isArray(shared) ? shared : [shared];
        for (const axis of sharedAxes) {
          if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < 1 || axis > shape.length) {
            this.bad(`${label}: invalid shared_axes ${JSON.stringify(shared)}`);
          }
          shape[axis - 1] = 1;
        }
        this.addWeight(record, 'alpha', shape);
        return [input];
      }

      case 'Add':
      case 'Multiply':
      case 'Average':
      case 'Maximum':
      case 'Minimum': {
        if (inputs.length < 2) this.bad(`${label}: ${className} needs at least two inputs`);
        return [inputs.reduce((a, b) => this.broadcast(a, b, label))];
      }

      case 'Concatenate': {
        if (inputs.length < 2) this.bad(`${label}: Concatenate needs at least two inputs`);
        const rank = input.length;
        const rawAxis = config.axis ?? -1;
        if (typeof rawAxis !== 'number' || !Number.isInteger(rawAxis)) this.bad(`${label}: invalid axis`);
        const axis = rawAxis < 0 ? rank + rawAxis : rawAxis;
        if (axis < 1 || axis >= rank) this.bad(`${label}: axis ${rawAxis} is out of range for rank ${rank}`);
        const out = [...input];
        for (const other of inputs.slice(1)) {
          if (other.length !== rank)
            this.bad(`${label}: cannot concatenate ${formatShape(input)} and ${formatShape(other)}`);
          for (let i = 1; i < rank; i++) {
            if (i === axis) continue;
            if (out[i] !== null && other[i] !== null && out[i] !== other[i]) {
              this.bad(
                `${label}: cannot concatenate ${formatShape(input)} and ${formatShape(other)} on axis ${rawAxis}`,
              );
            }
            out[i] = out[i] ?? other[i] ?? null;
          }
          out[axis] = out[axis] === null || other[axis] === null ? null : out[axis]! + other[axis]!;
        }
        return [out];
      }

      case 'SimpleRNN':
      case 'GRU':
      case 'LSTM':
        single();
        return this.recurrent(className, config, input, record, '');

      case 'Bidirectional': {
        single();
        const inner = config.layer as LayerEntry;
        if (!['SimpleRNN', 'GRU', 'LSTM'].includes(inner.class_name)) {
          this.bad(
            `${label}: Bidirectional wraps ${inner.class_name}; only SimpleRNN, GRU and LSTM are supported`,
          );
        }
        const innerName = String(inner.config.name);
        const forward = this.recurrent(
          inner.class_name,
          inner.config,
          input,
          record,
          `forward_${innerName}/`,
        );
        this.recurrent(inner.class_name, inner.config, input, record, `backward_${innerName}/`);
        const mode = config.merge_mode === undefined ? 'concat' : config.merge_mode;
        const [main, ...states] = forward as [Shape, ...Shape[]];
        if (mode === null) return [main, main, ...states, ...states];
        if (mode === 'concat') {
          const last = main[main.length - 1]!;
          return [[...main.slice(0, -1), last === null ? null : last * 2], ...states, ...states];
        }
        if (mode === 'sum' || mode === 'mul' || mode === 'ave') return [main, ...states, ...states];
        this.bad(`${label}: unknown merge_mode ${JSON.stringify(mode)}`);
        break;
      }

      case 'TimeDistributed': {
        single();
        if (input.length < 3)
          this.bad(`${label}: TimeDistributed needs an input of rank 3 or more, got ${formatShape(input)}`);
        const inner = config.layer as LayerEntry;
        const innerRecord: InferredLayer = {
          name: String(inner.config.name),
          className: inner.class_name,
          outputShapes: [],
          weights: [],
          params: 0,
        };
        if (MODEL_CLASS(inner.class_name))
          this.bad(`${label}: TimeDistributed over a model is not supported`);
        const innerOut = this.layerShapes(
          inner.class_name,
          inner.config,
          [[input[0]!, ...input.slice(2)]],
          innerRecord,
        );
        for (const weight of innerRecord.weights) {
          record.weights.push(weight);
          record.params += product(weight.shape);
        }
        return innerOut.map((s) => [input[0]!, input[1]!, ...s.slice(1)]);
      }

      case 'CenterCrop':
      case 'Resizing': {
        single();
        this.rank(label, input, 4);
        const height = this.positiveInt(config, 'height', label);
        const width = this.positiveInt(config, 'width', label);
        return [[input[0]!, height, width, input[3]!]];
      }

      default:
        this.bad(`${label}: no shape rule for class_name ${className}`);
    }
    return [];
  }

  private recurrent(
    className: string,
    config: JsonRecord,
    input: Shape,
    record: InferredLayer,
    prefix: string,
  ): Shape[] {
    const label = `layer "${record.name}"`;
    this.rank(label, input, 3);
    const units = this.positiveInt(config, 'units', label);
    const gates = className === 'LSTM' ? 4 : className === 'GRU' ? 3 : 1;
    const features = input[2] ?? null;
    this.addWeight(record, `${prefix}kernel`, [features, units * gates]);
    this.addWeight(record, `${prefix}recurrent_kernel`, [units, units * gates]);
    if (this.flag(config, 'use_bias', true)) this.addWeight(record, `${prefix}bias`, [units * gates]);
    const main: Shape = this.flag(config, 'return_sequences', false)
      ? [input[0]!, input[1]!, units]
      : [input[0]!, units];
    if (!this.flag(config, 'return_state', false)) return [main];
    const states = className === 'LSTM' ? 2 : 1;
    return [main, ...Array.from({ length: states }, (): Shape => [input[0]!, units])];
  }

  private axes(value: unknown, input: Shape, label: string): number[] {
    const list = Array.isArray(value) ? value : [value];
    return list.map((a) => {
      if (typeof a !== 'number' || !Number.isInteger(a))
        this.bad(`${label}: invalid axis ${JSON.stringify(value)}`);
      const index = a < 0 ? input.length + a : a;
      if (index < 1 || index >= input.length)
        this.bad(`${label}: axis ${a} is out of range for ${formatShape(input)}`);
      return index;
    });
  }

  /** Keras padding/cropping: n, [h, w] (symmetric), or [[top, bottom], [left, right]]. */
  private padPairs(
    value: unknown,
    label: string,
    key: string,
    fallback: number,
  ): [[number, number], [number, number]] {
    const ok = (v: unknown): v is number =>
      typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 20;
    const v = value ?? fallback;
    if (ok(v))
      return [
        [v, v],
        [v, v],
      ];
    if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1]))
      return [
        [v[0], v[0]],
        [v[1], v[1]],
      ];
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      Array.isArray(v[0]) &&
      Array.isArray(v[1]) &&
      v[0].length === 2 &&
      v[1].length === 2 &&
      [...v[0], ...v[1]].every(ok)
    ) {
      return [v[0] as [number, number], v[1] as [number, number]];
    }
    this.bad(`${label}: invalid ${key} ${JSON.stringify(value)}`);
  }

  private broadcast(a: Shape, b: Shape, label: string): Shape {
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
      else this.bad(`${label}: cannot combine inputs of shapes ${formatShape(a)} and ${formatShape(b)}`);
    }
    out[0] = null;
    return out;
  }
}

function MODEL_CLASS(className: string): boolean {
  return className === 'Sequential' || className === 'Model' || className === 'Functional';
}

/** Output length of a convolution or pooling window, as tfjs computes it. */
export function convOutputLength(
  length: number | null,
  kernel: number,
  padding: 'valid' | 'same' | 'causal',
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

/**
 * Infer shapes and weights of a checked model config (from `validateTopology`), before
 * anything is allocated. Throws `badInput(file, …)` naming the layer on any violation.
 */
export function inferModel(
  model: LayerEntry,
  file: string,
  limits: SizeLimits = DEFAULT_SIZE_LIMITS,
): InferredModel {
  const inference = new ShapeInference(file, limits);
  const { inputs, outputs } = inference.model(model, undefined, true);
  return { inputShapes: inputs, outputShapes: outputs, layers: inference.layers, params: inference.params };
}
