/**
 * A model summary: per layer (class, output shape, parameters, MACs from the configuration,
 * inbound layers) and totals, plus what the stored model costs on disk. `inspectModel` is
 * `pollard inspect`: open, summarise, dispose.
 */
import { guessInputScaling, guessLayersOf } from '../data/input-scaling-guess';
import { ioShapes } from './single-io';
import { readFileSync, statSync } from 'node:fs';
import { gzipSync, constants as zlibConstants } from 'node:zlib';
import type { LayerSummary, ModelSummary } from '../../../shared/types';
import { ioError } from '../../../shared/errors';
import { tfl } from '../tf';
import type { LayersModel } from '../tf';
import { layerKnowledge, macsOf } from './layers/registry';
import type { ModelSizes } from './model-files';
import { measureModelFiles } from './model-files';
import { openModel } from './registry';
import { describeReadError } from './safe-json';
import type { LoadedModel } from './types';

type Layer = LayersModel['layers'][number];
type Node = Layer['inboundNodes'][number];
type Shape = readonly (number | null)[];

export interface SummarizeOptions {
  /** Sizes of the stored files, when already measured (inspectModel measures them asynchronously). */
  sizes?: ModelSizes;
}

function isLoaded(input: LoadedModel | LayersModel): input is LoadedModel {
  return !(input instanceof tfl.LayersModel) && 'model' in input && 'format' in input;
}

function countValues(shape: readonly (number | null)[]): number {
  return shape.reduce<number>((a, d) => a * (d ?? 1), 1);
}

function asShapes(shapes: Node['inputShapes'] | Node['outputShapes']): Shape[] {
  if (shapes.length > 0 && Array.isArray(shapes[0])) return shapes as Shape[];
  return [shapes as Shape];
}

/** The call of `layer` that belongs to `model`: the first inbound node whose inputs are model layers. */
function nodeIn(layer: Layer, members: ReadonlySet<string>): Node | undefined {
  const nodes = layer.inboundNodes;
  return (
    nodes.find((n) => n.inboundLayers.length > 0 && n.inboundLayers.every((l) => members.has(l.name))) ??
    nodes[nodes.length - 1]
  );
}

function trainableCount(layer: Layer): number {
  return layer.trainableWeights.reduce((sum, w) => sum + countValues(w.shape), 0);
}

/** The configuration `macsOf` reads: tfjs's getConfig, plus what getConfig omits (the entry's `configOf`). */
export function macsConfig(layer: Layer): Record<string, unknown> {
  const configOf = layerKnowledge(layer.getClassName())?.configOf;
  return configOf !== undefined ? configOf(layer) : (layer.getConfig() as Record<string, unknown>);
}

/** MACs of one layer's call in `model`; a nested model is the sum over its own layers. */
export function layerMacs(layer: Layer, node?: Node): number {
  if (layer instanceof tfl.LayersModel) {
    return summarizeLayers(layer).reduce((sum, l) => sum + l.macs, 0);
  }
  const call = node ?? layer.inboundNodes[0];
  if (call === undefined) return 0;
  return macsOf({
    className: layer.getClassName(),
    config: macsConfig(layer),
    inputShapes: asShapes(call.inputShapes),
    outputShapes: asShapes(call.outputShapes),
  });
}

/** Per-layer rows for the top-level layers of a model (a nested model is one row). */
export function summarizeLayers(model: LayersModel): LayerSummary[] {
  const members = new Set<string>(model.layers.map((l) => l.name));
  for (const input of model.inputLayers ?? []) members.add(input.name);
  return model.layers.map((layer) => {
    const node = nodeIn(layer, members);
    const outputs = node === undefined ? [] : asShapes(node.outputShapes);
    const outputShape = outputs.length === 1 ? [...outputs[0]!] : outputs.map((s) => [...s]);
    return {
      name: layer.name,
      className: layer.getClassName(),
      outputShape,
      params: layer.countParams(),
      trainableParams: trainableCount(layer),
      macs: layerMacs(layer, node),
      inbound: node === undefined ? [] : node.inboundLayers.map((l) => l.name),
    };
  });
}

/** Sizes of stored files, measured synchronously (gzip level 9, each file on its own). */
function measureFilesSync(files: readonly string[]): ModelSizes {
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of files) {
    let data: Buffer;
    try {
      statSync(file);
      data = readFileSync(file);
    } catch (error) {
      throw ioError(file, describeReadError(error));
    }
    bytes += data.byteLength;
    gzipBytes += gzipSync(data, { level: zlibConstants.Z_BEST_COMPRESSION }).byteLength;
  }
  return { bytes, gzipBytes };
}

/** What `saveModel` without quantization would write for an in-memory model: model.json + float32 shards. */
function estimateUnsavedSizes(model: LayersModel): ModelSizes {
  const json = Buffer.from(
    JSON.stringify({ format: 'layers-model', modelTopology: model.toJSON(null, false) }),
  );
  const parts: Buffer[] = [json];
  for (const weight of model.weights) {
    const values = weight.read().dataSync();
    parts.push(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  }
  const bytes = parts.reduce((sum, p) => sum + p.byteLength, 0);
  const gzipBytes =
    gzipSync(json, { level: zlibConstants.Z_BEST_COMPRESSION }).byteLength +
    gzipSync(Buffer.concat(parts.slice(1)), { level: zlibConstants.Z_BEST_COMPRESSION }).byteLength;
  return { bytes, gzipBytes };
}

/**
 * Summarise a loaded model (sizes of its stored files) or an in-memory LayersModel (sizes it
 * would have saved as float32). Per-layer MACs follow docs/macs.md; totals sum the rows.
 */
export function summarizeModel(
  input: LoadedModel | LayersModel,
  options: SummarizeOptions = {},
): ModelSummary {
  const loaded = isLoaded(input) ? input : undefined;
  const model = loaded?.model ?? (input as LayersModel);
  const layers = summarizeLayers(model);
  const sizes =
    options.sizes ?? (loaded !== undefined ? measureFilesSync(loaded.files) : estimateUnsavedSizes(model));
  const inputShape = [...(model.inputs[0]?.shape ?? [])];
  const outputShape = [...(model.outputs[0]?.shape ?? [])];
  const classes = outputShape[outputShape.length - 1] ?? 0;
  const summary: ModelSummary = {
    format: loaded?.format ?? 'tfjs-layers',
    source: loaded?.source ?? '(in memory)',
    name: model.name,
    inputShape,
    outputShape,
    ...ioShapes(model),
    classes: classes ?? 0,
    layers,
    params: model.countParams(),
    trainableParams: model.trainableWeights.reduce((sum, w) => sum + countValues(w.shape), 0),
    macs: layers.reduce((sum, l) => sum + l.macs, 0),
    sizeBytes: sizes.bytes,
    sizeGzipBytes: sizes.gzipBytes,
    weightDtypes: loaded?.weightDtypes ?? [...new Set(model.weights.map((w) => w.dtype))].sort(),
  };
  if (loaded?.metadata.classNames !== undefined) summary.classNames = [...loaded.metadata.classNames];
  if (loaded) {
    const stored = loaded.metadata.normalization?.scaling;
    const guess = guessInputScaling({
      modelName: model.name,
      layers: guessLayersOf(model.layers),
      ...(stored ? { stored } : {}),
      ...(loaded.fileMetadata ? { metadata: loaded.fileMetadata } : {}),
    });
    if (guess) summary.inputScalingGuess = guess;
  }
  return summary;
}

/** `pollard inspect`: open any supported model, summarise it, and release it. */
export async function inspectModel(modelPath: string): Promise<ModelSummary> {
  const loaded = await openModel(modelPath);
  try {
    const sizes = await measureModelFiles(loaded.files);
    return summarizeModel(loaded, { sizes });
  } finally {
    loaded.model.dispose();
  }
}
