/**
 * ResNet-20, the CIFAR variant of He et al. (2016): conv 3×3 16 → BN → ReLU, then three stages
 * of three basic blocks (16, 32, 64 channels; the first block of stages 2 and 3 has stride 2),
 * global average pooling, dense softmax. A basic block is
 *   conv 3×3 (stride s) → BN → ReLU → conv 3×3 → BN → Add(shortcut) → ReLU.
 * Where the shape changes the shortcut is a 1×1 convolution with stride s followed by BN (a
 * projection shortcut, the paper's option B) rather than option A's zero padding: tfjs has no
 * channel-padding layer, and a projection keeps every tensor a plain layer output that the
 * pruner can follow. All convolutions use `same` padding, so inputs as small as 1×1 build
 * (28×28 gives 28 → 14 → 7).
 */
import { tfl } from '../../tf';
import type { LayersModel } from '../../tf';
import type { InputShape } from './seeds';
import { LayerSeeds } from './seeds';

type Tensor = tfl.SymbolicTensor;

export const RESNET20_STAGES = [16, 32, 64] as const;
export const RESNET20_BLOCKS_PER_STAGE = 3;

export function buildResnet20(inputShape: InputShape, classes: number, seed: number): LayersModel {
  const seeds = new LayerSeeds(seed);
  const conv = (name: string, filters: number, kernelSize: number, strides: number, x: Tensor): Tensor =>
    tfl.layers
      .conv2d({
        name,
        filters,
        kernelSize,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: seeds.heNormal(),
      })
      .apply(x) as Tensor;
  const bn = (name: string, x: Tensor): Tensor => tfl.layers.batchNormalization({ name }).apply(x) as Tensor;
  const relu = (name: string, x: Tensor): Tensor => tfl.layers.reLU({ name }).apply(x) as Tensor;

  const input = tfl.input({ name: 'input', shape: inputShape });
  let x = relu('relu1', bn('bn1', conv('conv1', RESNET20_STAGES[0], 3, 1, input)));
  let channels: number = RESNET20_STAGES[0];
  RESNET20_STAGES.forEach((filters, s) => {
    for (let b = 0; b < RESNET20_BLOCKS_PER_STAGE; b++) {
      const name = `block${s + 1}_${b + 1}`;
      const strides = s > 0 && b === 0 ? 2 : 1;
      let y = relu(`${name}_relu1`, bn(`${name}_bn1`, conv(`${name}_conv1`, filters, 3, strides, x)));
      y = bn(`${name}_bn2`, conv(`${name}_conv2`, filters, 3, 1, y));
      const shortcut =
        strides !== 1 || channels !== filters
          ? bn(`${name}_shortcut_bn`, conv(`${name}_shortcut_conv`, filters, 1, strides, x))
          : x;
      x = relu(`${name}_relu2`, tfl.layers.add({ name: `${name}_add` }).apply([y, shortcut]) as Tensor);
      channels = filters;
    }
  });
  const pooled = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Tensor;
  const output = tfl.layers
    .dense({
      name: 'logits',
      units: classes,
      activation: 'softmax',
      kernelInitializer: seeds.glorotUniform(),
    })
    .apply(pooled) as Tensor;
  return tfl.model({ name: 'resnet20', inputs: input, outputs: output });
}
