/**
 * Deterministic initialisation: every layer gets its own seed drawn from one seeded RNG, so a
 * model built twice with the same seed has identical weights, and a different seed differs.
 */
import { usageError } from '../../../../shared/errors';
import { tfl } from '../../tf';
import { Rng } from '../../util/rng';

type Initializer = ReturnType<typeof tfl.initializers.heNormal>;

export class LayerSeeds {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  /** A fresh seed for the next layer. */
  next(): number {
    return this.rng.nextUint32();
  }

  /** He-normal (fan-in), the usual choice before ReLU. */
  heNormal(): Initializer {
    return tfl.initializers.heNormal({ seed: this.next() });
  }

  /** Glorot-uniform, for the softmax classifier. */
  glorotUniform(): Initializer {
    return tfl.initializers.glorotUniform({ seed: this.next() });
  }
}

/** Spatial input [height, width, channels]. */
export type InputShape = [number, number, number];

/** Refuse shapes and class counts no architecture can be built for. */
export function checkArchitectureArgs(
  name: string,
  inputShape: readonly number[],
  classes: number,
): InputShape {
  const ok = (d: unknown, max: number): d is number =>
    typeof d === 'number' && Number.isInteger(d) && d >= 1 && d <= max;
  if (
    inputShape.length !== 3 ||
    !ok(inputShape[0], 4096) ||
    !ok(inputShape[1], 4096) ||
    !ok(inputShape[2], 64)
  ) {
    throw usageError(
      `${name}: input shape must be [height, width, channels] with sides 1..4096 and 1..64 channels, got [${inputShape.join(', ')}]`,
    );
  }
  if (!ok(classes, 100_000) || classes < 2) {
    throw usageError(`${name}: classes must be an integer from 2 to 100000, got ${classes}`);
  }
  return [inputShape[0], inputShape[1], inputShape[2]];
}
