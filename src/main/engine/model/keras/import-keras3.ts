/**
 * Keras 3 native `.keras` files (also written by tf.keras 2.13–2.15): a zip holding
 * `config.json`, `metadata.json` and `model.weights.h5`. The zip is checked before anything is
 * inflated, the config is translated to the Keras 2 layout, and the weights are read from a
 * private temporary copy of `model.weights.h5` (h5wasm reads files, not buffers, in Node).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { badInput } from '../../../../shared/errors';
import { isRecord, parseJsonSafe } from '../safe-json';
import type { LoadedModel } from '../types';
import { buildWithWeights, checkKerasConfig } from './build-keras-model';
import { withHdf5File } from './hdf5';
import type { StoredLayerWeights } from './keras2-weights';
import { readKeras3Weights } from './keras3-weights';
import { readKerasArchive } from './keras-zip';

/** The Keras version that wrote the archive, from metadata.json (for display only). */
function kerasVersionOf(file: string, metadata: Uint8Array | undefined): string | undefined {
  if (metadata === undefined) return undefined;
  const parsed = parseJsonSafe(metadata, `${file} (metadata.json)`);
  return isRecord(parsed) && typeof parsed.keras_version === 'string' ? parsed.keras_version : undefined;
}

async function withTemporaryFile<T>(bytes: Uint8Array, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-keras-'));
  const file = path.join(dir, `model-${randomBytes(4).toString('hex')}.weights.h5`);
  try {
    await fs.writeFile(file, bytes, { mode: 0o600 });
    return await use(file);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function openKerasV3(file: string): Promise<LoadedModel> {
  const archive = await readKerasArchive(file);
  const kerasVersion = kerasVersionOf(file, archive.metadata);
  const checked = checkKerasConfig(file, parseJsonSafe(archive.config, `${file} (config.json)`), 'keras3');
  const build = async (stored: StoredLayerWeights): Promise<LoadedModel> => {
    const model = await buildWithWeights(file, checked, stored, { byName: false });
    const dtypes = new Set([...stored.values()].flat().map((weight) => weight.dtype));
    return {
      model,
      format: 'keras-v3',
      source: file,
      files: [file],
      weightDtypes: [...dtypes].sort(),
      metadata: kerasVersion === undefined ? {} : { producedBy: { keras_version: kerasVersion } },
    };
  };
  const weights = archive.weights;
  if (weights === undefined) {
    if (checked.inferred.params > 0)
      throw badInput(file, 'has no model.weights.h5, but its model has weights');
    return build(new Map());
  }
  // Values are read while the temporary copy exists, after every shape has been checked.
  return withTemporaryFile(weights, (weightsPath) =>
    withHdf5File(
      weightsPath,
      (h5) => build(readKeras3Weights(file, h5, checked.model)),
      `${file} (model.weights.h5)`,
    ),
  );
}
