/**
 * What the corpus test computes for one model file: the config-implied parameter count and
 * layer classes (from the stored config alone, before tfjs builds anything), the prediction
 * checksum on a fixed input, and the export → reload comparison.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { checkKerasConfig } from '../../src/main/engine/model/keras/build-keras-model';
import { readStringAttribute, withHdf5File } from '../../src/main/engine/model/keras/hdf5';
import { readKerasArchive } from '../../src/main/engine/model/keras/keras-zip';
import { inferModel } from '../../src/main/engine/model/infer-shapes';
import { isRecord, parseJsonSafe, readJsonFileSafe } from '../../src/main/engine/model/safe-json';
import { validateTopology, type LayerEntry } from '../../src/main/engine/model/validate-topology';
import { tf, type LayersModel } from '../../src/main/engine/tf';

export interface Checksum {
  /** Sum of all outputs. */
  sum: number;
  /** Sum of absolute values. */
  absSum: number;
  /** The first outputs (up to 4). */
  first: number[];
}

/** The model config a file holds and how much it implies, computed without building the model. */
export interface ConfigFacts {
  params: number;
  /** Layer classes, nested models included, e.g. {Conv2D: 2, Dense: 3}. */
  layerCounts: Record<string, number>;
}

function countClasses(entry: LayerEntry, counts: Record<string, number>): void {
  const config = entry.config as { layers?: unknown; layer?: unknown };
  const layers = Array.isArray(config.layers) ? (config.layers as LayerEntry[]) : [];
  for (const layer of layers) {
    counts[layer.class_name] = (counts[layer.class_name] ?? 0) + 1;
    if (Array.isArray((layer.config as { layers?: unknown }).layers)) countClasses(layer, counts);
  }
}

export async function configFacts(file: string, format: string): Promise<ConfigFacts> {
  let model: LayerEntry;
  let params: number;
  if (format === 'tfjs-layers') {
    const json = await readJsonFileSafe(file);
    if (!isRecord(json)) throw new Error(`${file}: not a JSON object`);
    model = validateTopology(json.modelTopology, file).model;
    params = inferModel(model, file).params;
  } else {
    const raw =
      format === 'keras-v3'
        ? parseJsonSafe((await readKerasArchive(file)).config, file)
        : await withHdf5File(file, (h5) =>
            parseJsonSafe(readStringAttribute(file, h5, 'model_config') ?? '', file),
          );
    const checked = checkKerasConfig(file, raw, format === 'keras-v3' ? 'keras3' : 'keras2');
    model = checked.model;
    params = checked.inferred.params;
  }
  const layerCounts: Record<string, number> = {};
  countClasses(model, layerCounts);
  return { params, layerCounts };
}

/**
 * The fixed input: 0.5 + 0.5·sin(0.37·i + k) for input k, a batch of 1 unless the model fixes
 * it. Inputs that feed an Embedding get integers in [0, input_dim) instead.
 */
export function fixedInputs(model: LayersModel): tf.Tensor[] {
  return model.inputs.map((input, k) => {
    const shape = input.shape.map((dim) => dim ?? 1);
    const size = shape.reduce((a, b) => a * b, 1);
    const values = Float64Array.from({ length: size }, (_, i) => 0.5 + 0.5 * Math.sin(0.37 * i + k));
    const consumer = model.layers.find(
      (layer) =>
        layer.getClassName() === 'Embedding' &&
        layer.inboundNodes.some((n) => n.inputTensors.includes(input)),
    );
    if (consumer !== undefined) {
      const inputDim = (consumer.getConfig() as { inputDim: number }).inputDim;
      return tf.tensor(
        Int32Array.from(values, (v) => Math.min(inputDim - 1, Math.floor(v * inputDim))),
        shape,
        'int32',
      );
    }
    return tf.tensor(Float32Array.from(values), shape, 'float32');
  });
}

/** All outputs of `model` on `inputs`, concatenated in output order. */
export async function predictAll(model: LayersModel, inputs: tf.Tensor[]): Promise<Float32Array> {
  const result = model.predict(inputs.length === 1 ? (inputs[0] as tf.Tensor) : inputs);
  const outputs = Array.isArray(result) ? result : [result];
  const parts = await Promise.all(outputs.map((output) => output.data()));
  tf.dispose(outputs);
  const total = parts.reduce((n, part) => n + part.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const part of parts) {
    all.set(part as Float32Array, offset);
    offset += part.length;
  }
  return all;
}

function round(value: number): number {
  return Number(value.toPrecision(6));
}

export function checksum(values: Float32Array): Checksum {
  let sum = 0;
  let absSum = 0;
  for (const v of values) {
    sum += v;
    absSum += Math.abs(v);
  }
  return { sum: round(sum), absSum: round(absSum), first: Array.from(values.slice(0, 4), round) };
}

/** Close to 6 significant digits, with an absolute floor for values near zero. */
export function close(actual: number, expected: number, relative = 1e-4, absolute = 1e-6): boolean {
  return Math.abs(actual - expected) <= Math.max(absolute, relative * Math.abs(expected));
}

export async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

export function resolveCorpusDir(repoRoot: string): string {
  return process.env.POLLARD_CORPUS_DIR ?? path.resolve(repoRoot, '..', 'shared', 'corpus');
}
