/**
 * Reading a file, raw or gzip-compressed, whose length its own header dictates. The header is
 * read first (a few bytes; for gzip, only as much is inflated as needed), so the caller can
 * validate it before anything large is allocated; then the body is read into a buffer of exactly
 * the size the caller keeps. A gzip stream is inflated chunk by chunk and stopped as soon as it
 * runs past the length the header implies, so a gzip bomb costs no more than the honest file.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { PollardError, badInput, ioError } from '../../../shared/errors';
import { formatCount } from './limits';

const GZIP_MAGIC = [0x1f, 0x8b];
/** Bigger chunks than the 16 KiB defaults: a tenth of the per-chunk overhead on a 47 MB file. */
const STREAM_CHUNK = 1 << 18;

/** A read failure as a PollardError naming the file; PollardErrors pass through. */
export function readError(file: string, error: unknown): Error {
  if (error instanceof PollardError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return ioError(file, 'file not found');
  if (code === 'EACCES' || code === 'EPERM') return ioError(file, 'permission denied');
  if (code === 'EISDIR') return ioError(file, 'is a folder, not a file');
  if (typeof code === 'string' && code.startsWith('Z_')) {
    const detail = (error as Error).message;
    return /unexpected end of file/i.test(detail)
      ? badInput(file, 'truncated gzip data (unexpected end of file)')
      : badInput(file, `not valid gzip data (${detail})`);
  }
  return ioError(file, `could not read: ${error instanceof Error ? error.message : String(error)}`);
}

/** Whether the file starts with the gzip magic bytes (its name is not trusted). */
export async function isGzipFile(file: string): Promise<boolean> {
  const head = await readRawPrefix(file, 2);
  return head.length === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

async function readRawPrefix(file: string, length: number): Promise<Buffer> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } catch (error) {
    throw readError(file, error);
  } finally {
    await handle?.close();
  }
}

/**
 * Up to `length` bytes from the start of `file`, inflated if it is gzip. Fewer bytes come back
 * only when the (inflated) file is shorter.
 */
export async function readPrefix(file: string, length: number): Promise<Buffer> {
  if (!(await isGzipFile(file))) return readRawPrefix(file, length);
  const input = createReadStream(file, { highWaterMark: STREAM_CHUNK });
  const gunzip = createGunzip({ chunkSize: STREAM_CHUNK });
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  const chunks: Buffer[] = [];
  let have = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= length) break;
    }
  } catch (error) {
    // A header that inflates fine followed by a damaged tail is reported by the full read.
    if (have < length) throw readError(file, error);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return Buffer.concat(chunks).subarray(0, length);
}

export interface SizedReadPlan {
  /** The exact (inflated) length the header implies, header included. */
  expectedLength: number;
  /** How that length breaks down, for messages: "16-byte header + 3 images of 28×28 bytes". */
  layout: string;
  /** Keep bytes [keepStart, keepStart + keepLength) of the (inflated) file. */
  keepStart: number;
  keepLength: number;
}

/**
 * Read the part of `file` that `plan` keeps, after checking that the whole (inflated) file is
 * exactly `plan.expectedLength` bytes long. Only `plan.keepLength` bytes are allocated.
 */
export async function readSized(file: string, plan: SizedReadPlan): Promise<Uint8Array> {
  const { expectedLength, layout, keepStart, keepLength } = plan;
  if (keepStart < 0 || keepLength < 0 || keepStart + keepLength > expectedLength) {
    throw new RangeError(`readSized: keep range ${keepStart}+${keepLength} is outside ${expectedLength}`);
  }
  const truncated = (have: string): Error =>
    badInput(file, `truncated: the header implies ${formatCount(expectedLength)} bytes (${layout}), ${have}`);
  const tooLong = (have: string): Error =>
    badInput(
      file,
      `longer than its header implies: ${formatCount(expectedLength)} bytes (${layout}), ${have}`,
    );

  if (!(await isGzipFile(file))) {
    let handle: fs.FileHandle | undefined;
    try {
      handle = await fs.open(file, 'r');
      const { size } = await handle.stat();
      if (size < expectedLength) throw truncated(`but the file has ${formatCount(size)}`);
      if (size > expectedLength) throw tooLong(`but the file has ${formatCount(size)}`);
      const kept = new Uint8Array(keepLength);
      let done = 0;
      while (done < keepLength) {
        const { bytesRead } = await handle.read(kept, done, keepLength - done, keepStart + done);
        if (bytesRead === 0) throw truncated('but the file ended early while it was read');
        done += bytesRead;
      }
      return kept;
    } catch (error) {
      throw readError(file, error);
    } finally {
      await handle?.close();
    }
  }

  const kept = new Uint8Array(keepLength);
  const keepEnd = keepStart + keepLength;
  const input = createReadStream(file, { highWaterMark: STREAM_CHUNK });
  const gunzip = createGunzip({ chunkSize: STREAM_CHUNK });
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  let position = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const chunkEnd = position + chunk.length;
      if (chunkEnd > expectedLength) {
        throw tooLong(`but it inflates to more than ${formatCount(expectedLength)}`);
      }
      const from = Math.max(position, keepStart);
      const to = Math.min(chunkEnd, keepEnd);
      if (from < to) kept.set(chunk.subarray(from - position, to - position), from - keepStart);
      position = chunkEnd;
    }
  } catch (error) {
    throw readError(file, error);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  if (position < expectedLength) throw truncated(`but the file inflates to ${formatCount(position)}`);
  return kept;
}
