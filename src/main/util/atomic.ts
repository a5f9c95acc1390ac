/**
 * Crash-safe file writes: write to a temporary file beside the target, fsync it, rename it
 * over the target, then fsync the folder. A reader sees the old file or the new one, never
 * half of either.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { ioError } from '../../shared/errors';

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOENT':
      return 'folder does not exist';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch {
    // Some file systems (and Windows) cannot fsync a directory; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/** Atomically replace `file` with `data`. Throws a PollardError('io') naming the file. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temp, 'w');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw ioError(file, `could not write: ${describe(error)}`);
  }
  await fsyncDirectory(dir);
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Atomically replace a whole folder: `fill` writes into a fresh temporary sibling, which is
 * then renamed over `dir` (the previous contents are removed only after the rename).
 */
export async function replaceDirectoryAtomic(
  dir: string,
  fill: (tempDir: string) => Promise<void>,
): Promise<void> {
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  const temp = path.join(parent, `.${base}.${randomBytes(6).toString('hex')}.tmp`);
  const old = path.join(parent, `.${base}.${randomBytes(6).toString('hex')}.old`);
  try {
    await fs.mkdir(temp, { recursive: true });
    await fill(temp);
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof Error && error.name === 'PollardError') throw error;
    throw ioError(dir, `could not write: ${describe(error)}`);
  }
  let hadOld = false;
  try {
    await fs.rename(dir, old);
    hadOld = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
      throw ioError(dir, `could not replace: ${describe(error)}`);
    }
  }
  try {
    await fs.rename(temp, dir);
  } catch (error) {
    if (hadOld) await fs.rename(old, dir).catch(() => undefined);
    await fs.rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw ioError(dir, `could not replace: ${describe(error)}`);
  }
  await fsyncDirectory(parent);
  if (hadOld) await fs.rm(old, { recursive: true, force: true }).catch(() => undefined);
}
