/**
 * Static shape inference over a checked model configuration (see validate-topology.ts), run
 * before TensorFlow.js builds anything. tfjs allocates every weight while it builds a layer, so
 * `units: 2e9` must be caught here, from the configuration alone: this walks the graph the way
 * tfjs's `Container.fromConfig` does, computes every layer's output shape and weight shapes,
 * and refuses non-integer or non-positive sizes, weights over a cap, and references tfjs could
 * never resolve (tfjs would loop forever on those).
 *
 * Each layer class's own rule lives in its entry of the layer table (model/layers/); this file
 * walks the model. Shapes include the batch dimension (null). Only channels_last and channels_first are known.
 */
import { badInput } from '../../../shared/errors';
import { isContainerLayer, layerKnowledge } from './layers/registry';
import { formatShape, product, ShapeContext } from './layers/shape-context';
import type { InferredLayer, InferredWeight, ShapeHost } from './layers/shape-context';
import type { Shape } from './layers/types';
import type { JsonRecord, LayerEntry } from './validate-topology';

export type { Shape };
export type { InferredLayer, InferredWeight };

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

class ShapeInference implements ShapeHost {
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

  addWeight(layer: InferredLayer, weight: string, shape: (number | null)[]): void {
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

  checkOutput(label: string, shape: Shape): Shape {
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
    const walk = new FunctionalWalk(this, entry);
    const layers = entry.config.layers as LayerEntry[];
    for (const layer of layers) walk.start(layer);
    while (walk.pending()) walk.resolvePass(layers);
    return {
      inputs: walk.resolve(entry.config.input_layers, 'input_layers'),
      outputs: walk.resolve(entry.config.output_layers, 'output_layers'),
    };
  }

  /** A functional model's InputLayer: its declared shape is its node 0. */
  inputLayerShape(layer: LayerEntry): Shape {
    const name = layer.config.name as string;
    const declared = this.declaredInput(layer.config, 'InputLayer');
    if (declared === undefined) this.bad(`layer "${name}": InputLayer has no batch_input_shape`);
    if (this.counting) {
      this.layers.push({ name, className: 'InputLayer', outputShapes: [declared], weights: [], params: 0 });
    }
    return this.checkOutput(`layer "${name}"`, declared);
  }

  hasOwnInput(entry: LayerEntry): boolean {
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

  /** The shape rule of the layer's entry in the layer table (model/layers/). */
  layerShapes(className: string, config: JsonRecord, inputs: Shape[], record: InferredLayer): Shape[] {
    const label = `layer "${record.name}"`;
    if (inputs[0] === undefined) this.bad(`${label}: has no input`);
    const rule = layerKnowledge(className)?.shapes;
    if (rule === undefined) this.bad(`${label}: no shape rule for class_name ${className}`);
    return rule(new ShapeContext(this, className, config, inputs, record));
  }

  isContainer(className: string): boolean {
    return MODEL_CLASS(className);
  }
}

/** The state of one functional model's node resolution (ShapeInference.functional). */
class FunctionalWalk {
  private readonly modelName: string;
  private readonly byName = new Map<string, LayerEntry>();
  private readonly nodes = new Map<string, Shape[][]>();
  private readonly built = new Set<string>();
  private readonly unprocessed = new Map<string, unknown[][]>();

  constructor(
    private readonly inference: ShapeInference,
    entry: LayerEntry,
  ) {
    this.modelName = String(entry.config.name ?? 'model');
    for (const layer of entry.config.layers as LayerEntry[])
      this.byName.set(layer.config.name as string, layer);
  }

  private bad(problem: string): never {
    return this.inference.bad(problem);
  }

  /** Node 0 where it exists before any call (inputs, nested models with their own inputs). */
  start(layer: LayerEntry): void {
    const name = layer.config.name as string;
    const initial: Shape[][] = [];
    if (layer.class_name === 'InputLayer') {
      initial.push([this.inference.inputLayerShape(layer)]);
      this.built.add(name);
    } else if (MODEL_CLASS(layer.class_name) && this.inference.hasOwnInput(layer)) {
      // A nested model built from its own inputs already has node 0 (tfjs creates it).
      initial.push(this.inference.model(layer, undefined, true).outputs);
      this.built.add(name);
    }
    this.nodes.set(name, initial);
    const data = (layer.inbound_nodes as unknown[][] | undefined) ?? [];
    if (data.length > 0) this.unprocessed.set(name, [...data]);
  }

  pending(): boolean {
    return this.unprocessed.size > 0;
  }

  /** One pass over the layers: every node whose inputs exist is called; none at all is an error. */
  resolvePass(layers: LayerEntry[]): void {
    let progressed = false;
    for (const layer of layers) {
      const name = layer.config.name as string;
      const pending = this.unprocessed.get(name);
      if (pending === undefined) continue;
      this.unprocessed.delete(name);
      for (const node of pending) {
        const inputs = this.nodeInputs(name, node as unknown[][]);
        if (inputs === undefined) {
          const again = this.unprocessed.get(name) ?? [];
          again.push(node);
          this.unprocessed.set(name, again);
          continue;
        }
        progressed = true;
        if (inputs.length === 0) continue;
        const first = !this.built.has(name);
        this.built.add(name);
        this.nodes.get(name)!.push(this.inference.layer(layer, inputs, first));
      }
    }
    if (!progressed) {
      const stuck = [...this.unprocessed.keys()].slice(0, 3).join('", "');
      this.bad(
        `model "${this.modelName}": the inputs of layer "${stuck}" can never be resolved (a cycle or a missing node)`,
      );
    }
  }

  /** The input shapes of one node of layer `name`, or undefined while a source node is missing. */
  private nodeInputs(name: string, node: unknown[][]): Shape[] | undefined {
    const inputs: Shape[] = [];
    for (const ref of node) {
      const [source, nodeIndex, tensorIndex] = ref as [string, number, number];
      if (!this.byName.has(source)) {
        this.bad(
          `layer "${name}" takes its input from "${source}", which is not a layer of model "${this.modelName}"`,
        );
      }
      const sourceNodes = this.nodes.get(source)!;
      if (sourceNodes.length <= nodeIndex) return undefined;
      const shape = sourceNodes[nodeIndex]![tensorIndex];
      if (shape === undefined)
        this.bad(`layer "${name}" takes output ${tensorIndex} of "${source}", which has no such output`);
      inputs.push(shape);
    }
    return inputs;
  }

  resolve(refs: unknown, what: string): Shape[] {
    return (refs as [string, number, number][]).map(([source, nodeIndex, tensorIndex]) => {
      const shape = this.nodes.get(source)?.[nodeIndex]?.[tensorIndex];
      if (shape === undefined)
        this.bad(`model "${this.modelName}": ${what} refers to a missing tensor of layer "${source}"`);
      return shape;
    });
  }
}

function MODEL_CLASS(className: string): boolean {
  return isContainerLayer(className);
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
