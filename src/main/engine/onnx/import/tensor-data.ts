/**
 * The values of an ONNX tensor as a Float32Array (floats) or number[] (integers), from raw_data,
 * float_data/int64_data/int32_data, or an external-data file that lies beside the model.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput } from '../../../../shared/errors';
import { DATA_TYPE, tensorElements, type OnnxTensor } from './proto';

/** Reads an external-data tensor's bytes into rawData; only files inside the model's folder. */
export async function loadExternal(t: OnnxTensor, modelFile: string): Promise<void> {
  if (!t.external) return;
  const location = t.external['location'] ?? '';
  const dir = path.dirname(path.resolve(modelFile));
  const where = `tensor "${t.name}" external data "${location}"`;
  if (location === '' || path.isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
    throw badInput(modelFile, `${where} must be a file beside the model (no absolute path, no "..")`);
  }
  const target = path.resolve(dir, location);
  let real: string;
  try {
    real = await fs.realpath(target);
  } catch {
    throw badInput(modelFile, `${where}: the file is missing`);
  }
  const realDir = await fs.realpath(dir);
  if (path.relative(realDir, real).startsWith('..') || path.isAbsolute(path.relative(realDir, real))) {
    throw badInput(modelFile, `${where} resolves outside the model's folder`);
  }
  const offset = Number(t.external['offset'] ?? '0');
  const width = t.dataType === DATA_TYPE.INT64 ? 8 : 4;
  const length = Number(t.external['length'] ?? String(tensorElements(t, modelFile) * width));
  const size = (await fs.stat(real)).size;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw badInput(modelFile, `${where}: bad offset ${offset} or length ${length}`);
  }
  if (offset + length > size || length !== tensorElements(t, modelFile) * width) {
    throw badInput(
      modelFile,
      `${where}: ${length} bytes at offset ${offset} do not fit the ${size}-byte file or the dims [${t.dims.join(', ')}]`,
    );
  }
  const handle = await fs.open(real, 'r');
  try {
    const out = new Uint8Array(length);
    await handle.read(out, 0, length, offset);
    t.rawData = out;
  } finally {
    await handle.close();
  }
}

function rawView(t: OnnxTensor): DataView {
  const raw = t.rawData ?? new Uint8Array(0);
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Float values of a FLOAT tensor. */
export function floatValues(t: OnnxTensor, file: string): Float32Array {
  if (t.dataType !== DATA_TYPE.FLOAT) {
    throw badInput(file, `tensor "${t.name}" has data type ${t.dataType}; only float32 weights are read`);
  }
  const count = tensorElements(t, file);
  if (!t.rawData) return Float32Array.from(t.floatData);
  const view = rawView(t);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Integer values of an INT64 or INT32 tensor (shapes, axes, indices). */
export function intValues(t: OnnxTensor, file: string): number[] {
  const count = tensorElements(t, file);
  if (!t.rawData) return t.int64Data.length > 0 ? t.int64Data : t.int32Data;
  const view = rawView(t);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    if (t.dataType === DATA_TYPE.INT64) out.push(Number(view.getBigInt64(i * 8, true)));
    else if (t.dataType === DATA_TYPE.INT32) out.push(view.getInt32(i * 4, true));
    else throw badInput(file, `tensor "${t.name}" has data type ${t.dataType}, not an integer type`);
  }
  return out;
}
