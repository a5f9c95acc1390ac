/**
 * Writes a tfjs model as a Keras 2 / tf.keras whole-model `.h5`, the layout `keras.models.
 * load_model` reads: root attributes `model_config` (the Keras JSON config), `keras_version`
 * and `backend`; group `model_weights` with `layer_names`, and per layer a group with
 * `weight_names` and one dataset per weight at `<layer>/<weight name>:0`. The file is written
 * beside the target under a temporary name, synced, and renamed over it.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Group } from 'h5wasm/node';
import { h5wasmLoaded, loadH5wasm } from './h5wasm-loader';
import { ioError, PollardError } from '../../../../shared/errors';
import type { LayersModel } from '../../tf';

export interface SaveKerasH5Options {
  /** Written as `keras_version`; Keras reads only its major version. */
  kerasVersion?: string;
}

/** Keras 2's tf.keras release that Pollard's files are checked against. */
export const EXPORTED_KERAS_VERSION = '2.15.0';

/** Fixed-length ASCII, as Keras 2 writes its name lists (numpy `S` arrays). */
function createNameList(group: Group, name: string, values: string[]): void {
  if (values.length === 0) {
    group.create_attribute(name, new Uint8Array(0), [0], 'A1');
    return;
  }
  const width = Math.max(1, ...values.map((value) => Buffer.byteLength(value, 'ascii')));
  group.create_attribute(name, values, [values.length], `A${width}`);
}

/** Creates the groups on the way to `datasetPath` (weight names contain slashes). */
function ensureParents(root: Group, datasetPath: string): void {
  const parts = datasetPath.split('/').slice(0, -1);
  let current = root;
  for (const part of parts) {
    const existing = current.keys().includes(part) ? current.get(part) : null;
    current = existing instanceof h5wasmLoaded().Group ? existing : current.create_group(part);
  }
}

/** The Keras config of `model`: `{class_name, config}` without tfjs's version fields. */
export function kerasModelConfig(model: LayersModel): { class_name: string; config: unknown } {
  const json = model.toJSON(null, false) as { class_name: string; config: unknown };
  return { class_name: json.class_name, config: json.config };
}

function checkName(file: string, name: string): void {
  if (!/^[\x20-\x7e]+$/.test(name)) throw ioError(file, `layer or weight name "${name}" is not plain ASCII`);
}

async function writeH5(
  model: LayersModel,
  target: string,
  file: string,
  kerasVersion: string,
): Promise<void> {
  const layerValues = await Promise.all(
    model.layers.map(async (layer) => Promise.all(layer.weights.map(async (weight) => weight.read().data()))),
  );
  const h5wasm = await loadH5wasm();
  const h5 = new h5wasm.File(target, 'w');
  try {
    h5.create_attribute('keras_version', kerasVersion);
    h5.create_attribute('backend', 'tensorflow');
    h5.create_attribute('model_config', JSON.stringify(kerasModelConfig(model)));
    const weightsGroup = h5.create_group('model_weights');
    weightsGroup.create_attribute('keras_version', kerasVersion);
    weightsGroup.create_attribute('backend', 'tensorflow');
    const layerNames = model.layers.map((layer) => layer.name);
    layerNames.forEach((name) => checkName(file, name));
    createNameList(weightsGroup, 'layer_names', layerNames);
    model.layers.forEach((layer, layerIndex) => {
      const group = weightsGroup.create_group(layer.name);
      const weightNames = layer.weights.map((weight) => `${weight.originalName}:0`);
      weightNames.forEach((name) => checkName(file, name));
      createNameList(group, 'weight_names', weightNames);
      layer.weights.forEach((weight, index) => {
        const name = weightNames[index] as string;
        ensureParents(group, name);
        const values = layerValues[layerIndex]?.[index];
        if (!(values instanceof Float32Array)) throw ioError(file, `weight ${name} is not float32`);
        group.create_dataset({ name, data: values, shape: weight.shape as number[], dtype: '<f4' });
      });
    });
  } finally {
    h5.close();
  }
}

/** Writes `model` to `file` as a Keras 2 `.h5`, atomically. Throws `ioError(file, …)` on failure. */
export async function saveKerasH5(
  model: LayersModel,
  file: string,
  options: SaveKerasH5Options = {},
): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.access(dir);
    await writeH5(model, temp, file, options.kerasVersion ?? EXPORTED_KERAS_VERSION);
    const handle = await fs.open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => undefined);
    if (error instanceof PollardError) throw error;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const reason =
      code === 'ENOENT'
        ? 'folder does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ENOSPC'
            ? 'no space left on the device'
            : error instanceof Error
              ? error.message
              : String(error);
    throw ioError(file, `could not write: ${reason}`);
  }
}
