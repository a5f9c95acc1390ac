/**
 * Puts stored Keras weights into a built tfjs model: by layer name, then by weight name where
 * the file has names that match (Keras 2 files; names may carry a `_1` that Keras added when
 * it uniquified a variable), otherwise by position with the weight's kind checked (`kernel`,
 * `gamma`, …). Every shape is compared before any value is read, and a layer present on one
 * side only is an error, never silently skipped.
 */
import { badInput } from '../../../../shared/errors';
import { tf, type LayersModel } from '../../tf';
import type { StoredWeight } from './hdf5';
import type { StoredLayerWeights } from './keras2-weights';

interface ModelWeight {
  originalName: string;
  shape: number[];
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, index) => dim === b[index]);
}

/** `conv2d_1/kernel:0` → `conv2d_1/kernel`. */
function withoutSlot(name: string): string {
  return name.replace(/:\d+$/, '');
}

/** The weight's kind: the last path component without its slot, e.g. `kernel`. */
function kindOf(name: string): string {
  const parts = withoutSlot(name).split('/');
  return parts[parts.length - 1] ?? name;
}

export function storedElementCount(stored: StoredLayerWeights): number {
  let total = 0;
  for (const weights of stored.values()) {
    for (const weight of weights) total += weight.shape.reduce((a, b) => a * b, 1);
  }
  return total;
}

/**
 * Pairs each model weight of one layer with a stored weight: by exact name when every name
 * matches, otherwise by position with matching kinds. Keras 3 files (no names) pair by position.
 */
function pairWeights(
  file: string,
  layerName: string,
  className: string,
  expected: ModelWeight[],
  stored: StoredWeight[],
  byName: boolean,
): StoredWeight[] {
  if (expected.length !== stored.length) {
    throw badInput(
      file,
      `layer "${layerName}" (${className}): the file has ${stored.length} weights, the model expects ${expected.length}`,
    );
  }
  let paired: StoredWeight[] | undefined;
  if (byName) {
    const storedByName = new Map(stored.map((weight) => [withoutSlot(weight.name), weight]));
    const matches = expected.map((weight) => storedByName.get(weight.originalName));
    if (storedByName.size === stored.length && matches.every((match) => match !== undefined)) {
      paired = matches as StoredWeight[];
    }
  }
  if (paired === undefined) {
    paired = stored;
    if (byName) {
      expected.forEach((weight, index) => {
        const storedKind = kindOf(stored[index]?.name ?? '');
        const expectedKind = kindOf(weight.originalName);
        if (storedKind !== expectedKind) {
          throw badInput(
            file,
            `layer "${layerName}" (${className}): weight ${index + 1} is "${stored[index]?.name}" in the file, the model expects a ${expectedKind}`,
          );
        }
      });
    }
  }
  expected.forEach((weight, index) => {
    const match = paired[index] as StoredWeight;
    if (!sameShape(match.shape, weight.shape)) {
      throw badInput(
        file,
        `layer "${layerName}" (${className}): weight "${match.name}" has shape ${formatShape(match.shape)} in the file, the model expects ${formatShape(weight.shape)}`,
      );
    }
  });
  return paired;
}

export interface AssignOptions {
  /** Match by weight names (Keras 2 files carry them; Keras 3 files do not). */
  byName: boolean;
}

/** Sets every weight of `model` from `stored`; throws `badInput(file, …)` on any mismatch. */
export function assignWeights(
  file: string,
  model: LayersModel,
  stored: StoredLayerWeights,
  options: AssignOptions,
): void {
  const modelLayers = new Set(model.layers.map((layer) => layer.name));
  for (const [name, weights] of stored) {
    if (!modelLayers.has(name) && weights.length > 0) {
      throw badInput(file, `the file has weights for layer "${name}", which the model config does not have`);
    }
  }
  // Check every layer before reading any values.
  const plan = model.layers.map((layer) => {
    const expected: ModelWeight[] = layer.weights.map((weight) => ({
      originalName: weight.originalName,
      shape: weight.shape.map((dim) => dim as number),
    }));
    const storedWeights = stored.get(layer.name);
    if (storedWeights === undefined && expected.length > 0) {
      throw badInput(file, `layer "${layer.name}" (${layer.getClassName()}) has no weights in the file`);
    }
    const paired = pairWeights(
      file,
      layer.name,
      layer.getClassName(),
      expected,
      storedWeights ?? [],
      options.byName,
    );
    return { layer, paired, expected };
  });
  for (const { layer, paired, expected } of plan) {
    if (paired.length === 0) continue;
    const tensors = paired.map((weight, index) =>
      tf.tensor(weight.read(), expected[index]?.shape, 'float32'),
    );
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
}
