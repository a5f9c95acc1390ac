/**
 * Reading HDF5 through h5wasm (the node build reads the real file system). Every file is
 * sniffed and its declared length checked first, and every h5wasm failure becomes a
 * `<file>: <problem>` error, so a bad file never surfaces as a wasm stack trace.
 */
import type { Dataset, Group, File as H5File } from 'h5wasm/node';
import { h5wasmLoaded, loadH5wasm } from './h5wasm-loader';
import { badInput, PollardError, unsupported } from '../../../../shared/errors';
import { hdf5DeclaredEnd, readHead, sniffBytes, wrongContentError } from './sniff';

export type { Dataset, Group, H5File };

/**
 * One stored weight: its name as the file spells it and its shape, read from the header; the
 * values are read only on demand, after the shape has been checked against the model.
 */
export interface StoredWeight {
  name: string;
  shape: number[];
  /** How the file stores it; values are always returned as float32. */
  dtype: 'float32' | 'float64';
  read(): Float32Array;
}

/** A weight tensor larger than this many elements (2 GiB of float32) is refused unread. */
export const MAX_WEIGHT_ELEMENTS = 2 ** 29;

/** Bytes of the smallest HDF5 superblock (version 2 or 3 with 4-byte addresses). */
const SMALLEST_SUPERBLOCK = 32;

/** Opens `file` read-only after checking that it is a complete HDF5 file; closes it after `use`. */
export async function withHdf5File<T>(
  path: string,
  use: (h5: H5File) => T | Promise<T>,
  /** The name used in messages, when `path` is a temporary copy (a `.keras` member). */
  file = path,
): Promise<T> {
  const { head, size } = await readHead(path);
  const sniffed = sniffBytes(head);
  const wrong = wrongContentError(file, sniffed, 'hdf5');
  if (wrong) throw wrong;
  const superblockAt = sniffed.hdf5Offset ?? 0;
  const declaredEnd = hdf5DeclaredEnd(head, superblockAt);
  if (declaredEnd === undefined && size < superblockAt + SMALLEST_SUPERBLOCK) {
    throw badInput(file, `is truncated: its ${size} bytes end inside the HDF5 superblock`);
  }
  if (declaredEnd !== undefined && size < declaredEnd) {
    throw badInput(
      file,
      `is truncated: its HDF5 header declares ${declaredEnd} bytes but the file has ${size}`,
    );
  }
  const h5wasm = await loadH5wasm();
  let h5: H5File;
  try {
    h5 = new h5wasm.File(path, 'r');
  } catch (error) {
    throw badInput(file, `HDF5 could not open it (corrupt file?): ${describe(error)}`);
  }
  try {
    return await use(h5);
  } catch (error) {
    if (error instanceof PollardError) throw error;
    throw badInput(file, `could not read the HDF5 content (corrupt file?): ${describe(error)}`);
  } finally {
    h5.close();
  }
}

/**
 * An h5wasm error as one line. HDF5's error stack (thrown, not printed: h5wasm-loader.ts) is
 * reduced to its innermost entry, e.g. "incorrect metadata checksum after all read attempts".
 */
export function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!message.startsWith('HDF5-DIAG')) return message;
  const entries = [...message.matchAll(/#\d+: .* in (\w+)\(\): (.+)$/gm)];
  const innermost = entries.at(-1);
  return innermost ? `${innermost[2]!.trim()} (${innermost[1]!})` : message.split('\n')[0]!;
}

function isGroup(entity: unknown): entity is Group {
  return entity instanceof h5wasmLoaded().Group;
}

function isDataset(entity: unknown): entity is Dataset {
  return entity instanceof h5wasmLoaded().Dataset;
}

/** The group at `path`, or undefined when there is none (or it is not a group). */
export function getGroup(parent: Group, path: string): Group | undefined {
  const entity = safeGet(parent, path);
  return isGroup(entity) ? entity : undefined;
}

export function getDataset(parent: Group, path: string): Dataset | undefined {
  const entity = safeGet(parent, path);
  return isDataset(entity) ? entity : undefined;
}

function safeGet(parent: Group, path: string): unknown {
  try {
    return parent.get(path);
  } catch {
    return undefined;
  }
}

export function childGroups(parent: Group): string[] {
  return parent.keys().filter((key) => isGroup(safeGet(parent, key)));
}

export function childDatasets(parent: Group): string[] {
  return parent.keys().filter((key) => isDataset(safeGet(parent, key)));
}

export function hasAttribute(entity: Group, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(entity.attrs, name);
}

/** A string attribute (Keras writes both variable-length str and fixed-length bytes). */
export function readStringAttribute(file: string, entity: Group, name: string): string | undefined {
  if (!hasAttribute(entity, name)) return undefined;
  const value = entity.attrs[name]?.value;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  throw badInput(file, `attribute "${name}" of ${entity.path} is not a string`);
}

/** A list-of-strings attribute such as `layer_names` or `weight_names`. */
export function readStringListAttribute(file: string, entity: Group, name: string): string[] | undefined {
  if (!hasAttribute(entity, name)) return undefined;
  const value = entity.attrs[name]?.value;
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  if (ArrayBuffer.isView(value) && value.byteLength === 0) return [];
  throw badInput(file, `attribute "${name}" of ${entity.path} is not a list of strings`);
}

/**
 * A float dataset as a StoredWeight: dtype and shape are checked now, the values are read (as
 * float32) when `read()` is called.
 */
export function storedWeight(file: string, dataset: Dataset, name: string): StoredWeight {
  const shape = dataset.shape ?? [];
  if (!shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw badInput(file, `weight ${name} has an invalid shape [${shape.join(', ')}]`);
  }
  const elements = shape.reduce((product, dim) => product * dim, 1);
  if (elements > MAX_WEIGHT_ELEMENTS) {
    throw unsupported(
      file,
      `weight ${name} has ${elements} values, over the limit of ${MAX_WEIGHT_ELEMENTS}`,
    );
  }
  const metadata = dataset.metadata;
  // H5T_FLOAT is class 1.
  if (metadata.type !== 1 || (metadata.size !== 4 && metadata.size !== 8)) {
    const what = metadata.type === 1 ? `float${metadata.size * 8}` : `dtype ${String(dataset.dtype)}`;
    throw unsupported(file, `weight ${name} is stored as ${what}; Pollard reads float32 and float64 weights`);
  }
  const read = (): Float32Array => {
    const value = dataset.value;
    let values: Float32Array;
    if (value instanceof Float32Array) values = value;
    else if (value instanceof Float64Array) values = Float32Array.from(value);
    else if (typeof value === 'number') values = Float32Array.of(value);
    else throw badInput(file, `weight ${name} could not be read as numbers`);
    if (values.length !== elements) {
      throw badInput(file, `weight ${name} holds ${values.length} values, its shape needs ${elements}`);
    }
    return values;
  };
  return { name, shape, dtype: metadata.size === 8 ? 'float64' : 'float32', read };
}
