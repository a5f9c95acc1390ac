/**
 * Keras attributes that TensorFlow.js reads differently or not at all. Each is either rewritten
 * to what tfjs means by the same thing (LeakyReLU `negative_slope` → `alpha`, BatchNormalization
 * `axis: [3]` → `3`, activation `silu` → `swish`), or refused with the layer's name: a model that
 * loads but computes something else is worse than one that does not load.
 */
import { unsupported } from '../../../../shared/errors';
import { isRecord } from '../safe-json';
import { MODEL_CLASSES } from '../supported-layers';

type JsonRecord = Record<string, unknown>;

export interface FixupOptions {
  /** Keras 3 defines hard_sigmoid as relu6(x + 3) / 6, not tfjs's clip(0.2 x + 0.5). */
  keras3: boolean;
}

const ACTIVATION_KEYS = ['activation', 'recurrent_activation'];
const ACTIVATION_RENAMES: Readonly<Record<string, string>> = { silu: 'swish' };
const TRANSPOSED_CONVOLUTIONS = new Set(['Conv2DTranspose', 'Conv1DTranspose', 'Conv3DTranspose']);

function isZero(value: unknown): boolean {
  return value === undefined || value === null || value === 0;
}

function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === false;
}

class KerasFixups {
  constructor(
    private readonly file: string,
    private readonly options: FixupOptions,
  ) {}

  refuse(layer: string, className: string, problem: string): never {
    throw unsupported(this.file, `layer "${layer}" (${className}): ${problem}`);
  }

  model(entry: JsonRecord): void {
    const config = entry.config;
    const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
    if (!Array.isArray(layers)) return;
    for (const layer of layers) if (isRecord(layer)) this.layer(layer);
  }

  layer(entry: JsonRecord): void {
    const className = entry.class_name;
    if (typeof className !== 'string') return;
    if (MODEL_CLASSES.has(className)) {
      this.model(entry);
      return;
    }
    const config = entry.config;
    if (!isRecord(config)) return;
    const name = typeof config.name === 'string' ? config.name : String(entry.name ?? '(unnamed)');
    if (isRecord(config.layer)) this.layer(config.layer);
    for (const key of ACTIVATION_KEYS) this.activation(config, key, name, className);
    switch (className) {
      case 'InputLayer':
        if (config.sparse === true) this.refuse(name, className, 'sparse inputs are not supported');
        if (config.ragged === true) this.refuse(name, className, 'ragged inputs are not supported');
        break;
      case 'BatchNormalization':
        this.batchNormalization(config, name, className);
        break;
      case 'ReLU':
        if (!isZero(config.negative_slope) || !isZero(config.threshold)) {
          this.refuse(
            name,
            className,
            `negative_slope ${String(config.negative_slope ?? 0)} / threshold ${String(config.threshold ?? 0)} are not supported by TensorFlow.js (use LeakyReLU)`,
          );
        }
        delete config.negative_slope;
        delete config.threshold;
        break;
      case 'LeakyReLU':
        if (config.negative_slope !== undefined) {
          if (config.alpha === undefined) config.alpha = config.negative_slope;
          delete config.negative_slope;
        }
        break;
      case 'Dense':
        if (!isUnset(config.lora_rank))
          this.refuse(name, className, 'LoRA-adapted Dense layers are not supported');
        break;
      case 'UpSampling2D':
        if (
          config.interpolation !== undefined &&
          config.interpolation !== 'nearest' &&
          config.interpolation !== 'bilinear'
        ) {
          this.refuse(name, className, `interpolation "${String(config.interpolation)}" is not supported`);
        }
        break;
      default:
        break;
    }
    if (TRANSPOSED_CONVOLUTIONS.has(className) && !isUnset(config.output_padding)) {
      this.refuse(name, className, 'output_padding is not supported by TensorFlow.js');
    }
  }

  private activation(config: JsonRecord, key: string, name: string, className: string): void {
    const value = config[key];
    if (typeof value !== 'string') return;
    const renamed = ACTIVATION_RENAMES[value];
    if (renamed !== undefined && Object.hasOwn(ACTIVATION_RENAMES, value)) config[key] = renamed;
    if (this.options.keras3 && (value === 'hard_sigmoid' || value === 'hardSigmoid')) {
      this.refuse(
        name,
        className,
        `Keras 3's hard_sigmoid (relu6(x + 3) / 6) differs from TensorFlow.js's (0.2 x + 0.5); use sigmoid and retrain`,
      );
    }
  }

  private batchNormalization(config: JsonRecord, name: string, className: string): void {
    if (Array.isArray(config.axis)) {
      if (config.axis.length !== 1 || typeof config.axis[0] !== 'number') {
        this.refuse(
          name,
          className,
          `normalizing over several axes (${JSON.stringify(config.axis)}) is not supported`,
        );
      }
      config.axis = config.axis[0];
    }
    if (config.renorm === true)
      this.refuse(name, className, 'batch renormalization (renorm=True) is not supported');
    if (!isUnset(config.virtual_batch_size)) {
      this.refuse(name, className, 'virtual_batch_size (ghost batch normalization) is not supported');
    }
    if (!isUnset(config.adjustment)) this.refuse(name, className, 'an adjustment function is not supported');
    delete config.renorm;
    delete config.renorm_clipping;
    delete config.renorm_momentum;
    delete config.virtual_batch_size;
    delete config.adjustment;
    delete config.fused;
    delete config.synchronized;
  }
}

/** Rewrites (in place) or refuses Keras attributes that tfjs would misread. `model` is `{class_name, config}`. */
export function applyKerasFixups(file: string, model: JsonRecord, options: FixupOptions): void {
  new KerasFixups(file, options).model(model);
}

/** Output shapes by layer name, from shape inference (see infer-shapes.ts). */
export type OutputShapesByLayer = ReadonlyMap<string, readonly (readonly (number | null)[])[]>;

/**
 * Keras's Flatten on a (batch, n) input is the identity; tfjs's Flatten refuses inputs below
 * rank 3. Such a layer becomes the equivalent Reshape to [n], keeping its name. Needs the
 * inferred shapes, so it runs after shape inference; `model` is a checked `{class_name, config}`.
 */
export function replaceRankTwoFlatten(model: JsonRecord, shapes: OutputShapesByLayer): void {
  const config = model.config;
  const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) return;
  const sequential = model.class_name === 'Sequential';
  layers.forEach((layer: unknown, index: number) => {
    if (!isRecord(layer) || typeof layer.class_name !== 'string') return;
    if (MODEL_CLASSES.has(layer.class_name)) {
      replaceRankTwoFlatten(layer, shapes);
      return;
    }
    if (layer.class_name !== 'Flatten' || !isRecord(layer.config)) return;
    const input = sequential ? sequentialInput(layers, index, shapes) : functionalInput(layer, shapes);
    const width = input?.[1];
    if (input?.length !== 2 || typeof width !== 'number') return;
    const { name, trainable, dtype } = layer.config;
    layer.class_name = 'Reshape';
    layer.config = { name, trainable, dtype, target_shape: [width] };
  });
}

function sequentialInput(
  layers: unknown[],
  index: number,
  shapes: OutputShapesByLayer,
): readonly (number | null)[] | undefined {
  const own = layers[index];
  if (isRecord(own) && isRecord(own.config) && Array.isArray(own.config.batch_input_shape)) {
    return own.config.batch_input_shape as (number | null)[];
  }
  const previous = layers[index - 1];
  if (!isRecord(previous) || !isRecord(previous.config) || typeof previous.config.name !== 'string')
    return undefined;
  return shapes.get(previous.config.name)?.[0];
}

function functionalInput(
  layer: JsonRecord,
  shapes: OutputShapesByLayer,
): readonly (number | null)[] | undefined {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes) || nodes.length !== 1) return undefined;
  const node = nodes[0];
  const ref = Array.isArray(node) && node.length === 1 ? node[0] : undefined;
  if (!Array.isArray(ref) || typeof ref[0] !== 'string' || typeof ref[2] !== 'number') return undefined;
  return shapes.get(ref[0])?.[ref[2]];
}
