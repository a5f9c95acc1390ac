/**
 * Streaming the regular files out of a .tar.gz without extracting it to disk. Nothing is written,
 * but entry names are still checked: an archive whose entries climb out of it (`../x`, `/etc/x`)
 * is refused outright, because it was made to attack extractors. The inflated stream is counted
 * and stopped past a cap, so a gzip bomb costs no more than the cap.
 */
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { PollardError, badInput } from '../../../shared/errors';
import { formatCount } from './limits';
import { readError } from './sized-read';

export interface TarFileEntry {
  /** The entry's path inside the archive, as stored. */
  name: string;
  size: number;
  /** The entry's bytes; read it fully or not at all (unread bytes are skipped). */
  stream: AsyncIterable<Buffer>;
}

/** Whether an archive path stays inside the archive: relative, no `..` segment. */
export function isSafeArchivePath(name: string): boolean {
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return false;
  return !name.split(/[/\\]/).includes('..');
}

class ByteCounter extends Transform {
  private total = 0;

  constructor(
    private readonly file: string,
    private readonly cap: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.total += chunk.length;
    if (this.total > this.cap) {
      callback(badInput(this.file, `inflates to more than ${formatCount(this.cap)} bytes, over the limit`));
      return;
    }
    callback(null, chunk);
  }
}

/**
 * Visit every regular file in the gzip-compressed tar `file`, in archive order. `visit` must
 * consume `entry.stream` or leave it untouched; its errors stop the walk and are rethrown.
 */
export async function forEachTarFile(
  file: string,
  maxInflatedBytes: number,
  visit: (entry: TarFileEntry) => Promise<void>,
): Promise<void> {
  const input = createReadStream(file);
  const gunzip = createGunzip();
  const counter = new ByteCounter(file, maxInflatedBytes);
  const extract = tar.extract();
  const fail = (error: Error): void => {
    extract.destroy(error);
  };
  input.on('error', fail);
  gunzip.on('error', fail);
  counter.on('error', fail);
  input.pipe(gunzip).pipe(counter).pipe(extract);
  try {
    for await (const entry of extract) {
      const { name, type, size, linkname } = entry.header;
      if (!isSafeArchivePath(name)) {
        throw badInput(file, `archive entry "${name}" points outside the archive; refusing the archive`);
      }
      if (linkname && !isSafeArchivePath(linkname)) {
        throw badInput(
          file,
          `archive entry "${name}" links to "${linkname}", outside the archive; refusing the archive`,
        );
      }
      if (type === 'file' || type === 'contiguous-file') {
        await visit({ name, size: size ?? 0, stream: entry as AsyncIterable<Buffer> });
      }
      // Drain what the visitor did not read, so the walk can move on.
      entry.resume();
    }
  } catch (error) {
    if (error instanceof PollardError) throw error;
    if (error instanceof Error && /Unexpected end of data/i.test(error.message)) {
      throw badInput(file, 'truncated tar archive (unexpected end of data)');
    }
    if (error instanceof Error && /Invalid tar header/i.test(error.message)) {
      throw badInput(file, `not a tar archive inside the gzip (${error.message})`);
    }
    throw readError(file, error);
  } finally {
    input.destroy();
    gunzip.destroy();
    counter.destroy();
    extract.destroy();
  }
}
