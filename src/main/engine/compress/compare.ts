/**
 * Before/after figures for a compression run: parameters and MACs (cost.ts convention), file
 * size raw and gzipped (the model written by Pollard's tfjs writer, so both sides are measured
 * in the same format), and a per-layer table.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measureModelFolder } from '../model/model-files';
import { saveModel } from '../model/tfjs-layers-writer';
import type { WeightQuantization } from '../model/weight-quantization';
import type { LayersModel } from '../tf';
import { layerCost } from './cost';
import { buildDependencyGraph } from './graph';

export interface ModelCounts {
  params: number;
  macs: number;
}

export function countModel(model: LayersModel): ModelCounts {
  const graph = buildDependencyGraph(model);
  let params = 0;
  let macs = 0;
  for (const node of graph.nodes) {
    const cost = layerCost(node);
    params += cost.params;
    macs += cost.macs;
  }
  return { params, macs };
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
  const afterGraph = buildDependencyGraph(after);
  const rows: LayerRow[] = [];
  for (const node of buildDependencyGraph(before).nodes) {
    if (node.layer.weights.length === 0) continue;
    const other = afterGraph.nodes.find((n) => n.name === node.name);
    const costBefore = layerCost(node);
    const costAfter = other ? layerCost(other) : { params: 0, macs: 0 };
    const row: LayerRow = {
      name: node.name,
      className: node.className,
      outChannelsBefore: node.outputMap.length,
      outChannelsAfter: other?.outputMap.length ?? 0,
      paramsBefore: costBefore.params,
      paramsAfter: costAfter.params,
      macsBefore: costBefore.macs,
      macsAfter: costAfter.macs,
    };
    const sparsity = extra.sparsity?.get(node.name);
    if (sparsity !== undefined) row.sparsity = sparsity;
    if (extra.dtype) row.dtype = extra.dtype;
    rows.push(row);
  }
  return rows;
}
