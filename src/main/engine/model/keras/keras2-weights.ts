/**
 * Reads weights stored the Keras 2 way (`model.save()` / `model.save_weights()` to .h5): a
 * group (`model_weights`, or the file root for weights-only files) whose `layer_names`
 * attribute lists one subgroup per layer, each with a `weight_names` attribute; every weight is
 * the dataset `<layer>/<weight name>`, e.g. `conv2d/conv2d/kernel:0`.
 */
import { badInput, unsupported } from '../../../../shared/errors';
import {
  getDataset,
  getGroup,
  readStringAttribute,
  readStringListAttribute,
  storedWeight,
  type Group,
  type StoredWeight,
} from './hdf5';

/** Stored weights by layer name, in the file's order. */
export type StoredLayerWeights = Map<string, StoredWeight[]>;

/** Refuses Keras 1 files, whose weight layout and layer arguments differ from Keras 2. */
export function checkKerasVersion(file: string, group: Group): string | undefined {
  const version = readStringAttribute(file, group, 'keras_version');
  if (version !== undefined && /^1\./.test(version)) {
    throw unsupported(file, `was saved by Keras ${version}; load it in Keras 2 and save it again`);
  }
  return version;
}

export function readKeras2Weights(file: string, group: Group): StoredLayerWeights {
  const layerNames = readStringListAttribute(file, group, 'layer_names');
  if (layerNames === undefined) {
    throw badInput(file, `${group.path} has no layer_names attribute, so it holds no Keras weights`);
  }
  const byLayer: StoredLayerWeights = new Map();
  for (const layerName of layerNames) {
    if (byLayer.has(layerName)) throw badInput(file, `layer "${layerName}" is listed twice in layer_names`);
    const layerGroup = getGroup(group, layerName);
    if (layerGroup === undefined)
      throw badInput(file, `layer "${layerName}" is listed but has no weight group`);
    const weightNames = readStringListAttribute(file, layerGroup, 'weight_names') ?? [];
    const weights = weightNames.map((weightName) => {
      const dataset = getDataset(layerGroup, weightName);
      if (dataset === undefined) {
        throw badInput(file, `weight "${weightName}" of layer "${layerName}" is listed but missing`);
      }
      return storedWeight(file, dataset, weightName);
    });
    byLayer.set(layerName, weights);
  }
  return byLayer;
}
