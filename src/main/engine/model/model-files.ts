/**
 * Facts about a model's files on disk: raw and gzipped size (what a download of the model costs)
 * and a SHA-256 that identifies the stored model for reproducibility records.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip, constants as zlibConstants } from 'node:zlib';
import { ioError } from '../../../shared/errors';
import { describeReadError } from './safe-json';

const gzipAsync = promisify(gzip);

export interface ModelSizes {
  /** Sum of the files' sizes. */
  bytes: number;
  /** Sum of each file gzipped at level 9 (as a web server would send them). */
  gzipBytes: number;
}

/** Raw and gzipped size of the given files (each gzipped on its own, level 9). */
export async function measureModelFiles(files: readonly string[]): Promise<ModelSizes> {
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of files) {
    let data: Buffer;
    try {
      data = await fs.readFile(file);
    } catch (error) {
      throw ioError(file, describeReadError(error));
    }
    bytes += data.byteLength;
    gzipBytes += (await gzipAsync(data, { level: zlibConstants.Z_BEST_COMPRESSION })).byteLength;
  }
  return { bytes, gzipBytes };
}

/** Raw and gzipped size of every regular file directly inside a saved model folder. */
export async function measureModelFolder(dir: string): Promise<ModelSizes> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    throw ioError(dir, describeReadError(error));
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    if ((await fs.lstat(file)).isFile()) files.push(file);
  }
  return measureModelFiles(files);
}

/**
 * SHA-256 over a model's files in a stable order: sorted by file name (then full path), each
 * contributing `<name>\n<byte length>\n<bytes>`. The same stored model gives the same hash on
 * any machine and in any folder; renaming or changing a shard changes it.
 */
export async function modelSha256(files: string[]): Promise<string> {
  // Code-unit order, not locale order: the same on every machine.
  const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const ordered = [...files].sort((a, b) => compare(path.basename(a), path.basename(b)) || compare(a, b));
  const hash = createHash('sha256');
  for (const file of ordered) {
    let size: number;
    try {
      size = (await fs.stat(file)).size;
    } catch (error) {
      throw ioError(file, describeReadError(error));
    }
    hash.update(`${path.basename(file)}\n${size}\n`);
    await new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file);
      stream.on('data', (chunk) => hash.update(chunk));
      stream.on('error', (error) => reject(ioError(file, describeReadError(error))));
      stream.on('end', () => resolve());
    });
  }
  return hash.digest('hex');
}
