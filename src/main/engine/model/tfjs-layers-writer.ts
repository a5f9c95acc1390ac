/**
 * Writer for the TensorFlow.js layers format, in the layout `tensorflowjs_converter` and
 * `model.save('file://…')` produce: `model.json` + `group1-shard1ofN.bin` … (4 MB shards by
 * default), optionally with weights quantized in the manifest (weight-quantization.ts), so that
 * stock `tf.loadLayersModel` reads the result. The folder is written atomically: into a
 * temporary sibling, then renamed over `dir`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput, ioError } from '../../../shared/errors';
import { replaceDirectoryAtomic } from '../../util/atomic';
import { tf, tfl } from '../tf';
import type { LayersModel } from '../tf';
import { pollardMetadataEntry } from './model-metadata';
import { validateTopology } from './validate-topology';
import type { ModelMetadata } from './types';
import type { StoredDtype } from './weights-manifest';
import type { ManifestQuantization, WeightQuantization } from './weight-quantization';
import { quantizeWeight } from './weight-quantization';

export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

export interface SaveModelOptions {
  /** Store float32 weights as float16, or affine uint16/uint8 (per tensor). */
  quantize?: WeightQuantization;
  metadata?: ModelMetadata;
  /** Largest shard, in bytes (default 4 MB, as the tfjs converter). */
  shardBytes?: number;
}

export interface SavedModel {
  dir: string;
  modelJson: string;
  /** model.json first, then the shards in order. */
  files: string[];
  /** Bytes of every file written. */
  bytes: number;
  /** Bytes of the weight shards alone. */
  weightBytes: number;
  weightDtypes: StoredDtype[];
}

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: ManifestQuantization;
}

async function writeDurable(file: string, data: string | Uint8Array): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function joinWeightData(data: ArrayBuffer | ArrayBuffer[] | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
}

/** Capture exactly what `model.save` would write (topology, named weights), without a file handler. */
async function captureArtifacts(model: LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (captured === undefined) throw new Error('model.save did not hand over its artifacts');
  return captured;
}

/** Every layer, nested models included. */
function allLayers(model: LayersModel): LayersModel['layers'] {
  return model.layers.flatMap((layer) =>
    layer instanceof tfl.LayersModel ? [layer, ...allLayers(layer)] : [layer],
  );
}

/**
 * tfjs's SeparableConv2D.getConfig omits depth_multiplier, so a multiplier above 1 would be
 * lost on save and the model would not load again. Put it back from the depthwise kernel
 * ([kh, kw, in, multiplier]) into every SeparableConv2D config of the topology.
 */
function restoreDepthMultipliers(topology: unknown, model: LayersModel): void {
  const multipliers = new Map<string, number>();
  for (const layer of allLayers(model)) {
    if (layer.getClassName() !== 'SeparableConv2D') continue;
    const depthwise = layer.weights.find((w) => w.originalName.endsWith('depthwise_kernel'));
    const multiplier = depthwise?.shape[3];
    if (typeof multiplier === 'number') multipliers.set(layer.name, multiplier);
  }
  if (multipliers.size === 0) return;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    const config = record.config as Record<string, unknown> | undefined;
    if (record.class_name === 'SeparableConv2D' && config !== undefined && typeof config.name === 'string') {
      const multiplier = multipliers.get(config.name);
      if (multiplier !== undefined) config.depth_multiplier = multiplier;
    }
    Object.values(record).forEach(visit);
  };
  visit(topology);
}

/**
 * Save `model` to `dir` (replaced atomically). Returns what was written. Throws
 * PollardError('io') naming the folder when the disk refuses.
 */
export async function saveModel(
  model: LayersModel,
  dir: string,
  options: SaveModelOptions = {},
): Promise<SavedModel> {
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  if (!Number.isInteger(shardBytes) || shardBytes < 1) {
    throw badInput(dir, `shardBytes must be a positive integer, got ${shardBytes}`);
  }
  const artifacts = await captureArtifacts(model);
  restoreDepthMultipliers(artifacts.modelTopology, model);
  // Never write a model that Pollard's own reader would refuse to open again.
  validateTopology(artifacts.modelTopology, dir);
  const raw = joinWeightData(artifacts.weightData);
  const specs = artifacts.weightSpecs ?? [];

  // Re-encode weight by weight: quantize float32 weights when asked (as the converter does).
  const parts: Uint8Array[] = [];
  const manifestWeights: ManifestWeight[] = [];
  const dtypes = new Set<StoredDtype>();
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const byteLength = count * 4;
    const bytes = raw.subarray(offset, offset + byteLength);
    offset += byteLength;
    const entry: ManifestWeight = { name: spec.name, shape: [...spec.shape], dtype: spec.dtype };
    if (options.quantize !== undefined && spec.dtype === 'float32') {
      const values = new Float32Array(bytes.slice().buffer);
      const quantized = quantizeWeight(values, options.quantize);
      entry.quantization = quantized.quantization;
      parts.push(quantized.bytes);
      dtypes.add(options.quantize);
    } else if (spec.dtype === 'float32' || spec.dtype === 'int32') {
      parts.push(bytes);
      dtypes.add(spec.dtype);
    } else {
      throw badInput(
        dir,
        `weight "${spec.name}" has dtype ${spec.dtype}; only float32 and int32 weights can be saved`,
      );
    }
    manifestWeights.push(entry);
  }
  if (offset !== raw.byteLength)
    throw new Error(`saveModel: weight specs cover ${offset} of ${raw.byteLength} bytes`);
  const weightBytes = parts.reduce((sum, p) => sum + p.byteLength, 0);
  const all = new Uint8Array(weightBytes);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.byteLength;
  }

  const shardCount = Math.max(1, Math.ceil(weightBytes / shardBytes));
  const shardNames = Array.from(
    { length: weightBytes === 0 ? 0 : shardCount },
    (_, i) => `group1-shard${i + 1}of${shardCount}.bin`,
  );

  const existing = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const pollard = pollardMetadataEntry(options.metadata);
  const userDefinedMetadata =
    pollard === undefined && existing === undefined ? undefined : { ...existing, ...pollard };
  const modelJson: Record<string, unknown> = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: 'Pollard',
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: shardNames, weights: manifestWeights }],
  };
  if (userDefinedMetadata !== undefined) modelJson.userDefinedMetadata = userDefinedMetadata;
  const jsonText = JSON.stringify(modelJson);

  await replaceDirectoryAtomic(dir, async (temp) => {
    await writeDurable(path.join(temp, 'model.json'), jsonText);
    for (const [i, name] of shardNames.entries()) {
      await writeDurable(
        path.join(temp, name),
        all.subarray(i * shardBytes, Math.min((i + 1) * shardBytes, weightBytes)),
      );
    }
  }).catch((error: unknown) => {
    if (error instanceof Error && error.name === 'PollardError') throw error;
    throw ioError(dir, `could not write: ${error instanceof Error ? error.message : String(error)}`);
  });

  const jsonBytes = Buffer.byteLength(jsonText, 'utf8');
  return {
    dir,
    modelJson: path.join(dir, 'model.json'),
    files: [path.join(dir, 'model.json'), ...shardNames.map((n) => path.join(dir, n))],
    bytes: jsonBytes + weightBytes,
    weightBytes,
    weightDtypes: [...dtypes].sort(),
  };
}
