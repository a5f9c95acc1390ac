/**
 * Built-in architectures, built for any input shape and class count, with deterministic
 * initialisation for a given seed. Layer names are stable and meaningful (`conv1`,
 * `block2_1_conv1`, …) so pruning plans and reports can refer to them.
 */
import type { ArchitectureName } from '../../../../shared/jobs';
import { ARCHITECTURES } from '../../../../shared/jobs';
import { usageError } from '../../../../shared/errors';
import type { LayersModel } from '../../tf';
import { buildLenet } from './lenet';
import { buildMobilenetSmall } from './mobilenet-small';
import { buildResnet20 } from './resnet20';
import { checkArchitectureArgs } from './seeds';
import { buildVggSmall } from './vgg-small';

export const ARCHITECTURE_DESCRIPTIONS: Readonly<Record<ArchitectureName, string>> = {
  lenet: 'LeNet-5 style CNN: 2 convolutions, 3 dense layers (the fast demo model)',
  'vgg-small': 'small VGG with batch normalisation: 3 blocks of 2 convolutions (32, 64, 128), dense 128',
  resnet20: 'ResNet-20 (CIFAR variant): 3 stages × 3 residual blocks (16, 32, 64), projection shortcuts',
  'mobilenet-small': 'small MobileNet: 5 depthwise-separable blocks and one SeparableConv2D',
};

const BUILDERS: Readonly<Record<ArchitectureName, typeof buildLenet>> = {
  lenet: buildLenet,
  'vgg-small': buildVggSmall,
  resnet20: buildResnet20,
  'mobilenet-small': buildMobilenetSmall,
};

/**
 * Build a fresh, untrained model. `inputShape` is [height, width, channels]; the output is a
 * softmax over `classes`. The same seed gives the same initial weights.
 */
export function buildArchitecture(
  name: ArchitectureName,
  inputShape: readonly [number, number, number] | readonly number[],
  classes: number,
  seed = 42,
): LayersModel {
  if (!(ARCHITECTURES as readonly string[]).includes(name)) {
    throw usageError(`unknown architecture "${String(name)}"; choose one of ${ARCHITECTURES.join(', ')}`);
  }
  if (!Number.isInteger(seed)) throw usageError(`${name}: seed must be an integer, got ${seed}`);
  const shape = checkArchitectureArgs(name, inputShape, classes);
  return BUILDERS[name](shape, classes, seed);
}
