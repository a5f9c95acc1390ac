/**
 * Translates a Keras 3 `.keras` config.json (`{module, class_name, config, registered_name,
 * build_config}` objects, DTypePolicy objects, `batch_shape`, tensors serialized as
 * `__tensor__`, inbound nodes as `{args, kwargs}` holding `__keras_tensor__` references) into
 * the Keras 2 layout that TensorFlow.js deserializes. Run `refuseUnsafeConfig` first: this
 * only rewrites structure, it does not judge what the objects are.
 */
import { badInput, unsupported } from '../../../../shared/errors';
import { isRecord } from '../safe-json';
import { MODEL_CLASSES } from '../supported-layers';

type JsonRecord = Record<string, unknown>;

/** Keys that describe how Keras 3 rebuilds Python objects and mean nothing to tfjs. */
const DROPPED_KEYS = new Set([
  'module',
  'registered_name',
  'shared_object_id',
  'build_config',
  'compile_config',
]);
const MIXED_POLICIES = new Set(['mixed_float16', 'mixed_bfloat16']);

class Keras3Translator {
  constructor(private readonly file: string) {}

  model(entry: unknown, where: string): JsonRecord {
    if (!isRecord(entry) || typeof entry.class_name !== 'string' || !isRecord(entry.config)) {
      throw badInput(this.file, `${where}: expected a Keras model object with class_name and config`);
    }
    const className = entry.class_name;
    const config = entry.config;
    const name =
      typeof config.name === 'string' ? config.name : typeof entry.name === 'string' ? entry.name : where;
    if (!Array.isArray(config.layers))
      throw badInput(this.file, `model "${name}": config has no layers list`);
    const functional = className !== 'Sequential';
    const layers = config.layers.map((layer) => this.layer(layer, functional, `model "${name}"`));
    const out: JsonRecord = { name, layers };
    if (typeof config.trainable === 'boolean') out.trainable = config.trainable;
    if (functional) {
      out.input_layers = config.input_layers;
      out.output_layers = config.output_layers;
    } else {
      this.giveSequentialAnInputShape(layers, config, entry);
    }
    return { class_name: className, config: out };
  }

  /** Keras 3 may leave the input shape only in `build_input_shape`; tfjs needs it on the first layer. */
  private giveSequentialAnInputShape(layers: JsonRecord[], config: JsonRecord, entry: JsonRecord): void {
    const first = layers[0];
    if (first === undefined || first.class_name === 'InputLayer') return;
    const firstConfig = first.config as JsonRecord;
    if (firstConfig.batch_input_shape !== undefined || firstConfig.input_shape !== undefined) return;
    const buildConfig = isRecord(entry.build_config) ? entry.build_config : undefined;
    const shape = config.build_input_shape ?? buildConfig?.input_shape;
    if (Array.isArray(shape)) firstConfig.batch_input_shape = shape;
  }

  layer(entry: unknown, functional: boolean, where: string): JsonRecord {
    if (!isRecord(entry) || typeof entry.class_name !== 'string') {
      throw badInput(this.file, `${where}: layer without a class_name`);
    }
    const className = entry.class_name;
    let out: JsonRecord;
    if (MODEL_CLASSES.has(className)) {
      out = this.model(entry, where);
    } else {
      const config = isRecord(entry.config) ? entry.config : {};
      const layerName = typeof config.name === 'string' ? config.name : undefined;
      const translated = this.value(config, layerName ?? where) as JsonRecord;
      if (isRecord(config.layer)) translated.layer = this.layer(config.layer, false, `layer "${layerName}"`);
      if (isRecord(config.backward_layer)) {
        translated.backward_layer = this.layer(config.backward_layer, false, `layer "${layerName}"`);
      }
      if (className === 'InputLayer') this.inputLayer(translated);
      out = { class_name: className, config: translated };
    }
    const config = out.config as JsonRecord;
    const name = typeof config.name === 'string' ? config.name : entry.name;
    if (typeof name === 'string') out.name = name;
    if (functional) out.inbound_nodes = this.inboundNodes(entry.inbound_nodes, String(name));
    return out;
  }

  private inputLayer(config: JsonRecord): void {
    if (config.batch_input_shape === undefined) {
      if (Array.isArray(config.batch_shape)) config.batch_input_shape = config.batch_shape;
      else if (Array.isArray(config.shape)) config.batch_input_shape = [null, ...(config.shape as unknown[])];
    }
    delete config.batch_shape;
    delete config.shape;
    delete config.optional;
  }

  /** Any config value: Keras 3 wrappers are unwrapped to what Keras 2 would have written. */
  value(value: unknown, layerName: string): unknown {
    if (Array.isArray(value)) return value.map((item) => this.value(item, layerName));
    if (!isRecord(value)) return value;
    const className = value.class_name;
    if (className === '__tensor__') return this.tensorConstant(value, layerName);
    if (className === 'DTypePolicy' || className === 'FloatDTypePolicy' || className === 'Policy') {
      return this.dtypePolicy(value, layerName);
    }
    if (typeof className === 'string' && className.endsWith('DTypePolicy')) {
      throw unsupported(
        this.file,
        `layer "${layerName}" uses the dtype policy ${className} (a Keras-quantized layer); save the float model instead`,
      );
    }
    if (className === 'function' && typeof value.config === 'string') return value.config;
    if (className === '__keras_tensor__') {
      throw unsupported(
        this.file,
        `layer "${layerName}" holds a tensor reference in its config, which is not supported`,
      );
    }
    const out: JsonRecord = {};
    for (const [key, child] of Object.entries(value)) {
      if (!DROPPED_KEYS.has(key)) out[key] = this.value(child, layerName);
    }
    return out;
  }

  private tensorConstant(value: JsonRecord, layerName: string): number {
    const config = isRecord(value.config) ? value.config : {};
    const data = config.value;
    const scalar = Array.isArray(data) && data.length === 1 ? data[0] : data;
    if (typeof scalar !== 'number' || !Number.isFinite(scalar)) {
      throw unsupported(
        this.file,
        `layer "${layerName}" holds a tensor constant that is not a single number`,
      );
    }
    return scalar;
  }

  private dtypePolicy(value: JsonRecord, layerName: string): string {
    const name = isRecord(value.config) ? value.config.name : undefined;
    if (typeof name !== 'string')
      throw badInput(this.file, `layer "${layerName}": dtype policy without a name`);
    // Mixed precision keeps float32 variables; Pollard computes in float32.
    return MIXED_POLICIES.has(name) ? 'float32' : name;
  }

  /** `[{args: [...keras tensors], kwargs}]` → `[[[layer, node, tensor, {}], ...]]`. */
  private inboundNodes(nodes: unknown, layerName: string): unknown[] {
    if (nodes === undefined || nodes === null) return [];
    if (!Array.isArray(nodes))
      throw badInput(this.file, `layer "${layerName}": inbound_nodes must be a list`);
    return nodes.map((node) => {
      // Keras 2 layout inside a .keras file (tf.keras 2.13–2.15 wrote either).
      if (Array.isArray(node)) return node;
      if (!isRecord(node)) throw badInput(this.file, `layer "${layerName}": malformed inbound node`);
      const refs: unknown[] = [];
      const collect = (arg: unknown): void => {
        if (Array.isArray(arg)) {
          for (const item of arg) collect(item);
          return;
        }
        if (isRecord(arg) && arg.class_name === '__keras_tensor__' && isRecord(arg.config)) {
          const history = arg.config.keras_history;
          if (!Array.isArray(history) || history.length !== 3) {
            throw badInput(this.file, `layer "${layerName}": tensor reference without keras_history`);
          }
          refs.push([history[0], history[1], history[2], {}]);
          return;
        }
        throw unsupported(
          this.file,
          `layer "${layerName}" is called with a non-tensor argument (${JSON.stringify(arg)?.slice(0, 40)}), which is not supported`,
        );
      };
      collect(node.args ?? []);
      const kwargs = isRecord(node.kwargs) ? node.kwargs : {};
      for (const [key, argument] of Object.entries(kwargs)) {
        if (argument === null || argument === false || (key === 'training' && argument === true)) continue;
        throw unsupported(
          this.file,
          `layer "${layerName}" is called with the argument ${key}=${JSON.stringify(argument)?.slice(0, 40)}, which is not supported`,
        );
      }
      return refs;
    });
  }
}

/** The Keras 3 `config.json` object as a Keras 2 model config (`{class_name, config}`). */
export function translateKeras3Config(file: string, config: unknown): JsonRecord {
  return new Keras3Translator(file).model(config, 'config.json');
}
