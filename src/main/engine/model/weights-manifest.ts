/**
 * The `weightsManifest` of a tfjs layers model, read through Pollard's own code: every shard
 * path must stay inside the model folder (no `..`, no absolute path, no symlink leading out,
 * checked with realpath), every shape must be sane, and the shard bytes of each group must add
 * up to exactly what the manifest's shapes and dtypes imply, all before a byte is decoded.
 * tfjs-node's file loader joins manifest paths without any check, so it is never used.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput, ioError, unsupported } from '../../../shared/errors';
import { describeReadError, isRecord } from './safe-json';
import type { SizeLimits } from './infer-shapes';
import { DEFAULT_SIZE_LIMITS } from './infer-shapes';

export type StoredDtype = 'float32' | 'int32' | 'uint8' | 'uint16' | 'float16';

/** One weight as tfjs-core's `io.decodeWeights` expects it. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  group?: string;
  quantization?:
    | { dtype: 'uint8' | 'uint16'; min: number; scale: number; original_dtype?: string }
    | { dtype: 'float16'; original_dtype?: string };
}

export interface WeightGroup {
  /** Shard files, resolved and inside the model folder. */
  files: string[];
  weights: WeightSpec[];
  /** Bytes the manifest implies for this group. */
  byteLength: number;
}

export interface CheckedManifest {
  groups: WeightGroup[];
  /** Every weight, in the order of the concatenated shard bytes. */
  specs: WeightSpec[];
  /** Stored dtypes, sorted, e.g. ["float32"] or ["uint8"]. */
  storedDtypes: StoredDtype[];
  totalBytes: number;
}

const BYTES: Readonly<Record<StoredDtype, number>> = {
  float32: 4,
  int32: 4,
  uint8: 1,
  uint16: 2,
  float16: 2,
};
const MAX_RANK = 8;
/** Names that would reach Object.prototype in tfjs's plain-object weight maps. */
const PROTOTYPE_KEYS = new Set(Object.getOwnPropertyNames(Object.prototype));

export function storedDtypeOf(spec: WeightSpec): StoredDtype {
  return spec.quantization?.dtype ?? spec.dtype;
}

export function specByteLength(spec: WeightSpec): number {
  return spec.shape.reduce((a, b) => a * b, 1) * BYTES[storedDtypeOf(spec)];
}

/**
 * Resolve one shard path from the manifest inside `realDir` (the model folder's realpath).
 * Refuses absolute paths, `..`, backslashes and symlinks leading out; returns the real path.
 */
export async function resolveShardPath(realDir: string, shard: string, modelJson: string): Promise<string> {
  if (typeof shard !== 'string' || shard.length === 0 || shard.length > 1024) {
    throw badInput(modelJson, 'weightsManifest: a shard path must be a non-empty string');
  }
  if (
    path.isAbsolute(shard) ||
    path.win32.isAbsolute(shard) ||
    shard.includes('\\') ||
    shard.includes('\0') ||
    shard.split('/').some((part) => part === '..')
  ) {
    throw badInput(modelJson, `weightsManifest: shard path "${shard}" leads outside the model folder`);
  }
  const joined = path.resolve(realDir, shard);
  let real: string;
  try {
    real = await fs.realpath(joined);
  } catch (error) {
    throw ioError(joined, `weight shard listed in ${path.basename(modelJson)}: ${describeReadError(error)}`);
  }
  const relative = path.relative(realDir, real);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw badInput(
      modelJson,
      `weightsManifest: shard "${shard}" is a link that leads outside the model folder`,
    );
  }
  const stat = await fs.stat(real);
  if (!stat.isFile()) throw badInput(modelJson, `weightsManifest: shard "${shard}" is not a regular file`);
  return real;
}

function checkSpec(raw: unknown, where: string, modelJson: string, limits: SizeLimits): WeightSpec {
  const bad = (problem: string): never => {
    throw badInput(modelJson, `weightsManifest: ${where}: ${problem}`);
  };
  if (!isRecord(raw)) return bad('expected a weight object');
  const name = raw.name;
  if (typeof name !== 'string' || name.length === 0 || name.length > 1024)
    return bad('weight name must be a non-empty string');
  const label = `weight "${name}"`;
  if (name.split('/').some((part) => PROTOTYPE_KEYS.has(part))) return bad(`${label} has a reserved name`);
  const shape = raw.shape;
  if (!Array.isArray(shape) || shape.length > MAX_RANK)
    return bad(`${label}: shape must be a list of at most ${MAX_RANK} dimensions`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      return bad(`${label}: shape ${JSON.stringify(shape)} must hold non-negative integers`);
    }
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (count > limits.maxWeightElements) {
    return bad(
      `${label}: shape ${JSON.stringify(shape)} holds ${count.toExponential(2)} values, over the limit of ${limits.maxWeightElements.toLocaleString('en-US')}`,
    );
  }
  const dtype = raw.dtype;
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw unsupported(
      modelJson,
      `weightsManifest: ${label} has dtype ${JSON.stringify(dtype)}; only float32 and int32 weights are supported`,
    );
  }
  const spec: WeightSpec = { name, shape: shape as number[], dtype };
  if (typeof raw.group === 'string') spec.group = raw.group;
  const q = raw.quantization;
  if (q !== undefined && q !== null) {
    if (!isRecord(q)) return bad(`${label}: quantization must be an object`);
    if (q.dtype === 'uint8' || q.dtype === 'uint16') {
      if (
        typeof q.min !== 'number' ||
        !Number.isFinite(q.min) ||
        typeof q.scale !== 'number' ||
        !Number.isFinite(q.scale)
      ) {
        return bad(`${label}: ${q.dtype} quantization needs finite min and scale`);
      }
      spec.quantization = { dtype: q.dtype, min: q.min, scale: q.scale };
    } else if (q.dtype === 'float16') {
      if (dtype !== 'float32') return bad(`${label}: float16 quantization applies to float32 weights only`);
      spec.quantization = { dtype: 'float16' };
    } else {
      throw unsupported(
        modelJson,
        `weightsManifest: ${label} has quantization dtype ${JSON.stringify(q.dtype)}; supported: uint8, uint16, float16`,
      );
    }
    if (typeof q.original_dtype === 'string') spec.quantization.original_dtype = q.original_dtype;
  }
  return spec;
}

/**
 * Check a weightsManifest and the sizes of its shards. Nothing is read but `stat`s; the
 * result lists the real shard paths to read and the specs to decode.
 */
export async function checkWeightsManifest(
  manifest: unknown,
  modelDir: string,
  modelJson: string,
  limits: SizeLimits = DEFAULT_SIZE_LIMITS,
): Promise<CheckedManifest> {
  if (manifest === undefined || manifest === null)
    return { groups: [], specs: [], storedDtypes: [], totalBytes: 0 };
  if (!Array.isArray(manifest)) throw badInput(modelJson, 'weightsManifest must be a list of weight groups');
  let realDir: string;
  try {
    realDir = await fs.realpath(modelDir);
  } catch (error) {
    throw ioError(modelDir, describeReadError(error));
  }
  const names = new Set<string>();
  const dtypes = new Set<StoredDtype>();
  const groups: WeightGroup[] = [];
  let totalValues = 0;
  let totalBytes = 0;
  for (const [index, rawGroup] of manifest.entries()) {
    const where = `group ${index + 1}`;
    if (!isRecord(rawGroup) || !Array.isArray(rawGroup.paths) || !Array.isArray(rawGroup.weights)) {
      throw badInput(modelJson, `weightsManifest: ${where} must have "paths" and "weights" lists`);
    }
    const weights = rawGroup.weights.map((w, i) =>
      checkSpec(w, `${where}, weight ${i + 1}`, modelJson, limits),
    );
    let byteLength = 0;
    for (const spec of weights) {
      if (names.has(spec.name))
        throw badInput(modelJson, `weightsManifest: weight "${spec.name}" is listed twice`);
      names.add(spec.name);
      dtypes.add(storedDtypeOf(spec));
      byteLength += specByteLength(spec);
      totalValues += spec.shape.reduce((a, b) => a * b, 1);
      if (totalValues > limits.maxTotalParams) {
        throw badInput(
          modelJson,
          `weightsManifest holds over ${limits.maxTotalParams.toLocaleString('en-US')} weight values in total`,
        );
      }
    }
    const files: string[] = [];
    const seenFiles = new Set<string>();
    let shardBytes = 0;
    for (const shard of rawGroup.paths) {
      const file = await resolveShardPath(realDir, shard as string, modelJson);
      if (seenFiles.has(file))
        throw badInput(modelJson, `weightsManifest: ${where} lists shard "${String(shard)}" twice`);
      seenFiles.add(file);
      files.push(file);
      shardBytes += (await fs.stat(file)).size;
    }
    if (shardBytes !== byteLength) {
      const shown = rawGroup.paths.map(String).join(', ');
      throw badInput(
        modelJson,
        `weightsManifest: ${where} (${shown}) holds ${shardBytes} bytes, but its weights' shapes and dtypes need ${byteLength}`,
      );
    }
    totalBytes += byteLength;
    groups.push({ files, weights, byteLength });
  }
  return {
    groups,
    specs: groups.flatMap((g) => g.weights),
    storedDtypes: [...dtypes].sort(),
    totalBytes,
  };
}

/** Read every shard (sizes already checked) into one buffer, in manifest order. */
export async function readWeightData(manifest: CheckedManifest): Promise<ArrayBuffer> {
  const out = new Uint8Array(manifest.totalBytes);
  let offset = 0;
  for (const group of manifest.groups) {
    const start = offset;
    for (const file of group.files) {
      let bytes: Buffer;
      try {
        bytes = await fs.readFile(file);
      } catch (error) {
        throw ioError(file, describeReadError(error));
      }
      if (offset - start + bytes.byteLength > group.byteLength) {
        throw badInput(file, 'weight shard changed size while it was being read');
      }
      out.set(bytes, offset);
      offset += bytes.byteLength;
    }
    if (offset - start !== group.byteLength) {
      throw badInput(group.files[0] ?? 'weights', 'weight shard changed size while it was being read');
    }
  }
  return out.buffer;
}
