/**
 * Checks a Keras/tfjs model configuration against the allow-lists and returns a clean copy
 * that TensorFlow.js can deserialize without surprises:
 * - every layer `class_name` is a supported layer (nested models are walked);
 * - activations, initializers, regularizers, constraints and dtypes are known names
 *   (Keras spellings that tfjs lacks are rewritten to the equivalent tfjs object);
 * - attributes that tfjs would silently ignore, giving a different model (Conv `groups`,
 *   pooling `keepdims`, GRU `reset_after`), are refused;
 * - any other object carrying a `class_name` is refused rather than passed through.
 * Shapes and sizes are checked afterwards by `infer-shapes.ts`.
 */
import { badInput, unsupported } from '../../../shared/errors';
import { isRecord } from './safe-json';
import {
  CONSTRAINT_ALIASES,
  INITIALIZER_ALIASES,
  MODEL_CLASSES,
  REGULARIZER_CLASSES,
  SUPPORTED_ACTIVATIONS,
  SUPPORTED_LAYER_DTYPES,
  isSupportedLayer,
  refusedLayerHint,
} from './supported-layers';
import { layerKnowledge } from './layers/registry';

export type JsonRecord = Record<string, unknown>;

/** A layer entry of a model config: `{class_name, config, name?, inbound_nodes?}`. */
export interface LayerEntry extends JsonRecord {
  class_name: string;
  config: JsonRecord;
}

/** Bidirectional, TimeDistributed: the layer in `config.layer` is checked as a layer too. */
function isWrapper(className: string): boolean {
  return layerKnowledge(className)?.wrapper === true;
}

/** Keys that would set a prototype when copied; safe-json drops them, this guards other callers. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function safeEntries(record: JsonRecord): [string, unknown][] {
  return Object.entries(record).filter(([key]) => !FORBIDDEN_KEYS.has(key));
}

/** Longest accepted layer or model name; real names are short, a 1 MB name is an attack on the UI. */
const MAX_NAME_LENGTH = 256;

function describeValue(value: unknown): string {
  const text = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

class TopologyValidator {
  constructor(private readonly file: string) {}

  bad(problem: string): never {
    throw badInput(this.file, problem);
  }

  refuse(problem: string): never {
    throw unsupported(this.file, problem);
  }

  /** A whole model: Sequential (config is a list, or `{name, layers}`) or functional. */
  model(entry: unknown, where: string): LayerEntry {
    if (!isRecord(entry) || typeof entry.class_name !== 'string') {
      this.bad(`${where}: expected a model configuration with a class_name`);
    }
    const className = entry.class_name;
    if (!MODEL_CLASSES.has(className)) {
      this.refuse(
        `${where}: top-level class_name "${className}" is not a model (expected Sequential or Model)`,
      );
    }
    let config: JsonRecord;
    if (Array.isArray(entry.config)) config = { layers: entry.config };
    else if (isRecord(entry.config)) config = entry.config;
    else this.bad(`${where}: model "${className}" has no config`);
    // An unnamed model gets Keras's default name ("sequential" or "model"), never the JSON key it came from.
    const name =
      typeof config.name === 'string' ? config.name : className === 'Sequential' ? 'sequential' : 'model';
    this.checkName(name, where);
    if (!Array.isArray(config.layers) || config.layers.length === 0) {
      this.bad(`model "${name}" has no layers`);
    }
    const seen = new Set<string>();
    const layers = config.layers.map((layer, index) => {
      const checked = this.layer(layer, `model "${name}", layer ${index + 1}`);
      const layerName = checked.config.name as string;
      if (seen.has(layerName)) this.bad(`model "${name}" has two layers named "${layerName}"`);
      seen.add(layerName);
      if (className !== 'Sequential') this.inboundNodes(checked, layerName);
      if (className === 'Sequential' && index > 0 && !MODEL_CLASSES.has(checked.class_name)) {
        // Keras ignores input shapes after the first layer; tfjs warns about each one.
        for (const key of ['batch_input_shape', 'input_shape', 'input_dim', 'batch_size'])
          delete checked.config[key];
      }
      return checked;
    });
    const clean: JsonRecord = { ...this.plainConfig(config, ['layers']), name, layers };
    if (className !== 'Sequential') {
      clean.input_layers = this.tensorRefs(config.input_layers, `model "${name}" input_layers`);
      clean.output_layers = this.tensorRefs(config.output_layers, `model "${name}" output_layers`);
    }
    const result: LayerEntry = {
      class_name: className === 'Functional' ? 'Model' : className,
      config: clean,
    };
    if (typeof entry.name === 'string') result.name = entry.name;
    if (entry.inbound_nodes !== undefined) result.inbound_nodes = entry.inbound_nodes;
    return result;
  }

  /** One layer entry, possibly a nested model or a wrapper. */
  layer(entry: unknown, where: string): LayerEntry {
    if (!isRecord(entry)) this.bad(`${where}: expected a layer object`);
    const className = entry.class_name;
    if (typeof className !== 'string') this.bad(`${where}: layer has no class_name`);
    const config = entry.config;
    const layerName =
      isRecord(config) && typeof config.name === 'string'
        ? config.name
        : typeof entry.name === 'string'
          ? entry.name
          : undefined;
    const label = layerName !== undefined ? `layer "${layerName}"` : where;
    if (MODEL_CLASSES.has(className)) return this.model(entry, label);
    if (!isSupportedLayer(className)) {
      const shown = layerName ?? '(unnamed)';
      this.refuse(
        `unsupported layer "${shown}" (class_name ${describeValue(className)}): ${refusedLayerHint(className)}`,
      );
    }
    if (!isRecord(config)) this.bad(`${label}: layer config is missing`);
    if (layerName === undefined) this.bad(`${where}: layer (class_name ${className}) has no name`);
    this.checkName(layerName, label);
    const clean = this.layerConfig(className, config, label);
    clean.name = layerName;
    const result: LayerEntry = { class_name: className, config: clean };
    result.name = layerName;
    if (entry.inbound_nodes !== undefined) result.inbound_nodes = entry.inbound_nodes;
    return result;
  }

  private checkName(name: string, where: string): void {
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
      this.bad(`${where}: layer name must be 1 to ${MAX_NAME_LENGTH} characters`);
    }
    if ([...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) {
      this.bad(`${where}: layer name contains control characters`);
    }
  }

  /** Copy a config, checking every value by what its key means to tfjs. */
  private layerConfig(className: string, config: JsonRecord, label: string): JsonRecord {
    const clean: JsonRecord = {};
    for (const [key, value] of safeEntries(config)) {
      clean[key] = this.configValue(className, key, value, label);
    }
    if (isWrapper(className)) {
      clean.layer = this.layer(config.layer, `${label} (wrapped layer)`);
    }
    return clean;
  }

  private configValue(className: string, key: string, value: unknown, label: string): unknown {
    if (key === 'layer' && isWrapper(className)) return value;
    if (key === 'backward_layer' && value !== null && value !== undefined) {
      this.refuse(`${label}: Bidirectional with a separate backward_layer is not supported`);
    }
    if (key === 'activation' || key === 'recurrent_activation') return this.activation(value, label, key);
    if (key.endsWith('_initializer')) return this.initializer(value, label, key);
    if (key.endsWith('_regularizer')) return this.regularizer(value, label, key);
    if (key.endsWith('_constraint')) return this.constraint(value, label, key);
    if (key === 'dtype') return this.dtype(value, label);
    if (key === 'groups' && value !== 1 && value !== null && value !== undefined) {
      this.refuse(
        `${label}: grouped convolution (groups ${describeValue(value)}) is not supported by TensorFlow.js`,
      );
    }
    if (key === 'keepdims' && value === true) {
      this.refuse(`${label}: keepdims=true is not supported by TensorFlow.js pooling layers`);
    }
    if (key === 'reset_after' && value === true && className === 'GRU') {
      this.refuse(
        `${label}: GRU with reset_after=true (the Keras 2 default) is not supported by TensorFlow.js; retrain with reset_after=False`,
      );
    }
    if (key === 'time_major' && value === true) {
      this.refuse(`${label}: time_major=true recurrent layers are not supported`);
    }
    return this.plainValue(value, label, key);
  }

  /** Data without class_name objects: numbers, strings, arrays, plain records. */
  private plainValue(value: unknown, label: string, key: string): unknown {
    if (Array.isArray(value)) return value.map((item) => this.plainValue(item, label, key));
    if (isRecord(value)) {
      if ('class_name' in value) {
        this.refuse(`${label}: unsupported object ${describeValue(value.class_name)} in "${key}"`);
      }
      const copy: JsonRecord = {};
      for (const [k, v] of safeEntries(value)) copy[k] = this.plainValue(v, label, key);
      return copy;
    }
    return value;
  }

  private plainConfig(config: JsonRecord, skip: string[]): JsonRecord {
    const copy: JsonRecord = {};
    for (const [key, value] of safeEntries(config)) {
      if (!skip.includes(key)) copy[key] = this.plainValue(value, 'model', key);
    }
    return copy;
  }

  private activation(value: unknown, label: string, key: string): unknown {
    if (value === null || value === undefined) return value;
    const name = typeof value === 'string' ? value : isRecord(value) ? value.class_name : undefined;
    if (typeof name !== 'string' || !SUPPORTED_ACTIVATIONS.has(name)) {
      this.refuse(`${label}: unsupported ${key} ${describeValue(name ?? value)}`);
    }
    return name;
  }

  private initializer(value: unknown, label: string, key: string): unknown {
    if (value === null || value === undefined) return value;
    if (typeof value === 'string') {
      const className = INITIALIZER_ALIASES[value];
      if (className === undefined || !Object.hasOwn(INITIALIZER_ALIASES, value)) {
        this.refuse(`${label}: unsupported ${key} ${describeValue(value)}`);
      }
      return { class_name: className, config: {} };
    }
    if (
      isRecord(value) &&
      typeof value.class_name === 'string' &&
      Object.hasOwn(INITIALIZER_ALIASES, value.class_name)
    ) {
      return {
        class_name: INITIALIZER_ALIASES[value.class_name],
        config: this.plainValue(isRecord(value.config) ? value.config : {}, label, key),
      };
    }
    this.refuse(`${label}: unsupported ${key} ${describeValue(isRecord(value) ? value.class_name : value)}`);
  }

  private constraint(value: unknown, label: string, key: string): unknown {
    if (value === null || value === undefined) return value;
    const name = typeof value === 'string' ? value : isRecord(value) ? value.class_name : undefined;
    if (typeof name !== 'string' || !Object.hasOwn(CONSTRAINT_ALIASES, name)) {
      this.refuse(`${label}: unsupported ${key} ${describeValue(name ?? value)}`);
    }
    const config = isRecord(value) && isRecord(value.config) ? value.config : {};
    return { class_name: CONSTRAINT_ALIASES[name], config: this.plainValue(config, label, key) };
  }

  /** Keras L1/L2 are rewritten as tfjs's L1L2 with the other term zero. */
  private regularizer(value: unknown, label: string, key: string): unknown {
    if (value === null || value === undefined) return value;
    const name = typeof value === 'string' ? value : isRecord(value) ? value.class_name : undefined;
    if (typeof name !== 'string' || !REGULARIZER_CLASSES.has(name)) {
      this.refuse(`${label}: unsupported ${key} ${describeValue(name ?? value)}`);
    }
    const config = isRecord(value) && isRecord(value.config) ? value.config : {};
    const factor = (k: string): number => {
      const v = config[k];
      if (v === undefined || v === null) return name.toLowerCase().replace('_', '') === 'l1l2' ? 0 : 0.01;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        this.bad(`${label}: ${key}.${k} must be a number >= 0`);
      return v;
    };
    const lower = name.toLowerCase();
    if (lower === 'l1') return { class_name: 'L1L2', config: { l1: factor('l1'), l2: 0 } };
    if (lower === 'l2') return { class_name: 'L1L2', config: { l1: 0, l2: factor('l2') } };
    return { class_name: 'L1L2', config: { l1: factor('l1'), l2: factor('l2') } };
  }

  /** Keras 2.13+/3 may write a dtype policy object; only its plain float32/int32/bool name is kept. */
  private dtype(value: unknown, label: string): unknown {
    if (value === null || value === undefined) return value;
    let name: unknown = value;
    if (isRecord(value)) {
      const policy = value.class_name;
      if (policy !== 'DTypePolicy' && policy !== 'Policy') {
        this.refuse(`${label}: unsupported dtype ${describeValue(policy)}`);
      }
      name = isRecord(value.config) ? value.config.name : undefined;
    }
    if (typeof name !== 'string' || !SUPPORTED_LAYER_DTYPES.has(name)) {
      this.refuse(
        `${label}: unsupported dtype ${describeValue(name)} (Pollard supports float32, int32 and bool layers)`,
      );
    }
    return name;
  }

  /** Keras 2 node format: a list of nodes, each a list of [layer, node, tensor, kwargs?]. */
  private inboundNodes(layer: LayerEntry, layerName: string): void {
    const nodes = layer.inbound_nodes ?? [];
    if (!Array.isArray(nodes)) this.bad(`layer "${layerName}": inbound_nodes must be a list`);
    layer.inbound_nodes = nodes.map((node) => {
      if (!Array.isArray(node)) this.bad(`layer "${layerName}": each inbound node must be a list of inputs`);
      return node.map((ref) => this.tensorRef(ref, `layer "${layerName}" inbound node`, true));
    });
  }

  private tensorRefs(value: unknown, where: string): unknown[] {
    if (!Array.isArray(value) || value.length === 0) this.bad(`${where}: expected a non-empty list`);
    // A single [name, node, tensor] triple is accepted as shorthand for a one-element list.
    const refs = typeof value[0] === 'string' ? [value] : value;
    return refs.map((ref) => this.tensorRef(ref, where, false));
  }

  private tensorRef(ref: unknown, where: string, allowKwargs: boolean): unknown[] {
    if (
      !Array.isArray(ref) ||
      ref.length < 3 ||
      ref.length > 4 ||
      typeof ref[0] !== 'string' ||
      !Number.isInteger(ref[1]) ||
      !Number.isInteger(ref[2]) ||
      (ref[1] as number) < 0 ||
      (ref[2] as number) < 0
    ) {
      this.bad(`${where}: expected [layer name, node index, tensor index], got ${describeValue(ref)}`);
    }
    const out: unknown[] = [ref[0], ref[1], ref[2]];
    if (ref.length === 4) {
      if (!allowKwargs) this.bad(`${where}: unexpected call arguments in ${describeValue(ref)}`);
      const kwargs = ref[3];
      if (kwargs !== null && !isRecord(kwargs)) this.bad(`${where}: call arguments must be an object`);
      if (isRecord(kwargs)) {
        const keys = Object.keys(kwargs).filter((k) => k !== 'training' && k !== 'mask');
        if (keys.length > 0) this.refuse(`${where}: unsupported call arguments ${keys.join(', ')}`);
      }
      out.push(this.plainValue(kwargs ?? {}, where, 'kwargs'));
    }
    return out;
  }
}

export interface CheckedTopology {
  /** The model config to give tfjs: `{class_name, config}` with every name checked. */
  model: LayerEntry;
  kerasVersion?: string;
  backend?: string;
}

/**
 * Validate a `modelTopology` (tfjs layers model.json) or a bare Keras model config, returning a
 * clean copy. Throws `unsupported(file, …)` naming the layer for anything not on the allow-lists
 * and `badInput(file, …)` for malformed structure. Training configs are dropped: Pollard never
 * deserializes optimizers or losses from a file.
 */
export function validateTopology(topology: unknown, file: string): CheckedTopology {
  const validator: TopologyValidator = new TopologyValidator(file);
  if (!isRecord(topology)) validator.bad('modelTopology must be an object');
  const inner = topology.model_config !== undefined ? topology.model_config : topology;
  const model = validator.model(inner, 'modelTopology');
  const result: CheckedTopology = { model };
  if (typeof topology.keras_version === 'string') result.kerasVersion = topology.keras_version;
  if (typeof topology.backend === 'string') result.backend = topology.backend;
  return result;
}
