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
