/**
 * The model registry: a path in, a LoadedModel out. Format factories in Netron's shape: each
 * importer's `match` is cheap and never throws; the first match opens the model. Formats that
 * Pollard refuses (pickles: code execution) or does not read yet get a precise message with
 * what to do instead.
 */
import { withChannelAxis } from './channel-axis';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ModelFormat } from '../../../shared/types';
import { badInput, ioError, unsupported } from '../../../shared/errors';
import { kerasImporters } from './keras';
import { describeReadError } from './safe-json';
import { tfjsLayersImporter } from './tfjs-layers-reader';
import { onnxImporter } from '../onnx/import/importer';
import type { LoadedModel, ModelEntry, ModelImporter } from './types';

export const modelImporters: readonly ModelImporter[] = [tfjsLayersImporter, ...kerasImporters, onnxImporter];

const FORMAT_DESCRIPTIONS: Readonly<Record<ModelFormat, string>> = {
  'tfjs-layers': 'TensorFlow.js layers model (model.json with its shards, or their folder)',
  'keras-h5': 'Keras HDF5 (.h5, .hdf5)',
  'keras-v3': 'Keras 3 (.keras)',
  'keras-weights-h5': 'Keras weights-only .h5 beside its architecture .json',
  onnx: 'ONNX image classifier (.onnx, opset 13, e.g. torch.onnx.export or tf2onnx)',
};

/** The formats the registered importers open, for messages. */
export function supportedFormatsText(): string {
  const formats = [...new Set(modelImporters.map((i) => FORMAT_DESCRIPTIONS[i.format]))];
  return [...formats, 'a Pollard run folder (run.json + model/)'].join('; ');
}

const PICKLE_EXTENSIONS = new Set(['.pt', '.pth', '.pkl', '.pickle', '.ckpt', '.joblib']);

/** Refusals and not-yet-supported formats, decided from the name alone. */
function refuseByName(file: string): void {
  const ext = path.extname(file).toLowerCase();
  const base = path.basename(file).toLowerCase();
  if (PICKLE_EXTENSIONS.has(ext)) {
    throw unsupported(
      file,
      `refused: ${ext} files are Python pickles (PyTorch, Lightning, scikit-learn), and loading a pickle can run arbitrary code. ` +
        `Export the model in a safe format instead (for PyTorch: torch.onnx.export, then open the .onnx). Supported: ${supportedFormatsText()}`,
    );
  }
  if (ext === '.tflite') {
    throw unsupported(
      file,
      `TensorFlow Lite models are not supported: a .tflite file keeps no layer structure to prune or fine-tune; open the Keras model it was converted from. Supported: ${supportedFormatsText()}`,
    );
  }
  if (base === 'saved_model.pb' || base === 'saved_model.pbtxt') {
    throw unsupported(
      file,
      `TensorFlow SavedModel is not supported yet; if it was saved from Keras, convert its folder with tensorflowjs_converter --input_format=keras_saved_model <folder> <out>, or re-save it from Keras as .keras or .h5`,
    );
  }
  if (ext === '.pb') {
    throw unsupported(
      file,
      `TensorFlow frozen graphs (.pb) are not supported: they keep no layer structure; open the Keras model they came from. Supported: ${supportedFormatsText()}`,
    );
  }
}

async function readNames(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort();
  } catch (error) {
    throw ioError(dir, describeReadError(error));
  }
}

/**
 * What an importer is shown for a path. A run folder (`run.json` + `model/`) resolves to its
 * `model/` folder. Throws for missing paths and for formats refused by name.
 */
export async function modelEntry(modelPath: string): Promise<ModelEntry> {
  let stat;
  try {
    stat = await fs.stat(modelPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw ioError(modelPath, code === 'ENOENT' ? 'no such file or folder' : describeReadError(error));
  }
  if (!stat.isDirectory()) {
    refuseByName(modelPath);
    return { path: modelPath, isDirectory: false, names: [] };
  }
  const names = await readNames(modelPath);
  if (names.includes('run.json') && !names.includes('model.json')) {
    const modelDir = path.join(modelPath, 'model');
    const isDir = await fs.stat(modelDir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isDir) {
      throw badInput(
        modelPath,
        'this run folder holds no exported model (model/ is missing): the run failed or is still running',
      );
    }
    return { path: modelDir, isDirectory: true, names: await readNames(modelDir) };
  }
  if (names.includes('saved_model.pb') || names.includes('saved_model.pbtxt')) {
    refuseByName(
      path.join(modelPath, names.includes('saved_model.pb') ? 'saved_model.pb' : 'saved_model.pbtxt'),
    );
  }
  return { path: modelPath, isDirectory: true, names };
}

/** Open any supported model: a folder, a file, or a run folder. */
export async function openModel(modelPath: string): Promise<LoadedModel> {
  const entry = await modelEntry(modelPath);
  const importer = modelImporters.find((candidate) => candidate.match(entry));
  if (importer !== undefined) {
    const loaded = await importer.open(entry);
    return { ...loaded, model: await withChannelAxis(loaded.model), source: modelPath };
  }
  // A .json (or a folder's model.json) nobody claimed: let the tfjs reader say what is wrong with it.
  const unclaimedJson = entry.isDirectory
    ? entry.names.includes('model.json')
    : path.extname(entry.path).toLowerCase() === '.json';
  if (unclaimedJson) {
    const loaded = await tfjsLayersImporter.open(entry);
    return { ...loaded, model: await withChannelAxis(loaded.model), source: modelPath };
  }
  const what = entry.isDirectory
    ? 'this folder holds no model Pollard can open'
    : 'not a model Pollard can open';
  throw unsupported(modelPath, `${what}; supported: ${supportedFormatsText()}`);
}
