/**
 * Before/after figures for a compression run: parameters and MACs (the model summary's counts,
 * as `pollard inspect` shows them; the pruner's cost model agrees with them), file size raw and
 * gzipped (the model written by Pollard's tfjs writer, so both sides are measured in the same
 * format), and a per-layer table.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measureModelFolder } from '../model/model-files';
import { saveModel } from '../model/tfjs-layers-writer';
import type { WeightQuantization } from '../model/weight-quantization';
import { summarizeLayers } from '../model/summary';
import type { LayerSummary } from '../../../shared/types';
import type { LayersModel } from '../tf';

export interface ModelCounts {
  params: number;
  macs: number;
}

export function countModel(model: LayersModel): ModelCounts {
  const layers = summarizeLayers(model);
  return { params: model.countParams(), macs: layers.reduce((sum, layer) => sum + layer.macs, 0) };
}

function channelsOf(shape: LayerSummary['outputShape']): number {
  const first = Array.isArray(shape[0]) ? (shape[0] as (number | null)[]) : (shape as (number | null)[]);
  return first[first.length - 1] ?? 0;
}

/** Raw and gzipped bytes of the model as Pollard exports it (written to a temporary folder). */
export async function exportedSize(
  model: LayersModel,
  quantize?: WeightQuantization,
): Promise<{ sizeBytes: number; sizeGzipBytes: number }> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-size-'));
  try {
    const dir = path.join(parent, 'model');
    await saveModel(model, dir, quantize ? { quantize } : {});
    const sizes = await measureModelFolder(dir);
    return { sizeBytes: sizes.bytes, sizeGzipBytes: sizes.gzipBytes };
  } finally {
    await fs.rm(parent, { recursive: true, force: true });
  }
}

export interface LayerRow {
  name: string;
  className: string;
  outChannelsBefore: number;
  outChannelsAfter: number;
  paramsBefore: number;
  paramsAfter: number;
  macsBefore: number;
  macsAfter: number;
  /** Fraction of zero weights in the compressed layer's kernels (magnitude pruning). */
  sparsity?: number;
  /** Stored weight dtype after export, where quantized. */
  dtype?: string;
}

/** One row per layer with weights, matched by name between the original and the compressed model. */
export function layerTable(
  before: LayersModel,
  after: LayersModel,
  extra: { sparsity?: Map<string, number>; dtype?: string } = {},
): LayerRow[] {
  const afterLayers = new Map(summarizeLayers(after).map((layer) => [layer.name, layer]));
  const rows: LayerRow[] = [];
  for (const layer of summarizeLayers(before)) {
    if (layer.params === 0) continue;
    const other = afterLayers.get(layer.name);
    const row: LayerRow = {
      name: layer.name,
      className: layer.className,
      outChannelsBefore: channelsOf(layer.outputShape),
      outChannelsAfter: other ? channelsOf(other.outputShape) : 0,
      paramsBefore: layer.params,
      paramsAfter: other?.params ?? 0,
      macsBefore: layer.macs,
      macsAfter: other?.macs ?? 0,
    };
    const sparsity = extra.sparsity?.get(layer.name);
    if (sparsity !== undefined) row.sparsity = sparsity;
    if (extra.dtype) row.dtype = extra.dtype;
    rows.push(row);
  }
  return rows;
}
