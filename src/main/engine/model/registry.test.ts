import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tfl } from '../tf';
import { modelEntry, openModel, supportedFormatsText } from './registry';
import { saveModel } from './tfjs-layers-writer';

let root: string;
let modelDir: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-registry-'));
  const model = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2, name: 'd' })] });
  modelDir = path.join(root, 'plain');
  await saveModel(model, modelDir, { metadata: { classNames: ['yes', 'no'] } });
  model.dispose();
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function touch(name: string, content = 'x'): Promise<string> {
  const file = path.join(root, name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  return file;
}

describe('openModel', () => {
  it('opens a model folder, its model.json, and a run folder, keeping the path the user gave', async () => {
    const fromDir = await openModel(modelDir);
    expect(fromDir.source).toBe(modelDir);
    expect(fromDir.metadata.classNames).toEqual(['yes', 'no']);
    fromDir.model.dispose();

    const file = path.join(modelDir, 'model.json');
    const fromFile = await openModel(file);
    expect(fromFile.source).toBe(file);
    expect(fromFile.model.countParams()).toBe(8);
    fromFile.model.dispose();

    const run = path.join(root, 'run1');
    await fs.mkdir(run);
    await fs.writeFile(path.join(run, 'run.json'), '{}');
    await fs.cp(modelDir, path.join(run, 'model'), { recursive: true });
    const entry = await modelEntry(run);
    expect(entry.path).toBe(path.join(run, 'model'));
    expect(entry.names).toEqual(['group1-shard1of1.bin', 'model.json']);
    const fromRun = await openModel(run);
    expect(fromRun.source).toBe(run);
    expect(fromRun.files[0]).toBe(await fs.realpath(path.join(run, 'model', 'model.json')));
    fromRun.model.dispose();
  });

  it('says when a run folder has no exported model yet', async () => {
    const run = path.join(root, 'run-failed');
    await fs.mkdir(run);
    await fs.writeFile(path.join(run, 'run.json'), '{}');
    await expect(openModel(run)).rejects.toThrow(
      `${run}: this run folder holds no exported model (model/ is missing): the run failed or is still running`,
    );
  });

  it.each(['.pt', '.pth', '.pkl', '.ckpt'])(
    'refuses %s pickles with the reason and the supported formats',
    async (ext) => {
      const file = await touch(`weights${ext}`);
      await expect(openModel(file)).rejects.toThrow(
        `${file}: refused: ${ext} files are Python pickles (PyTorch, Lightning, scikit-learn), and loading a pickle can run arbitrary code. ` +
          `Export the model in a safe format instead (for PyTorch: torch.onnx.export, then open the .onnx). Supported: ${supportedFormatsText()}`,
      );
    },
  );

  it('explains a corrupt ONNX file, TFLite, SavedModel and frozen graphs', async () => {
    const onnx = await touch('m.onnx');
    await expect(openModel(onnx)).rejects.toThrow(
      `${onnx}: truncated or corrupt ONNX file: model: a varint runs past the end of the data`,
    );
    const tflite = await touch('m.tflite');
    await expect(openModel(tflite)).rejects.toThrow(`${tflite}: TensorFlow Lite models are not supported`);
    const savedModel = path.dirname(await touch('sm/saved_model.pb'));
    await expect(openModel(savedModel)).rejects.toThrow(
      `${path.join(savedModel, 'saved_model.pb')}: TensorFlow SavedModel is not supported yet; if it was saved from Keras, convert its folder with tensorflowjs_converter --input_format=keras_saved_model <folder> <out>, or re-save it from Keras as .keras or .h5`,
    );
    const frozen = await touch('frozen.pb');
    await expect(openModel(frozen)).rejects.toThrow(
      `${frozen}: TensorFlow frozen graphs (.pb) are not supported`,
    );
  });

  it('lists the supported formats for anything else', async () => {
    const text = await touch('notes.txt');
    await expect(openModel(text)).rejects.toThrow(
      `${text}: not a model Pollard can open; supported: ${supportedFormatsText()}`,
    );
    const empty = path.join(root, 'empty');
    await fs.mkdir(empty);
    await expect(openModel(empty)).rejects.toThrow(
      `${empty}: this folder holds no model Pollard can open; supported:`,
    );
    expect(supportedFormatsText()).toContain(
      'TensorFlow.js layers model (model.json with its shards, or their folder)',
    );
  });

  it('lets the tfjs reader explain a JSON file that is not a model', async () => {
    const json = await touch('arch.json', '{"class_name": "Sequential"}');
    await expect(openModel(json)).rejects.toThrow(
      `${json}: not a TensorFlow.js layers model: no modelTopology`,
    );
    const inFolder = await touch('odd/model.json', '{"class_name": "Sequential"}');
    await expect(openModel(path.dirname(inFolder))).rejects.toThrow(
      `${inFolder}: not a TensorFlow.js layers model: no modelTopology`,
    );
  });

  it('names a path that does not exist', async () => {
    const missing = path.join(root, 'nope');
    await expect(openModel(missing)).rejects.toThrow(`${missing}: no such file or folder`);
  });
});
