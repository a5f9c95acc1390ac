/**
 * Test helpers: write Keras-layout HDF5 files and `.keras` zips from plain data, so tests
 * build their fixtures (good and malicious) instead of committing binaries.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import h5wasm from 'h5wasm/node';
import type { Group } from 'h5wasm/node';

export interface FixtureWeight {
  name: string;
  shape: number[];
  values: number[];
}

export async function makeTempDir(prefix = 'pollard-keras-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

function ensureGroup(root: Group, groupPath: string): Group {
  let current = root;
  for (const part of groupPath.split('/').filter((p) => p !== '')) {
    const existing = current.keys().includes(part) ? current.get(part) : null;
    current = existing instanceof h5wasm.Group ? existing : current.create_group(part);
  }
  return current;
}

function nameList(group: Group, attribute: string, names: string[]): void {
  if (names.length === 0) group.create_attribute(attribute, new Uint8Array(0), [0], 'A1');
  else
    group.create_attribute(attribute, names, [names.length], `A${Math.max(...names.map((n) => n.length))}`);
}

function dataset(group: Group, datasetPath: string, weight: Pick<FixtureWeight, 'shape' | 'values'>): void {
  const parent = datasetPath.split('/').slice(0, -1).join('/');
  const target = parent === '' ? group : ensureGroup(group, parent);
  target.create_dataset({
    name: datasetPath.split('/').pop() as string,
    data: Float32Array.from(weight.values),
    shape: weight.shape,
    dtype: '<f4',
  });
}

/**
 * A Keras 2 `.h5`: `modelConfig` as the `model_config` attribute (omit it for a weights-only
 * file) and `layers` (in order) as the `model_weights` group (or the root, weights-only).
 */
export async function writeKeras2H5(
  file: string,
  modelConfig: unknown,
  layers: [string, FixtureWeight[]][],
  options: { weightsOnly?: boolean; kerasVersion?: string } = {},
): Promise<void> {
  await h5wasm.ready;
  const h5 = new h5wasm.File(file, 'w');
  try {
    const version = options.kerasVersion ?? '2.10.0';
    let group: Group = h5;
    if (!options.weightsOnly) {
      h5.create_attribute('keras_version', version);
      h5.create_attribute('backend', 'tensorflow');
      h5.create_attribute(
        'model_config',
        typeof modelConfig === 'string' ? modelConfig : JSON.stringify(modelConfig),
      );
      group = h5.create_group('model_weights');
    }
    group.create_attribute('keras_version', version);
    group.create_attribute('backend', 'tensorflow');
    nameList(
      group,
      'layer_names',
      layers.map(([name]) => name),
    );
    for (const [layerName, weights] of layers) {
      const layerGroup = group.create_group(layerName);
      nameList(
        layerGroup,
        'weight_names',
        weights.map((w) => w.name),
      );
      for (const weight of weights) dataset(layerGroup, weight.name, weight);
    }
  } finally {
    h5.close();
  }
}

/** A Keras 3 `model.weights.h5`: `vars` maps a path such as `layers/dense/vars` to its variables. */
export async function writeKeras3Weights(file: string, vars: Record<string, FixtureWeight[]>): Promise<void> {
  await h5wasm.ready;
  const h5 = new h5wasm.File(file, 'w');
  try {
    for (const [groupPath, weights] of Object.entries(vars)) {
      const group = ensureGroup(h5, groupPath);
      weights.forEach((weight, index) => dataset(group, String(index), weight));
    }
  } finally {
    h5.close();
  }
}

/** A `.keras` zip from named members (strings are written as UTF-8). */
export async function writeZip(file: string, members: Record<string, string | Uint8Array>): Promise<void> {
  const zippable: Zippable = {};
  for (const [name, content] of Object.entries(members)) {
    zippable[name] = [
      typeof content === 'string' ? new TextEncoder().encode(content) : content,
      { level: 0 },
    ];
  }
  await fs.writeFile(file, zipSync(zippable));
}

/** A complete `.keras`: config.json, metadata.json and model.weights.h5 built from `vars`. */
export async function writeKeras3File(
  file: string,
  config: unknown,
  vars: Record<string, FixtureWeight[]>,
  kerasVersion = '3.8.0',
): Promise<void> {
  const weightsFile = `${file}.weights.h5`;
  await writeKeras3Weights(weightsFile, vars);
  const weights = await fs.readFile(weightsFile);
  await fs.rm(weightsFile);
  await writeZip(file, {
    'metadata.json': JSON.stringify({ keras_version: kerasVersion, date_saved: '2025-01-01@00:00:00' }),
    'config.json': JSON.stringify(config),
    'model.weights.h5': weights,
  });
}
