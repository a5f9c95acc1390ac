/**
 * Keras importers for the model registry: Keras 2 / tf.keras `.h5` (whole model, or weights
 * only with its architecture JSON beside it), and Keras 3 `.keras`. Export back to Keras 2
 * `.h5` is `saveKerasH5`.
 */
import path from 'node:path';
import { badInput } from '../../../../shared/errors';
import type { ModelEntry, ModelImporter } from '../types';
import { H5_EXTENSIONS, openKerasH5, openKerasWeightsH5 } from './import-h5';
import { openKerasV3 } from './import-keras3';

function isFileWith(entry: ModelEntry, pattern: RegExp): boolean {
  return !entry.isDirectory && pattern.test(entry.path);
}

/** A folder holding exactly one .h5 and one .json: weights-only Keras plus its architecture. */
function weightsAndArchitecture(entry: ModelEntry): { weights: string; architecture: string } | undefined {
  if (!entry.isDirectory) return undefined;
  const weights = entry.names.filter((name) => H5_EXTENSIONS.test(name));
  const jsons = entry.names.filter((name) => name.toLowerCase().endsWith('.json'));
  if (weights.length !== 1 || jsons.length !== 1 || weights[0] === undefined || jsons[0] === undefined)
    return undefined;
  return { weights: path.join(entry.path, weights[0]), architecture: path.join(entry.path, jsons[0]) };
}

export const kerasH5Importer: ModelImporter = {
  format: 'keras-h5',
  match: (entry) => isFileWith(entry, H5_EXTENSIONS),
  open: (entry) => openKerasH5(entry.path),
};

export const kerasV3Importer: ModelImporter = {
  format: 'keras-v3',
  match: (entry) => isFileWith(entry, /\.keras$/i),
  open: (entry) => openKerasV3(entry.path),
};

export const kerasWeightsH5Importer: ModelImporter = {
  format: 'keras-weights-h5',
  match: (entry) => weightsAndArchitecture(entry) !== undefined,
  open: async (entry) => {
    const pair = weightsAndArchitecture(entry);
    if (pair === undefined)
      throw badInput(entry.path, 'is not a folder with one .h5 weights file and one architecture .json');
    return openKerasWeightsH5(pair.weights, pair.architecture);
  },
};

/** Keras importers (.h5, .keras, weights-only .h5 with its architecture JSON). */
export const kerasImporters: ModelImporter[] = [kerasH5Importer, kerasV3Importer, kerasWeightsH5Importer];

export { openKerasH5, openKerasWeightsH5 } from './import-h5';
export { openKerasV3 } from './import-keras3';
export { saveKerasH5, type SaveKerasH5Options } from './export-h5';
