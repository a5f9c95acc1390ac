/**
 * Paths the Electron preload read from dropped or chosen files, re-checked in main before
 * anything opens them: each must exist, be readable, and be a regular file or a folder.
 * Files that arrive together from one folder (model.json + shards, an IDX pair) mean that
 * folder.
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { ioError, usageError } from '../../shared/errors';

async function checkOne(file: string): Promise<'file' | 'folder'> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw ioError(file, 'not found');
  }
  if (!stat.isFile() && !stat.isDirectory()) throw ioError(file, 'not a regular file or folder');
  try {
    await fs.access(file, fsConstants.R_OK);
  } catch {
    throw ioError(file, 'permission denied');
  }
  return stat.isDirectory() ? 'folder' : 'file';
}

/** The one path the engine should open for these dropped or chosen paths. */
export async function resolveLocalPaths(paths: readonly string[]): Promise<string> {
  if (paths.length === 0) throw usageError('resolveFiles: no files');
  const absolute = paths.map((p) => path.resolve(p));
  const kinds = await Promise.all(absolute.map(checkOne));
  if (absolute.length === 1) return absolute[0]!;
  const parents = new Set(absolute.map((p) => path.dirname(p)));
  if (parents.size > 1 || kinds.includes('folder')) {
    throw usageError(
      `resolveFiles: ${absolute.length} items from different places; drop one folder, or files from one folder`,
    );
  }
  return [...parents][0]!;
}
