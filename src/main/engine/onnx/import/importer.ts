/** The model registry's ONNX importer: a .onnx file becomes a TF.js Layers model. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput, ioError } from '../../../../shared/errors';
import { flattenMetadata } from '../../model/file-metadata';
import type { LoadedModel, ModelEntry, ModelImporter } from '../../model/types';
import { onnxGraphToLayers } from './convert';
import { ONNX_LIMITS, decodeModel } from './proto';
import { loadExternal } from './tensor-data';

export async function readOnnxModel(file: string): Promise<LoadedModel> {
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch (error) {
    throw ioError(file, (error as Error).message);
  }
  if (size > ONNX_LIMITS.maxFileBytes) {
    throw badInput(file, `the file is ${size} bytes, more than the ${ONNX_LIMITS.maxFileBytes}-byte limit`);
  }
  const onnx = decodeModel(new Uint8Array(await fs.readFile(file)), file);
  const files = [file];
  for (const t of onnx.graph.initializers) {
    if (!t.external) continue;
    await loadExternal(t, file);
    files.push(path.join(path.dirname(file), t.external['location'] ?? ''));
  }
  const fileMetadata = flattenMetadata(onnx.metadataProps);
  return {
    model: onnxGraphToLayers(onnx.graph, file),
    format: 'onnx',
    source: file,
    files: [...new Set(files)],
    weightDtypes: ['float32'],
    metadata: { producedBy: { importedFrom: 'onnx', producer: onnx.producerName, opset: onnx.opsetVersion } },
    ...(Object.keys(fileMetadata).length > 0 ? { fileMetadata } : {}),
  };
}

export const onnxImporter: ModelImporter = {
  format: 'onnx',
  match(entry: ModelEntry): boolean {
    return !entry.isDirectory && path.extname(entry.path).toLowerCase() === '.onnx';
  },
  open(entry: ModelEntry): Promise<LoadedModel> {
    return readOnnxModel(entry.path);
  },
};
