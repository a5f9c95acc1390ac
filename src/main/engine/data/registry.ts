/**
 * The dataset registry: `openDataset` looks at a path and hands it to the first importer whose
 * cheap `match` accepts it (Netron's format-factory shape). Order matters: the specific formats
 * (IDX, CIFAR) come before the catch-all folder of class folders.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput, ioError, usageError } from '../../../shared/errors';
import { cifarImporter } from './cifar';
import { idxImporter } from './idx';
import { imageFolderImporter } from './image-folder';
import type { Dataset, DatasetEntry, DatasetImporter, OpenOptions } from './types';

export const DATASET_IMPORTERS: readonly DatasetImporter[] = [
  idxImporter,
  cifarImporter,
  imageFolderImporter,
];

const MAX_TARGET_SIDE = 4096;

function checkOptions(options: OpenOptions): void {
  const { limit, size, channels, maxBytes } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    throw usageError(`limit must be a positive integer, got ${limit}`);
  }
  if (
    size !== undefined &&
    !(
      size.length === 2 &&
      size.every((side) => Number.isInteger(side) && side >= 1 && side <= MAX_TARGET_SIDE)
    )
  ) {
    throw usageError(
      `size must be [height, width], each an integer in 1..${MAX_TARGET_SIDE}, got [${size.join(', ')}]`,
    );
  }
  if (channels !== undefined && channels !== 1 && channels !== 3) {
    throw usageError(`channels must be 1 or 3, got ${String(channels)}`);
  }
  if (maxBytes !== undefined && !(Number.isInteger(maxBytes) && maxBytes >= 1)) {
    throw usageError(`maxBytes must be a positive integer, got ${maxBytes}`);
  }
}

/** What an importer is shown of a path: whether it is a folder, and what is directly inside. */
export async function datasetEntry(target: string): Promise<DatasetEntry> {
  let stat;
  try {
    stat = await fs.stat(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw ioError(target, 'no such file or folder');
    if (code === 'EACCES' || code === 'EPERM') throw ioError(target, 'permission denied');
    throw ioError(target, `cannot be read: ${(error as Error).message}`);
  }
  if (!stat.isDirectory()) {
    if (!stat.isFile()) throw badInput(target, 'is neither a file nor a folder');
    return { path: target, isDirectory: false, names: [] };
  }
  let dirents;
  try {
    dirents = await fs.readdir(target, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw ioError(
      target,
      code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (error as Error).message,
    );
  }
  const names = dirents.map((dirent) => dirent.name).sort();
  const folders = dirents
    .filter((dirent) => dirent.isDirectory())
    .map((dirent) => dirent.name)
    .sort();
  return { path: target, isDirectory: true, names, folders };
}

/** Open the dataset at `target` (a folder or a file) with the first importer that matches it. */
export async function openDataset(target: string, options: OpenOptions = {}): Promise<Dataset> {
  checkOptions(options);
  const entry = await datasetEntry(path.resolve(target));
  const importer = DATASET_IMPORTERS.find((candidate) => {
    try {
      return candidate.match(entry);
    } catch {
      return false;
    }
  });
  if (importer === undefined) {
    throw badInput(
      entry.path,
      'not a recognised dataset: expected IDX files (train-images-idx3-ubyte[.gz] ...), CIFAR binary batches (.bin or .tar.gz) or a folder of class folders of images',
    );
  }
  return importer.open(entry, options);
}
