/**
 * Recognises what a file really is from its first bytes, before any parser sees it, so that a
 * web page, a Git LFS pointer, a pickle or a truncated download saved as `.h5`/`.keras` gets
 * a message that says so instead of an HDF5 or zip stack trace.
 */
import { promises as fs } from 'node:fs';
import { badInput, ioError, unsupported } from '../../../../shared/errors';

export type SniffedKind = 'hdf5' | 'zip' | 'html' | 'lfs-pointer' | 'pickle' | 'json' | 'unknown';

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** HDF5 allows a user block before the superblock: 0, 512, 1024, 2048, … bytes. */
const HDF5_SIGNATURE_OFFSETS = [0, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];
const HEAD_BYTES = 65536 + 64;

export interface SniffResult {
  kind: SniffedKind;
  /** Offset of the HDF5 superblock, for kind 'hdf5'. */
  hdf5Offset?: number;
}

function startsWith(bytes: Uint8Array, at: number, expected: readonly number[]): boolean {
  if (bytes.length < at + expected.length) return false;
  return expected.every((value, index) => bytes[at + index] === value);
}

function asciiHead(bytes: Uint8Array, length = 512): string {
  return Buffer.from(bytes.subarray(0, length)).toString('latin1');
}

export function sniffBytes(bytes: Uint8Array): SniffResult {
  for (const offset of HDF5_SIGNATURE_OFFSETS) {
    if (startsWith(bytes, offset, HDF5_SIGNATURE)) return { kind: 'hdf5', hdf5Offset: offset };
  }
  if (startsWith(bytes, 0, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, 0, [0x50, 0x4b, 0x05, 0x06])) {
    return { kind: 'zip' };
  }
  // Pickle protocol 2..5 starts with PROTO (0x80) and the protocol number.
  if (bytes[0] === 0x80 && bytes[1] !== undefined && bytes[1] >= 2 && bytes[1] <= 5)
    return { kind: 'pickle' };
  const head = asciiHead(bytes);
  if (head.startsWith('version https://git-lfs.github.com/spec/')) return { kind: 'lfs-pointer' };
  const trimmed = head
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (trimmed.startsWith('<!doctype html') || trimmed.startsWith('<html') || trimmed.startsWith('<head')) {
    return { kind: 'html' };
  }
  if (trimmed.startsWith('{')) return { kind: 'json' };
  return { kind: 'unknown' };
}

export async function readHead(
  file: string,
  length = HEAD_BYTES,
): Promise<{ head: Uint8Array; size: number }> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(length, size));
    await handle.read(head, 0, head.length, 0);
    return { head, size };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw ioError(file, 'file not found');
    if (code === 'EACCES' || code === 'EPERM') throw ioError(file, 'permission denied');
    if (code === 'EISDIR') throw badInput(file, 'is a folder, not a model file');
    throw ioError(file, `could not read: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await handle?.close();
  }
}

/** The error for a file whose bytes are not the expected container, or undefined when they are. */
export function wrongContentError(
  file: string,
  sniffed: SniffResult,
  expected: 'hdf5' | 'zip',
): Error | undefined {
  if (sniffed.kind === expected) return undefined;
  switch (sniffed.kind) {
    case 'html':
      return badInput(
        file,
        'looks like an HTML page, not a model file (download the raw file, not the web page)',
      );
    case 'lfs-pointer':
      return badInput(file, 'is a Git LFS pointer, not the model: run git lfs pull');
    case 'pickle':
      return unsupported(
        file,
        'is a Python pickle, which can run arbitrary code when loaded; Pollard opens Keras .h5/.keras and TensorFlow.js model.json files',
      );
    case 'zip':
      return badInput(file, 'is a zip archive, not an HDF5 file (a Keras 3 model should be named .keras)');
    case 'hdf5':
      return badInput(
        file,
        'is an HDF5 file, not a .keras zip archive (a Keras 2 model should be named .h5)',
      );
    default:
      return badInput(
        file,
        expected === 'hdf5' ? 'is not an HDF5 file (no HDF5 signature)' : 'is not a zip archive',
      );
  }
}

/**
 * The end-of-file address an HDF5 superblock declares (versions 0–3), relative to the start
 * of the file, or undefined when the header is too short to tell. A file shorter than this
 * was cut off in transfer.
 */
export function hdf5DeclaredEnd(head: Uint8Array, offset: number): number | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const at = offset + 8;
  if (head.length < at + 1) return undefined;
  const version = view.getUint8(at);
  let sizeOfOffsets: number;
  let baseAt: number;
  if (version === 0 || version === 1) {
    if (head.length < at + 6) return undefined;
    sizeOfOffsets = view.getUint8(at + 5);
    baseAt = at + 16 + (version === 1 ? 4 : 0);
    const eofAt = baseAt + 2 * sizeOfOffsets;
    return readAddress(view, baseAt, sizeOfOffsets, eofAt, offset);
  }
  if (version === 2 || version === 3) {
    if (head.length < at + 2) return undefined;
    sizeOfOffsets = view.getUint8(at + 1);
    baseAt = at + 4;
    const eofAt = baseAt + 2 * sizeOfOffsets;
    return readAddress(view, baseAt, sizeOfOffsets, eofAt, offset);
  }
  return undefined;
}

function readAddress(
  view: DataView,
  baseAt: number,
  size: number,
  eofAt: number,
  superblockOffset: number,
): number | undefined {
  if (size !== 8 && size !== 4) return undefined;
  if (view.byteLength < eofAt + size) return undefined;
  const read = (at: number): number =>
    size === 8 ? Number(view.getBigUint64(at, true)) : view.getUint32(at, true);
  const base = read(baseAt);
  const eof = read(eofAt);
  // An undefined address is all ones; base 0 means "the superblock's own position".
  if (!Number.isSafeInteger(eof) || !Number.isSafeInteger(base)) return undefined;
  return (base === 0 ? superblockOffset : base) + eof;
}
