/**
 * The table of layer knowledge: one entry per layer class (types.ts), grouped in one file per
 * family. Everything that asks about a layer class — is it allowed, what shape and weights does
 * it have, how many MACs, what does the pruner do with it, how are its weights sliced — asks here.
 * `registerLayer` adds a class (a custom tfjs layer registered with tf.serialization), like
 * Torch-Pruning's `register_customized_layer`.
 */
import { ACTIVATION_LAYERS } from './activation';
import { CONV_LAYERS } from './conv';
import { CORE_LAYERS } from './core';
import { MERGE_LAYERS } from './merge';
import { MODEL_LAYERS } from './models';
import { NORM_LAYERS } from './norm';
import { POOLING_LAYERS } from './pooling';
import { RECURRENT_LAYERS } from './recurrent';
import { REFUSED_LAYERS } from './refused';
import { REGULARIZATION_LAYERS } from './regularization';
import { RESHAPE_LAYERS } from './reshape';
import { SPATIAL_LAYERS } from './spatial';
import type { LayerKnowledge, MacsInput } from './types';

const table = new Map<string, LayerKnowledge>();

/** The order of the documentation's groups (docs/layers.md); a new group goes last. */
const GROUP_ORDER = [
  'Core',
  'Convolution',
  'Pooling',
  'Normalization',
  'Activation layers',
  'Regularization (no effect at inference)',
  'Merging',
  'Recurrent',
  'Preprocessing',
  'Nested models',
];

/**
 * Add a layer class. Returns a function that removes it again (tests). Refuses a class that is
 * already supported: one class, one entry.
 */
export function registerLayer(entry: LayerKnowledge): () => void {
  const existing = table.get(entry.className);
  if (existing !== undefined && existing.refused === undefined) {
    throw new Error(`layer class ${entry.className} is already registered`);
  }
  table.set(entry.className, entry);
  return () => {
    if (table.get(entry.className) !== entry) return;
    if (existing !== undefined) table.set(entry.className, existing);
    else table.delete(entry.className);
  };
}

for (const family of [
  CORE_LAYERS,
  RESHAPE_LAYERS,
  CONV_LAYERS,
  SPATIAL_LAYERS,
  POOLING_LAYERS,
  NORM_LAYERS,
  ACTIVATION_LAYERS,
  REGULARIZATION_LAYERS,
  MERGE_LAYERS,
  RECURRENT_LAYERS,
  MODEL_LAYERS,
  REFUSED_LAYERS,
]) {
  for (const entry of family) registerLayer(entry);
}

/** The entry of a supported class (undefined for refused and unknown ones). */
export function layerKnowledge(className: string): LayerKnowledge | undefined {
  const entry = table.get(className);
  return entry?.refused === undefined ? entry : undefined;
}

export function isSupportedLayer(className: string): boolean {
  return layerKnowledge(className) !== undefined;
}

/** A model nested inside a model (Sequential, Model, Functional). */
export function isContainerLayer(className: string): boolean {
  return layerKnowledge(className)?.container === true;
}

/** Every supported entry, in registration order. */
export function supportedLayers(): LayerKnowledge[] {
  return [...table.values()].filter((entry) => entry.refused === undefined);
}

export interface LayerGroup {
  title: string;
  layers: string[];
}

/** Supported classes by documentation group, groups in GROUP_ORDER, classes sorted by name. */
export function supportedLayerGroups(): LayerGroup[] {
  const groups = new Map<string, string[]>(GROUP_ORDER.map((title) => [title, []]));
  for (const entry of supportedLayers()) {
    const layers = groups.get(entry.group) ?? [];
    layers.push(entry.className);
    groups.set(entry.group, layers);
  }
  return [...groups]
    .filter(([, layers]) => layers.length > 0)
    .map(([title, layers]) => ({ title, layers: layers.sort() }));
}

/** Refused classes and why. */
export function refusedLayers(): [string, string][] {
  return [...table.values()].flatMap((entry) =>
    entry.refused === undefined ? [] : [[entry.className, entry.refused] as [string, string]],
  );
}

/** Why a class is refused: its own hint, or the generic one. */
export function refusedLayerHint(className: string): string {
  return (
    table.get(className)?.refused ??
    'custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens'
  );
}

/** MACs of one call of a (non-container) layer, for one sample (docs/macs.md); unknown classes 0. */
export function macsOf(layer: MacsInput): number {
  if (layer.inputShapes[0] === undefined || layer.outputShapes[0] === undefined) return 0;
  return layerKnowledge(layer.className)?.macs?.(layer, macsOf) ?? 0;
}
