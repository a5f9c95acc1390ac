/**
 * Reads `model.weights.h5` from a Keras 3 `.keras` archive. Keras 3 stores no weight names:
 * each layer's variables are `layers/<layer>/vars/0`, `1`, … in creation order, with the
 * variables of sub-objects under their attribute names (`cell/vars` for recurrent layers,
 * `forward_layer`/`backward_layer` for Bidirectional, `layer` for TimeDistributed) and nested
 * models under `layers/<model>/layers/<layer>`. The order is the one tfjs gives `layer.weights`,
 * so the weights are matched by layer name, then by position, and every shape is checked.
 */
import { badInput } from '../../../../shared/errors';
import { isRecord } from '../safe-json';
import { MODEL_CLASSES } from '../supported-layers';
import {
  childDatasets,
  childGroups,
  getDataset,
  getGroup,
  storedWeight,
  type Group,
  type StoredWeight,
} from './hdf5';
import type { StoredLayerWeights } from './keras2-weights';

type JsonRecord = Record<string, unknown>;

/** Sub-objects whose variables belong to a layer, in the order tfjs lists their weights. */
const SUB_OBJECTS = ['cell', 'forward_layer', 'backward_layer', 'layer'];
/** Where Keras 3 puts a model's layers (older 3.0 betas used the checkpoint name). */
const LAYER_CONTAINERS = ['layers', '_layer_checkpoint_dependencies'];

function layersOf(model: JsonRecord): JsonRecord[] {
  const config = model.config;
  const layers = Array.isArray(config) ? config : isRecord(config) ? config.layers : undefined;
  return Array.isArray(layers) ? layers.filter(isRecord) : [];
}

function layerName(layer: JsonRecord): string {
  const config = layer.config;
  if (isRecord(config) && typeof config.name === 'string') return config.name;
  return typeof layer.name === 'string' ? layer.name : '';
}

class Keras3WeightReader {
  constructor(private readonly file: string) {}

  /** Weights of each top-level layer of `model`, found under `group`. */
  model(group: Group, model: JsonRecord): StoredLayerWeights {
    const byLayer: StoredLayerWeights = new Map();
    const container = this.layerContainer(group);
    for (const layer of layersOf(model)) {
      const name = layerName(layer);
      const layerGroup = container === undefined ? undefined : getGroup(container, name);
      byLayer.set(name, layerGroup === undefined ? [] : this.layer(layerGroup, layer));
    }
    for (const child of container === undefined ? [] : childGroups(container)) {
      const stray = byLayer.has(child) ? undefined : getGroup(container as Group, child);
      if (stray !== undefined && this.countVariables(stray) > 0) {
        throw badInput(
          this.file,
          `model.weights.h5 holds weights for layer "${child}", which the config does not have`,
        );
      }
    }
    return byLayer;
  }

  private layerContainer(group: Group): Group | undefined {
    for (const name of LAYER_CONTAINERS) {
      const container = getGroup(group, name);
      if (container !== undefined) return container;
    }
    return undefined;
  }

  /** All variables of one layer, depth first: its own, then its sub-objects', then nested layers'. */
  private layer(group: Group, layer: JsonRecord): StoredWeight[] {
    const weights = this.ownVariables(group);
    const className = typeof layer.class_name === 'string' ? layer.class_name : '';
    const known = new Set(['vars']);
    if (MODEL_CLASSES.has(className)) {
      const nested = this.model(group, layer);
      for (const list of nested.values()) weights.push(...list);
      for (const name of LAYER_CONTAINERS) known.add(name);
    } else {
      for (const name of SUB_OBJECTS) {
        const sub = getGroup(group, name);
        if (sub === undefined) continue;
        known.add(name);
        const config = isRecord(layer.config) ? layer.config : {};
        const subLayer = isRecord(config[name]) ? (config[name] as JsonRecord) : { class_name: name };
        weights.push(...this.layer(sub, subLayer));
      }
    }
    for (const child of childGroups(group)) {
      if (known.has(child)) continue;
      const stray = getGroup(group, child);
      if (stray !== undefined && this.countVariables(stray) > 0) {
        throw badInput(this.file, `model.weights.h5: unexpected weights under ${stray.path}`);
      }
    }
    return weights;
  }

  private ownVariables(group: Group): StoredWeight[] {
    const vars = getGroup(group, 'vars');
    if (vars === undefined) return [];
    const names = childDatasets(vars);
    const indices = names.map((name) => Number(name));
    if (!indices.every((index) => Number.isInteger(index) && index >= 0)) {
      throw badInput(this.file, `model.weights.h5: ${vars.path} holds variables that are not numbered`);
    }
    indices.sort((a, b) => a - b);
    return indices.map((index, position) => {
      if (index !== position)
        throw badInput(this.file, `model.weights.h5: ${vars.path}/${position} is missing`);
      const dataset = getDataset(vars, String(index));
      if (dataset === undefined)
        throw badInput(this.file, `model.weights.h5: ${vars.path}/${index} is missing`);
      return storedWeight(this.file, dataset, `${vars.path}/${index}`);
    });
  }

  private countVariables(group: Group): number {
    let count = childDatasets(group).length;
    for (const child of childGroups(group)) {
      const sub = getGroup(group, child);
      if (sub !== undefined) count += this.countVariables(sub);
    }
    return count;
  }
}

/** Stored weights by top-level layer name. `model` is the translated `{class_name, config}`. */
export function readKeras3Weights(file: string, root: Group, model: JsonRecord): StoredLayerWeights {
  return new Keras3WeightReader(file).model(root, model);
}
