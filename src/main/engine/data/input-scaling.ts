/**
 * Input scaling: how the pixels a model was trained on were scaled. `unit` is [0, 1] (Pollard's
 * default), `symmetric` [−1, 1] (Inception, MobileNet in Keras), `raw` 0–255 (a model that rescales
 * its input itself, e.g. a leading Keras Rescaling layer), `imagenet` mean/std per RGB
 * channel (torchvision), `caffe` BGR in 0–255 minus the per-channel ImageNet mean (Keras VGG,
 * ResNet50). Each becomes a Normalization: a 256-entry table per channel, and the channel order.
 */
import { INPUT_SCALINGS, type InputScaling } from '../../../shared/jobs';
import type { Normalization } from './pipeline';

export { INPUT_SCALINGS, type InputScaling };

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
/** Caffe's mean in BGR order, 0–255 (Keras applications, mode="caffe"). */
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];

/** The Normalization of a named scaling. */
export function normalizationOf(scaling: InputScaling): Normalization {
  switch (scaling) {
    case 'unit':
      return { scale: 1, offset: 0, scaling };
    case 'symmetric':
      return { scale: 2, offset: -1, scaling };
    case 'raw':
      return { scale: 255, offset: 0, scaling };
    case 'imagenet':
      return {
        scale: 1,
        offset: 0,
        scaling,
        channels: {
          scale: IMAGENET_STD.map((std) => 1 / std),
          offset: IMAGENET_MEAN.map((mean, c) => -mean / IMAGENET_STD[c]!),
        },
      };
    case 'caffe':
      return {
        scale: 255,
        offset: 0,
        scaling,
        reverseChannels: true,
        channels: { scale: [255, 255, 255], offset: CAFFE_MEAN_BGR.map((mean) => -mean) },
      };
  }
}

/**
 * One 256-entry table (pixel value → model input) per model input channel. Per-channel figures
 * apply to 3-channel images; a grayscale image takes the first channel's.
 */
export function normalizationTables(normalization: Normalization, channels: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => {
    const perChannel = normalization.channels;
    const index = channels === 3 ? c : 0;
    const scale = perChannel?.scale[index] ?? normalization.scale;
    const offset = perChannel?.offset[index] ?? normalization.offset;
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v / 255) * scale + offset;
    return table;
  });
}

/** The image channel that feeds model input channel `c` (reversed for BGR models). */
export function sourceChannel(normalization: Normalization, c: number, channels: number): number {
  return normalization.reverseChannels ? channels - 1 - c : c;
}

/** The normalization a job uses: the scaling asked for, else what the model file says (as a spread-able option). */
export function modelNormalization(
  asked: InputScaling | undefined,
  stored: Normalization | undefined,
): { normalization?: Normalization } {
  const normalization = asked ? normalizationOf(asked) : stored;
  return normalization ? { normalization } : {};
}
