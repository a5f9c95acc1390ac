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

/** Keys that name the preprocessing; other keys count only where their text does. */
const PREPROCESSING_KEY = /preprocess|normali[sz]|scal|mean|\bstd|input|pixel|range|transform/i;
const PREPROCESSING_TEXT = /normali[sz]|scaled|rescal|preprocess|mean\/std|pixel (?:range|values?)/i;
/** The ends of a range and what stands between them ("to", "..", "…", a dash or a comma). */
const TO = String.raw`\s*(?:,|to|and|\.\.|…|–|—|-)\s*`;
const ZERO = String.raw`(?<![-−\d.])0(?:\.0+)?`;
const ONE = String.raw`1(?:\.0+)?(?!\.?\d)`;
const range = (from: string, to: string): string => `${from}${TO}${to}`;
/**
 * What the text says, checked in this order: the first match wins. Means and stds by number,
 * and "ImageNet mean/std", come before ranges; a range comes before a bare "ImageNet" (a model
 * trained on ImageNet may take [−1, 1]).
 */
const METADATA_PHRASES: readonly [InputScaling, RegExp][] = [
  ['caffe', /caffe|bgr|103\.939|116\.779/],
  [
    'imagenet',
    /0\.485|0\.229|123\.675|116\.28\b|\btorch\b|imagenet[\s_-]*(?:mean|std|norm)|(?:mean|std)\b.{0,24}imagenet/,
  ],
  [
    'symmetric',
    new RegExp(
      String.raw`${range(String.raw`[-−]\s*${ONE}`, String.raw`\+?${ONE}`)}|127\.5|symmetric|\btf\b(?!\.)|0\.00784`,
    ),
  ],
  ['unit', new RegExp(String.raw`${range(ZERO, ONE)}|(?:\/|divided by)\s*255|\bunit\b|0\.00392`)],
  ['raw', new RegExp(String.raw`${range(ZERO, String.raw`255(?!\d)`)}|\braw\b`)],
  ['imagenet', /imagenet/],
];

function fromMetadata(metadata: Record<string, string>): InputScalingGuess | null {
  for (const [key, raw] of Object.entries(metadata)) {
    if (!PREPROCESSING_KEY.test(key) && !PREPROCESSING_TEXT.test(raw)) continue;
    const value = raw.toLowerCase();
    const match = METADATA_PHRASES.find(([, pattern]) => pattern.test(value));
    if (match)
      return {
        scaling: match[0],
        reason: `metadata ${key} = "${raw.length > 60 ? `${raw.slice(0, 59)}…` : raw}"`,
      };
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
