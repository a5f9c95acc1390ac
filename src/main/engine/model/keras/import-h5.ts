/**
 * Keras 2 / tf.keras HDF5 files (`.h5`, `.hdf5`): the whole-model save (`model_config`
 * attribute + `model_weights` group), and the weights-only save (`layer_names` at the root)
 * when the architecture JSON lies beside it (Keras `model.to_json()` or a tfjs model.json).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput } from '../../../../shared/errors';
import type { ModelFormat } from '../../../../shared/types';
import { isRecord, parseJsonSafe, readJsonFileSafe } from '../safe-json';
import type { LoadedModel, ModelMetadata } from '../types';
import { buildWithWeights, checkKerasConfig } from './build-keras-model';
import { getGroup, hasAttribute, readStringAttribute, withHdf5File, type H5File } from './hdf5';
import { checkKerasVersion, readKeras2Weights, type StoredLayerWeights } from './keras2-weights';

export const H5_EXTENSIONS = /\.(h5|hdf5)$/i;

function dtypesOf(stored: StoredLayerWeights): string[] {
  const dtypes = new Set<string>();
  for (const weights of stored.values()) for (const weight of weights) dtypes.add(weight.dtype);
  return [...dtypes].sort();
}

/**
 * Teachable Machine and many tutorials ship `labels.txt` beside the model, one class a line,
 * optionally numbered ("0 PLASTIC"). Used only when its line count equals the output units.
 */
async function classNamesBeside(file: string, classes: number): Promise<string[] | undefined> {
  const labels = path.join(path.dirname(file), 'labels.txt');
  try {
    const stat = await fs.stat(labels);
    if (!stat.isFile() || stat.size > 1024 * 1024) return undefined;
    const lines = (await fs.readFile(labels, 'utf8')).split(/\r?\n/).filter((line) => line.trim() !== '');
    if (lines.length !== classes) return undefined;
    const numbered = lines.every((line, index) => line.startsWith(`${index} `));
    return lines.map((line) => (numbered ? line.slice(line.indexOf(' ') + 1) : line).trim());
  } catch {
    return undefined;
  }
}

async function loaded(
  file: string,
  files: string[],
  format: ModelFormat,
  model: LoadedModel['model'],
  stored: StoredLayerWeights,
): Promise<LoadedModel> {
  const metadata: ModelMetadata = {};
  const outputShape = model.outputs[0]?.shape ?? [];
  const classes = outputShape[outputShape.length - 1];
  if (model.outputs.length === 1 && typeof classes === 'number') {
    const classNames = await classNamesBeside(file, classes);
    if (classNames !== undefined) metadata.classNames = classNames;
  }
  return { model, format, source: file, files, weightDtypes: dtypesOf(stored), metadata };
}

/** The architecture file for a weights-only .h5: `<base>.json`, else the only .json beside it. */
export async function findArchitectureBeside(weightsFile: string): Promise<string | undefined> {
  const dir = path.dirname(weightsFile);
  const base = path.basename(weightsFile).replace(H5_EXTENSIONS, '');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return undefined;
  }
  const jsons = names.filter((name) => name.toLowerCase().endsWith('.json'));
  const sameBase = jsons.find((name) => name.slice(0, -5) === base);
  if (sameBase !== undefined) return path.join(dir, sameBase);
  return jsons.length === 1 && jsons[0] !== undefined ? path.join(dir, jsons[0]) : undefined;
}

/** Opens a Keras 2 whole-model .h5, or a weights-only .h5 with its architecture JSON beside it. */
export async function openKerasH5(file: string): Promise<LoadedModel> {
  const weightsOnly = await withHdf5File(file, (h5) => {
    checkKerasVersion(file, h5);
    return !hasAttribute(h5, 'model_config') && hasAttribute(h5, 'layer_names');
  });
  if (weightsOnly) {
    const architecture = await findArchitectureBeside(file);
    if (architecture === undefined) {
      throw badInput(
        file,
        `is a weights-only Keras file (model.save_weights): put the architecture JSON from model.to_json() beside it as ${path.basename(file).replace(H5_EXTENSIONS, '')}.json`,
      );
    }
    return openKerasWeightsH5(file, architecture);
  }
  return withHdf5File(file, async (h5) => {
    const configText = readStringAttribute(file, h5, 'model_config');
    if (configText === undefined) {
      throw badInput(file, 'is an HDF5 file without a model_config attribute, so not a Keras model');
    }
    const checked = checkKerasConfig(file, parseJsonSafe(configText, file), 'keras2');
    const group = getGroup(h5, 'model_weights');
    if (group === undefined) throw badInput(file, 'has a model_config but no model_weights group');
    checkKerasVersion(file, group);
    const stored = readKeras2Weights(file, group);
    const model = await buildWithWeights(file, checked, stored, { byName: true });
    return loaded(file, [file], 'keras-h5', model, stored);
  });
}

/**
 * The model config inside an architecture JSON: Keras `model.to_json()` (`{class_name,
 * config}`) or a tfjs model.json (`{modelTopology: {model_config?}}`).
 */
export function architectureConfig(file: string, json: unknown): unknown {
  if (!isRecord(json)) throw badInput(file, 'is not a JSON object');
  if (isRecord(json.modelTopology)) {
    const topology = json.modelTopology;
    return topology.model_config !== undefined ? topology.model_config : topology;
  }
  if (json.model_config !== undefined) return json.model_config;
  if (typeof json.class_name === 'string') return json;
  throw badInput(file, 'is neither a Keras architecture (model.to_json()) nor a TensorFlow.js model.json');
}

/** A weights-only .h5 (`model.save_weights`) with the architecture from `architectureFile`. */
export async function openKerasWeightsH5(
  weightsFile: string,
  architectureFile: string,
): Promise<LoadedModel> {
  const raw = architectureConfig(architectureFile, await readJsonFileSafe(architectureFile));
  const checked = checkKerasConfig(architectureFile, raw, 'keras2');
  return withHdf5File(weightsFile, async (h5: H5File) => {
    checkKerasVersion(weightsFile, h5);
    const stored = readKeras2Weights(weightsFile, h5);
    const model = await buildWithWeights(weightsFile, checked, stored, { byName: true });
    return loaded(weightsFile, [architectureFile, weightsFile], 'keras-weights-h5', model, stored);
  });
}
