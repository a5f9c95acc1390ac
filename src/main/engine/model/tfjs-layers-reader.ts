/**
 * Reader for the TensorFlow.js layers format: `model.json` (`modelTopology` + `weightsManifest`)
 * plus binary shards. Order of checks, all before tfjs allocates anything:
 *   1. model.json: size and depth caps, no prototype keys (safe-json.ts);
 *   2. topology: allow-listed layers and functions (validate-topology.ts);
 *   3. sizes: every layer's weights implied by its config, against caps (infer-shapes.ts);
 *   4. manifest: shapes, dtypes, shard paths inside the folder, shard bytes (weights-manifest.ts);
 *   5. manifest shapes against the shapes the config implies.
 * Only then are the shards read, dequantized by tfjs-core's `io.decodeWeights`, and the model
 * built by stock `tfl.loadLayersModel` from memory, with the cleaned topology.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PollardError, badInput, ioError, unsupported } from '../../../shared/errors';
import { tf, tfl } from '../tf';
import type { LayersModel } from '../tf';
import type { InferredModel, SizeLimits } from './infer-shapes';
import { DEFAULT_SIZE_LIMITS, inferModel } from './infer-shapes';
import { flattenMetadata } from './file-metadata';
import { readPollardMetadata } from './model-metadata';
import { describeReadError, isRecord, readJsonFileSafe } from './safe-json';
import type { LoadedModel, ModelEntry, ModelImporter } from './types';
import { validateTopology } from './validate-topology';
import type { WeightSpec } from './weights-manifest';
import { checkWeightsManifest, readWeightData } from './weights-manifest';

export const MODEL_JSON = 'model.json';

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Build a LayersModel from an untrusted topology (tfjs `modelTopology` or a Keras-2-style model
 * config) and decoded-to-be weights, after every check in this folder. For importers of other
 * formats (Keras) as much as for model.json. `file` names the source in errors.
 */
export async function buildCheckedModel(
  file: string,
  topology: unknown,
  weights: { specs: WeightSpec[]; data: ArrayBuffer } | undefined,
  limits: SizeLimits = DEFAULT_SIZE_LIMITS,
): Promise<{ model: LayersModel; inferred: InferredModel }> {
  const checked = validateTopology(topology, file);
  const inferred = inferModel(checked.model, file, limits);
  const specs = weights?.specs ?? [];
  const implied = new Map<string, { layer: string; shape: number[] }>();
  for (const layer of inferred.layers) {
    for (const w of layer.weights) implied.set(w.name, { layer: layer.name, shape: w.shape });
  }
  let stored = 0;
  for (const spec of specs) {
    if (spec.group === 'optimizer') continue;
    stored += spec.shape.reduce((a, b) => a * b, 1);
    const expected = implied.get(spec.name);
    if (expected !== undefined && formatShape(expected.shape) !== formatShape(spec.shape)) {
      throw badInput(
        file,
        `weight "${spec.name}" has shape ${formatShape(spec.shape)} in the weights, but layer "${expected.layer}" needs ${formatShape(expected.shape)}`,
      );
    }
  }
  if (stored !== inferred.params) {
    throw badInput(file, `the weights hold ${stored} values, but the model's layers need ${inferred.params}`);
  }
  // A failure half-way through tfjs's build must not leak: decoded weights are scope-tracked,
  // and the variables created so far are found by name and disposed.
  const engine = tf.engine();
  const variablesBefore = new Set(Object.keys(engine.registeredVariables));
  engine.startScope();
  let model: LayersModel;
  try {
    model = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: checked.model as unknown as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: specs as tf.io.WeightsManifestEntry[],
        weightData: weights?.data ?? new ArrayBuffer(0),
      }),
    );
  } catch (error) {
    engine.endScope();
    for (const [name, variable] of Object.entries(engine.registeredVariables)) {
      if (!variablesBefore.has(name)) variable.dispose();
    }
    if (error instanceof PollardError) throw error;
    throw badInput(file, `cannot build the model: ${firstLine(error)}`);
  }
  engine.endScope();
  return { model, inferred };
}

/** Open a model.json (path to the file itself). `source` is the path the user gave. */
export async function readTfjsLayersModel(
  modelJson: string,
  source: string = modelJson,
): Promise<LoadedModel> {
  let realJson: string;
  try {
    realJson = await fs.realpath(modelJson);
  } catch (error) {
    throw ioError(modelJson, describeReadError(error));
  }
  const root = await readJsonFileSafe(realJson);
  if (!isRecord(root)) throw badInput(modelJson, 'not a TensorFlow.js model: expected a JSON object');
  if (root.format === 'graph-model') {
    throw unsupported(
      modelJson,
      'TensorFlow.js graph models are not supported: Pollard needs the layer structure; convert the original Keras model with tensorflowjs_converter --input_format=keras (or keras_saved_model) --output_format=tfjs_layers_model',
    );
  }
  if (root.format !== undefined && root.format !== 'layers-model') {
    throw unsupported(modelJson, `unknown TensorFlow.js model format ${JSON.stringify(root.format)}`);
  }
  if (root.modelTopology === undefined || root.modelTopology === null) {
    throw badInput(modelJson, 'not a TensorFlow.js layers model: no modelTopology');
  }
  // Structure and implied sizes first: a refused layer is reported before any shard is touched.
  inferModel(validateTopology(root.modelTopology, modelJson).model, modelJson);
  const manifest = await checkWeightsManifest(root.weightsManifest, path.dirname(realJson), modelJson);
  const data = await readWeightData(manifest);
  const { model } = await buildCheckedModel(modelJson, root.modelTopology, { specs: manifest.specs, data });
  let metadata;
  try {
    metadata = readPollardMetadata(root.userDefinedMetadata, modelJson);
  } catch (error) {
    model.dispose();
    throw error;
  }
  // The rest of userDefinedMetadata (flattenMetadata leaves Pollard's own entry out).
  const fileMetadata = flattenMetadata(root.userDefinedMetadata);
  return {
    model,
    format: 'tfjs-layers',
    source,
    files: [realJson, ...manifest.groups.flatMap((g) => g.files)],
    weightDtypes: manifest.storedDtypes,
    metadata,
    ...(Object.keys(fileMetadata).length > 0 ? { fileMetadata } : {}),
  };
}

/** Cheap look at the start of a .json file: does it look like a tfjs layers model.json? */
function looksLikeTfjsModelJson(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(64 * 1024);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, read).toString('utf8');
    return (
      head.includes('"modelTopology"') ||
      head.includes('"weightsManifest"') ||
      head.includes('"layers-model"')
    );
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export const tfjsLayersImporter: ModelImporter = {
  format: 'tfjs-layers',
  match(entry: ModelEntry): boolean {
    if (entry.isDirectory) {
      return entry.names.includes(MODEL_JSON) && looksLikeTfjsModelJson(path.join(entry.path, MODEL_JSON));
    }
    if (!entry.path.toLowerCase().endsWith('.json')) return false;
    return path.basename(entry.path) === MODEL_JSON || looksLikeTfjsModelJson(entry.path);
  },
  open(entry: ModelEntry): Promise<LoadedModel> {
    const modelJson = entry.isDirectory ? path.join(entry.path, MODEL_JSON) : entry.path;
    return readTfjsLayersModel(modelJson, entry.path);
  },
};
