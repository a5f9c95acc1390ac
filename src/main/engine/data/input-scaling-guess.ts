/**
 * A guess at how an imported model's input pixels were scaled, from what the file says, for the
 * Model step to preselect (the user decides; a wrong scaling costs accuracy silently):
 *
 * 1. Pollard's own metadata (a named scaling stored with the model): not a guess.
 * 2. A preprocessing layer before the first weighted layer: Rescaling(1/255) or
 *    Rescaling(1/127.5, −1) means the model takes 0–255 pixels itself (`raw`); a Normalization
 *    layer whose mean is above 1 was adapted on 0–255 pixels (`raw`), else on [0, 1] (`unit`).
 * 3. Metadata text (TF.js userDefinedMetadata, ONNX metadata_props) naming the preprocessing.
 * 4. A Keras Applications signature: MobileNet / Inception / Xception / NASNet take [−1, 1];
 *    VGG16/19 and the first ResNet50/101/152 take caffe's BGR mean-subtracted pixels. Matched by
 *    model name or by their layer names (MobileNetV2's `Conv1` + `bn_Conv1`, as Teachable
 *    Machine ships it inside a Sequential).
 */
import type { InputScaling } from '../../../shared/jobs';

export interface GuessLayer {
  name: string;
  className: string;
  config?: Record<string, unknown>;
  /** Whether the layer holds weights (the first one ends the preprocessing prefix). */
  weighted?: boolean;
  /** Layers of a nested model, in order. */
  layers?: GuessLayer[];
}

export interface GuessInput {
  modelName: string;
  layers: GuessLayer[];
  /** A scaling stored by name with the model (Pollard metadata). */
  stored?: InputScaling;
  /** Free-form key → value metadata from the file. */
  metadata?: Record<string, string>;
}

export interface InputScalingGuess {
  scaling: InputScaling;
  /** Shown as "guessed from the file: <reason>". */
  reason: string;
}

const near = (a: unknown, b: number): boolean =>
  typeof a === 'number' && Math.abs(a - b) < 1e-3 * Math.abs(b) + 1e-6;

/** Layers in order with nested models expanded. */
function flatten(layers: readonly GuessLayer[]): GuessLayer[] {
  return layers.flatMap((l) => (l.layers && l.layers.length > 0 ? [l, ...flatten(l.layers)] : [l]));
}

function fromPreprocessing(layers: readonly GuessLayer[]): InputScalingGuess | null {
  for (const layer of flatten(layers)) {
    if (layer.layers && layer.layers.length > 0) continue;
    const c = layer.config ?? {};
    if (layer.className === 'Rescaling') {
      const offset = typeof c.offset === 'number' ? c.offset : 0;
      if (near(c.scale, 1 / 255) && near(offset + 1, 1))
        return {
          scaling: 'raw',
          reason: `layer ${layer.name} is Rescaling(1/255): the model takes 0–255 pixels`,
        };
      if (near(c.scale, 1 / 127.5) && near(offset, -1))
        return {
          scaling: 'raw',
          reason: `layer ${layer.name} is Rescaling(1/127.5, offset −1): the model takes 0–255 pixels`,
        };
    }
    if (layer.className === 'Normalization') {
      const mean = Array.isArray(c.mean) ? (c.mean as unknown[]) : typeof c.mean === 'number' ? [c.mean] : [];
      const values = mean.filter((m): m is number => typeof m === 'number');
      if (values.length > 0) {
        const max = Math.max(...values);
        return max > 1
          ? {
              scaling: 'raw',
              reason: `layer ${layer.name} normalises with mean ${max.toFixed(1)}: it expects 0–255 pixels`,
            }
          : {
              scaling: 'unit',
              reason: `layer ${layer.name} normalises with mean ${max.toFixed(3)}: it expects [0, 1] pixels`,
            };
      }
    }
    if (layer.weighted) break;
  }
  return null;
}

function fromMetadata(metadata: Record<string, string>): InputScalingGuess | null {
  for (const [key, raw] of Object.entries(metadata)) {
    if (!/preprocess|normali|scal|mean|input/i.test(key)) continue;
    const value = raw.toLowerCase();
    const said = (scaling: InputScaling): InputScalingGuess => ({
      scaling,
      reason: `metadata ${key} = "${raw.length > 60 ? `${raw.slice(0, 59)}…` : raw}"`,
    });
    if (/caffe|bgr/.test(value)) return said('caffe');
    if (/imagenet|0\.485|123\.675/.test(value)) return said('imagenet');
    if (/\[-1,\s*1\]|127\.5|symmetric|tf\b|\(-1,\s*1\)/.test(value)) return said('symmetric');
    if (/\[0,\s*1\]|\/\s*255|unit|\(0,\s*1\)/.test(value)) return said('unit');
    if (/0\s*-\s*255|\[0,\s*255\]|raw/.test(value)) return said('raw');
  }
  return null;
}

const SYMMETRIC_NAMES = /mobilenet|inception|xception|nasnet/i;
const CAFFE_NAMES = /^(vgg16|vgg19|resnet50|resnet101|resnet152)$/i;

function fromSignature(modelName: string, layers: readonly GuessLayer[]): InputScalingGuess | null {
  const all = flatten(layers);
  const names = new Set(all.map((l) => l.name));
  const nested = all.filter((l) => l.layers && l.layers.length > 0).map((l) => l.name);
  for (const name of [modelName, ...nested]) {
    if (SYMMETRIC_NAMES.test(name))
      return {
        scaling: 'symmetric',
        reason: `model ${name} is a Keras ${name.replace(/_.*/, '')}, which takes [−1, 1]`,
      };
    if (CAFFE_NAMES.test(name))
      return {
        scaling: 'caffe',
        reason: `model ${name} is Keras's ${name}, which takes caffe-style BGR pixels`,
      };
  }
  if (names.has('Conv1') && names.has('bn_Conv1'))
    return {
      scaling: 'symmetric',
      reason: "layers Conv1 and bn_Conv1 are Keras MobileNetV2's, which takes [−1, 1]",
    };
  if (names.has('conv1') && names.has('conv_dw_1') && names.has('conv1_bn'))
    return {
      scaling: 'symmetric',
      reason: "layers conv1 and conv_dw_1 are Keras MobileNet's, which takes [−1, 1]",
    };
  return null;
}

/** The file's own word on the input scaling, or null where it says nothing. */
export function guessInputScaling(input: GuessInput): InputScalingGuess | null {
  if (input.stored) return { scaling: input.stored, reason: 'stored with the model' };
  return (
    fromPreprocessing(input.layers) ??
    (input.metadata ? fromMetadata(input.metadata) : null) ??
    fromSignature(input.modelName, input.layers)
  );
}

/** The shape of a TF.js layer the guess reads (a nested model has `layers`). */
interface LayerLike {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  weights: unknown[];
  layers?: LayerLike[];
}

/** A loaded TF.js model's layers as the guess reads them. */
export function guessLayersOf(layers: readonly LayerLike[]): GuessLayer[] {
  return layers.map((layer) => ({
    name: layer.name,
    className: layer.getClassName(),
    config: layer.getConfig(),
    weighted: layer.weights.length > 0,
    ...(Array.isArray(layer.layers) ? { layers: guessLayersOf(layer.layers) } : {}),
  }));
}
